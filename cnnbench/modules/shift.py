"""Moving a tensor's content along one axis, for controls that test whether a pattern is recognised anywhere."""

from __future__ import annotations

import torch


def shift(x: torch.Tensor, steps: int, fill: float, dim: int = -1) -> torch.Tensor:
    """x moved `steps` places along `dim` (towards higher indices; negative: lower); the places uncovered
    take `fill` (the background: blank pixels, silent bands)."""
    if steps == 0:
        return x
    n = x.shape[dim]
    out = torch.full_like(x, fill)
    if abs(steps) >= n:
        return out
    if steps > 0:
        out.narrow(dim, steps, n - steps).copy_(x.narrow(dim, 0, n - steps))
    else:
        out.narrow(dim, 0, n + steps).copy_(x.narrow(dim, -steps, n + steps))
    return out
