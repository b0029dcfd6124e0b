"""Batched random transforms over the last two axes of a tensor (N, ..., H, W), on its device: a mirror, a shift
(pad, then crop at a per-sample offset) and cutout. Each draws all its random numbers for the batch at once from
a generator on the batch's device, and moves data with tensor indexing: no Python loop over samples.

The transforms follow the published recipes: He et al. 2016 (Sec. 4.2) pad CIFAR images by 4 pixels and crop a
random 32x32 window, and mirror half of them; Jordan 2024 (arXiv 2404.00498) shifts by at most 2 pixels
with reflection padding; cutout is DeVries & Taylor 2017 (a square of zeros at a uniformly drawn centre, cut
off at the border). The test-time views are Jordan 2024's: the mirror, and shifts by one place up-left and
down-right, the unshifted pair weighted 1/2.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from cnnbench.errors import UsageError
from cnnbench.spec import PAD_MODES, Augment, Augmentation


def mirror(x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """x mirrored along its last axis: every sample, or those where the boolean mask (N,) is True."""
    flipped = x.flip(-1)
    if mask is None:
        return flipped
    return torch.where(mask.view(-1, *([1] * (x.dim() - 1))), flipped, x)


def padded(x: torch.Tensor, pad: int, mode: str = "zeros") -> torch.Tensor:
    """x with `pad` places added on both sides of its last two axes: zeros or the reflection of the border."""
    if pad == 0:
        return x
    if mode not in PAD_MODES:
        raise ValueError(f"unknown padding {mode!r}; valid: {', '.join(PAD_MODES)}")
    if mode == "zeros":
        return F.pad(x, (pad, pad, pad, pad))
    if pad >= min(x.shape[-2:]):
        raise UsageError(f"reflection padding by {pad} needs samples larger than {pad} along the last two axes, "
                         f"got {tuple(x.shape[-2:])}")  # fmt: skip
    shape = x.shape  # reflection padding takes (N, C, H, W): fold any other leading axes into N
    out = F.pad(x.reshape(-1, 1, *shape[-2:]), (pad, pad, pad, pad), mode="reflect")
    return out.reshape(*shape[:-2], shape[-2] + 2 * pad, shape[-1] + 2 * pad)


def crop(big: torch.Tensor, top: torch.Tensor, left: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """From each sample of big (N, ..., H', W'), the height x width window at its own (top, left) offset (N,)."""
    n = big.shape[0]
    rows = (top.view(n, 1) + torch.arange(height, device=big.device)).view(n, *([1] * (big.dim() - 3)), height, 1)
    cols = (left.view(n, 1) + torch.arange(width, device=big.device)).view(n, *([1] * (big.dim() - 3)), 1, width)
    rows = rows.expand(*big.shape[:-2], height, big.shape[-1])
    tall = big.gather(-2, rows)  # (N, ..., height, W')
    cols = cols.expand(*big.shape[:-2], height, width)
    return tall.gather(-1, cols)


def shift(x: torch.Tensor, dy: torch.Tensor, dx: torch.Tensor, max_shift: int, mode: str = "zeros") -> torch.Tensor:
    """Each sample moved by its own (dy, dx) in [-max_shift, max_shift] (down and right are positive); what the
    move uncovers is padding (zeros or the reflection)."""
    h, w = x.shape[-2:]
    return crop(padded(x, max_shift, mode), max_shift - dy, max_shift - dx, h, w)


def random_shift(x: torch.Tensor, max_shift: int, generator: torch.Generator, mode: str = "zeros") -> torch.Tensor:
    """Each sample shifted by a uniform (dy, dx) in [-max_shift, max_shift]^2: pad once, crop per sample."""
    if max_shift == 0:
        return x
    offsets = torch.randint(0, 2 * max_shift + 1, (2, x.shape[0]), generator=generator, device=x.device)
    return crop(padded(x, max_shift, mode), offsets[0], offsets[1], *x.shape[-2:])


def cutout(x: torch.Tensor, size: int, generator: torch.Generator) -> torch.Tensor:
    """Each sample with a size x size square set to zero around a uniformly drawn centre (cut at the border)."""
    if size == 0:
        return x
    n, (h, w) = x.shape[0], x.shape[-2:]
    centre = torch.rand(2, n, generator=generator, device=x.device)
    top = (centre[0] * h).long() - size // 2
    left = (centre[1] * w).long() - size // 2
    rows = torch.arange(h, device=x.device).view(1, h) - top.view(n, 1)
    cols = torch.arange(w, device=x.device).view(1, w) - left.view(n, 1)
    inside = ((rows >= 0) & (rows < size)).view(n, h, 1) & ((cols >= 0) & (cols < size)).view(n, 1, w)
    return x.masked_fill(inside.view(n, *([1] * (x.dim() - 3)), h, w), 0)


class SpatialAugment(Augmentation):
    """An Augment spec as transforms of the last two axes: random mirror, shift and cutout in training (in that
    order, as the recipes apply them), the mirror and one-place shifts as test-time views."""

    def __init__(self, spec: Augment) -> None:
        if spec.pad not in PAD_MODES:
            raise ValueError(f"unknown padding {spec.pad!r}; valid: {', '.join(PAD_MODES)}")
        self.spec = spec

    def train(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        spec = self.spec
        if spec.flip:
            x = mirror(x, torch.rand(x.shape[0], generator=generator, device=x.device) < 0.5)
        x = random_shift(x, spec.translate, generator, spec.pad)
        return cutout(x, spec.cutout, generator)

    def views(self, x: torch.Tensor) -> list[tuple[float, torch.Tensor]]:
        """The batch (and its mirror, with flip), and with translate also the batch shifted one place up-left and
        one down-right (each with its mirror): the unshifted views weigh 1/2 in all, the shifted 1/2."""
        plain = [x, mirror(x)] if self.spec.flip else [x]
        if not self.spec.translate:
            return [(1 / len(plain), v) for v in plain]
        n = x.shape[0]
        ones = torch.ones(n, dtype=torch.long, device=x.device)
        moved = [shift(x, -ones, -ones, 1, self.spec.pad), shift(x, ones, ones, 1, self.spec.pad)]
        if self.spec.flip:
            moved += [mirror(v) for v in moved]
        return [(0.5 / len(plain), v) for v in plain] + [(0.5 / len(moved), v) for v in moved]
