"""Measuring models: timing, phases, counting parameters and FLOPs, interference, interleaved ratios, speed options."""
