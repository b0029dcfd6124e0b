"""Style transfer (Gatys, Ecker & Bethge 2015, arXiv 1508.06576): an image whose filter outputs match one
image's content and whose filter correlations (Gram matrices) match another image's style."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from tqdm import tqdm

from cnnbench.explain.attribution import gram


def conv_features(model: nn.Module, x: torch.Tensor) -> list[torch.Tensor]:
    """The outputs of every Conv2d of the model for x (one batch), in call order."""
    feats: list[torch.Tensor] = []
    handles = [m.register_forward_hook(lambda _m, _i, out: feats.append(out))
               for m in model.modules() if isinstance(m, nn.Conv2d)]  # fmt: skip
    if not handles:
        raise ValueError("the feature extractor has no Conv2d layer")
    try:
        model(x)
    finally:
        for h in handles:
            h.remove()
    return feats


@dataclass(frozen=True)
class StyleResult:
    image: torch.Tensor
    style_losses: list[float]  # per step
    content_losses: list[float]


def transfer(
    model: nn.Module,
    content: torch.Tensor,
    style: torch.Tensor,
    steps: int = 200,
    lr: float = 0.02,
    style_weight: float = 1e3,
    content_layer: int | None = None,
    progress: bool = False,
) -> StyleResult:
    """Optimise an image (started from the content image) on content + weighted style loss.

    content_layer indexes the conv layers (default: the middle one); every conv layer carries style.
    """
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    with torch.no_grad():
        c_feats = conv_features(model, content[None])
        s_grams = [gram(f[0]) for f in conv_features(model, style[None])]
    k = len(c_feats) // 2 if content_layer is None else content_layer
    x = content[None].clone().requires_grad_(True)
    opt = torch.optim.Adam([x], lr=lr)
    style_losses, content_losses = [], []
    for _ in tqdm(range(steps), desc="style transfer", disable=not progress, leave=False):
        opt.zero_grad()
        feats = conv_features(model, x)
        c_loss = (feats[k] - c_feats[k]).pow(2).mean()
        s_loss = sum((gram(f[0]) - g).pow(2).mean() for f, g in zip(feats, s_grams, strict=True))
        (c_loss + style_weight * s_loss).backward()
        opt.step()
        style_losses.append(float(s_loss.detach()))
        content_losses.append(float(c_loss.detach()))
    return StyleResult(x.detach()[0], style_losses, content_losses)
