"""Activation maximisation: x* = argmax_x a^k by gradient ascent on the input, the weights frozen."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from tqdm import tqdm

from cnnbench.explain.layers import activation, unit_score


@dataclass(frozen=True)
class Settings:
    steps: int = 200
    lr: float = 0.1
    l1: float = 0.0  # penalty on |x|: fewer, stronger pixels (the lecture's constraint)
    tv: float = 0.0  # total-variation penalty: smoother images
    nonneg: bool = False  # clamp pixels to >= low (no 'negative ink')
    low: float = -0.5  # the pixel range of the model's (normalised) input
    high: float = 3.0
    seed: int = 0


@dataclass(frozen=True)
class Result:
    image: torch.Tensor  # one sample, no batch dimension
    start: float  # a^k of the starting image
    end: float  # a^k of the result


def _tv(x: torch.Tensor) -> torch.Tensor:
    return (x[..., 1:, :] - x[..., :-1, :]).abs().mean() + (x[..., :, 1:] - x[..., :, :-1]).abs().mean()


def maximize(
    model: nn.Module, layer: str, unit: int, shape: tuple[int, ...], settings: Settings, progress: bool = False
) -> Result:
    """Gradient ascent from small seeded noise; deterministic for a seed."""
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    gen = torch.Generator().manual_seed(settings.seed)
    x = (0.01 * torch.randn(1, *shape, generator=gen)).requires_grad_(True)
    opt = torch.optim.Adam([x], lr=settings.lr)
    low = 0.0 if settings.nonneg else settings.low
    with torch.no_grad():
        start = unit_score(activation(model, layer, x), unit).item()
    for _ in tqdm(range(settings.steps), desc=f"maximise {layer}[{unit}]", disable=not progress, leave=False):
        opt.zero_grad()
        score = unit_score(activation(model, layer, x), unit).sum()
        loss = -score + settings.l1 * x.abs().sum() + settings.tv * _tv(x)
        loss.backward()
        opt.step()
        with torch.no_grad():
            x.clamp_(low, settings.high)
    with torch.no_grad():
        end = unit_score(activation(model, layer, x), unit).item()
    return Result(x.detach()[0], start, end)
