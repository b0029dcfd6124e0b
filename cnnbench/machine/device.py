"""Resolving --device; CUDA is never touched unless a GPU is present and asked for."""

from __future__ import annotations

import torch

from cnnbench.errors import UsageError

CHOICES = ("auto", "cpu", "cuda")


def resolve_device(name: str) -> torch.device:
    if name not in CHOICES:
        raise UsageError(f"unknown device {name!r}; valid: {', '.join(CHOICES)}")
    if name == "cpu":
        return torch.device("cpu")
    has_gpu = torch.cuda.is_available()
    if name == "cuda" and not has_gpu:
        raise UsageError("--device cuda was asked for but no CUDA GPU is available; use --device cpu or auto")
    return torch.device("cuda" if has_gpu else "cpu")
