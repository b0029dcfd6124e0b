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


def token_saliency(model: nn.Module, ids: torch.Tensor, target: torch.Tensor, pad_id: int = 0) -> torch.Tensor:
    """(B, T): the norm of d score_target / d (word vector) per token, summed over the model's
    embedding layers (e.g. both channels of a multichannel net). Inputs are ids, so the gradient is
    taken at the embeddings' outputs; padding positions get 0 (their input cannot change)."""
    model.eval()
    outs: list[torch.Tensor] = []

    def keep(_m: nn.Module, _i: object, out: torch.Tensor) -> torch.Tensor:
        out = out.detach().requires_grad_(True)
        outs.append(out)
        return out

    handles = [m.register_forward_hook(keep) for m in model.modules() if isinstance(m, nn.Embedding)]
    if not handles:
        raise ValueError("the model has no embedding layer")
    try:
        scores = model(ids)
        grads = torch.autograd.grad(scores.gather(1, target[:, None]).sum(), outs)
    finally:
        for h in handles:
            h.remove()
    sal = sum(g.norm(dim=-1) for g in grads)
    out = torch.zeros(ids.shape, dtype=sal.dtype)
    out[:, : sal.shape[1]] = sal[:, : ids.shape[1]]
    return out.masked_fill(ids == pad_id, 0.0)


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
