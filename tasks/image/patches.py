"""Statistics of small patches of the training images, for models whose first layer whitens them (the fast
CIFAR-10 net): fitted on the training split only and kept in checkpoints as the image task's DataExtra."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from cnnbench.data.stream import StreamedInputs
from cnnbench.spec import DataExtra

PATCH = 2  # side of the patches: the fast net's 2x2 whitening layer (Jordan 2024)
MAX_IMAGES = 5000  # Jordan 2024 fit the whitening on 5,000 training images
MAX_PATCHES = 5_000_000  # about those images' 2x2 patches at 32x32; larger images use fewer images
SUBSET_SEED = 0  # the images are a fixed random subset: the loaders give them sorted by class


@dataclass(frozen=True)
class PatchStats(DataExtra):
    """Mean (D,) and covariance (D, D) of the training images' size x size patches, D = channels x size^2."""

    size: int
    mean: torch.Tensor
    cov: torch.Tensor

    @classmethod
    def fit(cls, x: torch.Tensor | StreamedInputs, size: int = PATCH) -> PatchStats | None:
        """From images (N, C, H, W), in memory or streamed (the subset is read); None for other shapes or images
        smaller than a patch."""
        if len(x.shape) != 4 or min(x.shape[-2:]) < size or len(x) == 0:  # a tensor or a stream
            return None
        per_image = (x.shape[-2] - size + 1) * (x.shape[-1] - size + 1)
        n = min(len(x), MAX_IMAGES, max(1, MAX_PATCHES // per_image))
        picked = torch.randperm(len(x), generator=torch.Generator().manual_seed(SUBSET_SEED))[:n]
        d = x.shape[1] * size * size
        total, outer, count = torch.zeros(d, dtype=torch.float64), torch.zeros(d, d, dtype=torch.float64), 0
        chunk = max(1, 500_000 // per_image)  # images per pass: at most ~500,000 patches in memory
        for start in range(0, n, chunk):
            images = x[picked[start : start + chunk].to(x.device)].double().cpu()
            patches = torch.nn.functional.unfold(images, size).transpose(1, 2).reshape(-1, d)  # (patches, D)
            total += patches.sum(0)
            outer += patches.T @ patches
            count += len(patches)
        mean = total / count
        cov = outer / count - torch.outer(mean, mean)
        return cls(size, mean.float(), cov.float())
