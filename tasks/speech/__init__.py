"""The speech task: spectrograms, filters that slide only along frequency."""
