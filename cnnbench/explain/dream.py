"""Deep Dream: make the net exaggerate what it sees in an image (push every activation of a layer
further from zero by gradient ascent on the image), optionally over several scales (octaves)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from cnnbench.explain.layers import activation


def dream(
    model: nn.Module,
    image: torch.Tensor,
    layer: str,
    steps: int = 20,
    lr: float = 0.05,
    octaves: int = 1,
    scale: float = 1.4,
    progress: bool = False,
) -> tuple[torch.Tensor, float, float]:
    """(dreamed image, objective before, objective after) for one image (C, H, W).

    The objective 0.5 * sum(a^2) has gradient a: positive activations go up, negative ones down.
    Each octave works on a smaller copy first; the detail it adds is carried up to full size.
    """
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)

    def objective(x: torch.Tensor) -> torch.Tensor:
        return 0.5 * activation(model, layer, x).pow(2).sum()

    full = image[None].clone()
    _, _, h, w = full.shape
    sizes = [(max(4, round(h / scale**k)), max(4, round(w / scale**k))) for k in reversed(range(octaves))]
    with torch.no_grad():
        before = objective(full).item()
    detail = torch.zeros_like(full)
    bar = tqdm(total=steps * len(sizes), desc=f"dream {layer}", disable=not progress, leave=False)
    for size in sizes:
        base = F.interpolate(full, size=size, mode="bilinear", align_corners=False)
        det = F.interpolate(detail, size=size, mode="bilinear", align_corners=False)
        x = (base + det).requires_grad_(True)
        for _ in range(steps):
            (grad,) = torch.autograd.grad(objective(x), x)
            with torch.no_grad():
                x += lr * grad / (grad.abs().mean() + 1e-8)  # normalised step, as in the original Deep Dream
            bar.update(1)
        detail = (x.detach() - base).detach()
    bar.close()
    result = full + F.interpolate(detail, size=(h, w), mode="bilinear", align_corners=False)
    with torch.no_grad():
        after = objective(result).item()
    return result[0].detach(), before, after
