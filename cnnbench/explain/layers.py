"""Layers addressed by name, and their activations captured with forward hooks."""

from __future__ import annotations

import torch
from torch import nn

from cnnbench.errors import UsageError

OUTPUT = "output"  # the model's own output (class scores)


def layer_names(model: nn.Module) -> list[str]:
    """Names of the layers with weights (e.g. conv1, conv2, fc1), in definition order, then 'output'."""
    return [n for n, m in model.named_modules() if n and isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Linear))] + [OUTPUT]


def find_layer(model: nn.Module, name: str) -> nn.Module | None:
    """The named layer (None for 'output'); an unknown name lists the valid ones."""
    if name == OUTPUT:
        return None
    modules = dict(model.named_modules())
    if name not in modules or name not in layer_names(model):
        raise UsageError(f"unknown layer {name!r}; valid: {', '.join(layer_names(model))}")
    return modules[name]


def activation(model: nn.Module, layer: str, x: torch.Tensor) -> torch.Tensor:
    """The named layer's output for x (the model's output for 'output'), with gradients."""
    target = find_layer(model, layer)
    if target is None:
        return model(x)
    seen: dict[str, torch.Tensor] = {}
    handle = target.register_forward_hook(lambda _m, _i, out: seen.__setitem__("a", out))
    try:
        model(x)
    finally:
        handle.remove()
    return seen["a"]


def unit_score(a: torch.Tensor, unit: int) -> torch.Tensor:
    """The lecture's a^k: the sum of feature map k of a conv layer, or neuron k of a dense one; per sample."""
    if unit >= a.shape[1]:
        raise UsageError(f"unit {unit} does not exist; the layer has {a.shape[1]}")
    return a[:, unit].reshape(len(a), -1).sum(1)
