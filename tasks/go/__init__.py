"""The Go task: an AlphaGo-style policy network on 19x19 feature planes, no pooling."""
