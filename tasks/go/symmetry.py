"""The 8 symmetries of the board (rotations and reflections) as permutations of the 361 points."""

from __future__ import annotations

import functools

import torch


@functools.lru_cache
def permutations(size: int = 19, device: torch.device | None = None) -> torch.Tensor:
    """(8, size*size) int64: row s maps a transformed board's point i to the original point perm[s, i].

    Cached per device, so a training step does not copy it from the host.
    """
    if device is not None and torch.device(device) != torch.device("cpu"):
        return permutations(size).to(device)
    grid = torch.arange(size * size).reshape(size, size)
    out = []
    for flip in (False, True):
        g = grid.t() if flip else grid
        for k in range(4):
            out.append(torch.rot90(g, k, (0, 1)).reshape(-1))
    return torch.stack(out)


@functools.lru_cache
def inverses(size: int = 19, device: torch.device | None = None) -> torch.Tensor:
    """(8, size*size): row s undoes row s of permutations()."""
    return torch.argsort(permutations(size, device), dim=1)


def transform(x: torch.Tensor, s: int) -> torch.Tensor:
    """Symmetry s of a batch of planes (..., size, size)."""
    size = x.shape[-1]
    perm = permutations(size, x.device)[s]
    return x.flatten(-2)[..., perm].reshape(x.shape)


def untransform_points(logits: torch.Tensor, s: int, size: int = 19) -> torch.Tensor:
    """Per-point values (B, size*size) computed on symmetry s of a board, back in the original frame."""
    return logits[..., inverses(size, logits.device)[s]]
