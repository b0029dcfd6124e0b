"""The 8 symmetries of the board (rotations and reflections) as permutations of the 361 points."""

from __future__ import annotations

import functools

import torch


@functools.lru_cache
def permutations(size: int = 19) -> torch.Tensor:
    """(8, size*size) int64: row s maps a transformed board's point i to the original point perm[s, i]."""
    grid = torch.arange(size * size).reshape(size, size)
    out = []
    for flip in (False, True):
        g = grid.t() if flip else grid
        for k in range(4):
            out.append(torch.rot90(g, k, (0, 1)).reshape(-1))
    return torch.stack(out)


def inverse(perm: torch.Tensor) -> torch.Tensor:
    inv = torch.empty_like(perm)
    inv[perm] = torch.arange(len(perm))
    return inv


def transform(x: torch.Tensor, s: int) -> torch.Tensor:
    """Symmetry s of a batch of planes (..., size, size)."""
    size = x.shape[-1]
    perm = permutations(size)[s].to(x.device)
    return x.flatten(-2)[..., perm].reshape(x.shape)


def untransform_points(logits: torch.Tensor, s: int, size: int = 19) -> torch.Tensor:
    """Per-point values (B, size*size) computed on symmetry s of a board, back in the original frame."""
    perm = permutations(size)[s].to(logits.device)
    return logits[..., inverse(perm)]
