"""Layers the task plugins share and PyTorch lacks (e.g. a locally connected layer)."""
