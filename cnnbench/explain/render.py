"""How `cnnbench explain` draws a task's samples and explanations. Renderer is the image style every task gets by
default: (C, H, W) samples as pictures, saliency |dy/dx| beside each sample, occlusion maps. A task whose inputs
are no pictures (word ids, packed board planes) or want another view returns its own subclass from
Task.renderer(); the core never asks which task it draws."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from cnnbench.explain.attribution import occlusion, saliency
from cnnbench.explain.grid import save_grid
from cnnbench.spec import BuildContext


def picture(x: torch.Tensor) -> np.ndarray:
    """(C, H, W) or (H, W) -> something imshow draws: grey 2-D, or RGB scaled to [0, 1]."""
    a = x.detach().cpu().float().numpy()
    if a.ndim == 3 and a.shape[0] == 3:
        a = a.transpose(1, 2, 0)
        return (a - a.min()) / (a.max() - a.min() + 1e-12)
    return a.reshape(a.shape[-2], a.shape[-1]) if a.ndim >= 2 else a[None, :]


@dataclass(frozen=True)
class Samples:
    """Test samples to explain, prepared as the model sees them, with its predictions."""

    model: nn.Module
    x: torch.Tensor
    y: torch.Tensor
    probs: torch.Tensor  # the model's class probabilities
    index: list[int]  # positions in the test split
    context: BuildContext  # what the model was built from (e.g. a vocabulary to show words with)

    def title(self, i: int) -> str:
        return f"#{self.index[i]} true {int(self.y[i])}, pred {int(self.probs[i].argmax())}"


class Renderer:
    """The image style: every method writes one PNG into `out`, named from `stem`, and returns its path."""

    origin = "upper"  # where imshow puts row 0 of a sample
    aspect: str | None = None  # imshow's: None keeps pixels square

    def picture(self, x: torch.Tensor) -> np.ndarray:
        return picture(x)

    def saliency(self, s: Samples, out: Path, stem: str) -> Path:
        """Each sample beside |dy_true/dx| (the largest over channels)."""
        sal = saliency(s.model, s.x, s.y)
        pics, titles = [], []
        for i, k in enumerate(s.index):
            pics += [self.picture(s.x[i]), self.picture(sal[i].amax(0) if sal[i].dim() == 3 else sal[i])]
            titles += [s.title(i), f"#{k} |dy_{int(s.y[i])}/dx|"]
        return self.grid(pics, titles, out / f"{stem}_saliency.png")

    def occlusion(self, s: Samples, patch: int, stride: int, out: Path, stem: str) -> Path:
        """Each sample beside p(true class) with a background-coloured patch over each position."""
        pics, titles = [], []
        for i, k in enumerate(s.index):
            heat = occlusion(s.model, s.x[i], int(s.y[i]), patch, stride, fill=float(s.x[i].min()))
            pics += [self.picture(s.x[i]), heat.numpy()]
            titles += [f"#{k} true {int(s.y[i])}, p={s.probs[i, s.y[i]]:.2f}", f"#{k} p(true) with a {patch}px patch"]
        return self.grid(pics, titles, out / f"{stem}_occlusion.png")

    def grid(self, pictures: list[np.ndarray], titles: list[str], path: Path) -> Path:
        return save_grid(pictures, titles, path, cmap="viridis", origin=self.origin, aspect=self.aspect)
