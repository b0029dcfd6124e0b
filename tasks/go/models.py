"""Policy networks over bit-packed feature planes: AlphaGo's (no pooling), a pooled variant, a DNN.

Inputs are rows of bytes: the planes (planes x 361 bits) then the legal-move mask (361 bits), packed
with numpy's packbits; the network unpacks them itself, so the data stays 8x smaller in memory.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from cnnbench_tasks.go.symmetry import transform, untransform_points

SIZE = 19
POINTS = SIZE * SIZE
ILLEGAL = -1e9  # logit of an illegal point at evaluation (finite: cross-entropy stays defined)


def packed_bytes(planes: int) -> int:
    return ((planes + 1) * POINTS + 7) // 8


def unpack(packed: torch.Tensor, planes: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, bytes) uint8 -> planes (B, planes, 19, 19) float32 and legal (B, 361) bool."""
    shifts = torch.arange(7, -1, -1, device=packed.device, dtype=torch.uint8)
    bits = ((packed.unsqueeze(-1) >> shifts) & 1).flatten(1)
    x = bits[:, : planes * POINTS].reshape(-1, planes, SIZE, SIZE).float()
    legal = bits[:, planes * POINTS : (planes + 1) * POINTS].bool()
    return x, legal


class AlphaGoPolicy(nn.Module):
    """Silver et al. (2016): 5x5 filters on the zero-padded board, then 3x3 layers, stride 1, ReLU,
    no pooling; a 1x1 convolution to one plane with a bias per point; softmax over the 361 points.

    layers counts every convolution (the paper: 13 = one 5x5, eleven 3x3, one 1x1; k = 192).
    pool inserts a 2x2 max pooling after the first layer and upsamples back to 19x19 before the
    1x1 layer: the lecture's 'why not pooling' as a model.
    """

    def __init__(self, planes: int, k: int = 192, layers: int = 13, pool: bool = False) -> None:
        super().__init__()
        if layers < 3:
            raise ValueError(f"layers must be at least 3 (5x5, 3x3, 1x1), got {layers}")
        self.first = nn.Conv2d(planes, k, 5, padding=2)  # padding 2: the paper's 23x23 zero-padded input
        self.pool = nn.MaxPool2d(2, ceil_mode=True) if pool else None
        self.body = nn.ModuleList(nn.Conv2d(k, k, 3, padding=1) for _ in range(layers - 2))
        self.head = nn.Conv2d(k, 1, 1, bias=False)
        self.point_bias = nn.Parameter(torch.zeros(POINTS))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.first(x))
        if self.pool is not None:
            h = self.pool(h)
        for conv in self.body:
            h = F.relu(conv(h))
        if self.pool is not None:
            h = F.interpolate(h, size=(SIZE, SIZE), mode="nearest")
        return self.head(h).flatten(1) + self.point_bias


class DensePolicy(nn.Module):
    """The fully connected baseline on the same planes."""

    def __init__(self, planes: int, hidden: int = 1024) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Flatten(), nn.Linear(planes * POINTS, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
            nn.Linear(hidden, POINTS),
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class Policy(nn.Module):
    """Packed positions in, move logits out.

    Training: each batch is seen under one of the 8 board symmetries, drawn at random, and the logits
    are mapped back (the same as augmenting positions and targets). Evaluation: illegal points are
    masked out; with ensemble=True the probabilities are averaged over the 8 symmetries.
    """

    def __init__(self, net: nn.Module, planes: int, ensemble: bool = False) -> None:
        super().__init__()
        self.net, self.planes, self.ensemble = net, planes, ensemble

    def compile_targets(self) -> list[nn.Module]:
        """--compile compiles the network only: forward draws a symmetry and unpacks bits in Python."""
        return [self.net]

    def _on_symmetry(self, x: torch.Tensor, s: int) -> torch.Tensor:
        return untransform_points(self.net(transform(x, s)), s, SIZE)

    def forward(self, packed: torch.Tensor) -> torch.Tensor:
        x, legal = unpack(packed, self.planes)
        if self.training:
            s = int(torch.randint(0, 8, ()))
            return self._on_symmetry(x, s)
        if self.ensemble:
            probs = torch.stack([F.softmax(self._on_symmetry(x, s), 1) for s in range(8)]).mean(0)
            logits = probs.clamp_min(1e-12).log()
        else:
            logits = self.net(x)
        return logits.masked_fill(~legal, ILLEGAL)
