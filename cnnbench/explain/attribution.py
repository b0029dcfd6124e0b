"""Which inputs a decision depends on: saliency |dy_k/dx| and occlusion with a sliding grey patch."""

from __future__ import annotations

import torch
from torch import nn


def saliency(model: nn.Module, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """|d score_target / d x| per input element, for a batch (same shape as x)."""
    model.eval()
    x = x.detach().clone().requires_grad_(True)
    scores = model(x)
    scores.gather(1, target[:, None]).sum().backward()
    return x.grad.detach().abs()


def occlusion(
    model: nn.Module, x: torch.Tensor, target: int, patch: int, stride: int, fill: float = 0.0
) -> torch.Tensor:
    """For one image (C, H, W): the target's probability with a patch x patch square of `fill` at each
    position (rows, cols of patch positions). Low values mark the regions the decision depends on."""
    model.eval()
    _, h, w = x.shape
    rows = range(0, h - patch + 1, stride)
    cols = range(0, w - patch + 1, stride)
    batch = []
    for r in rows:
        for c in cols:
            y = x.clone()
            y[:, r : r + patch, c : c + patch] = fill
            batch.append(y)
    with torch.no_grad():
        probs = model(torch.stack(batch)).softmax(1)[:, target]
    return probs.reshape(len(rows), len(cols))


def gram(features: torch.Tensor) -> torch.Tensor:
    """Gram matrix of (C, H, W) feature maps: channel correlations G_ij = sum_p F_ip F_jp / (H W)."""
    c = features.shape[0]
    f = features.reshape(c, -1)
    return f @ f.t() / f.shape[1]
