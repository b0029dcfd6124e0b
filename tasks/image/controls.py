"""Controls that switch one of the lecture's three properties off in image data (tensors (N, C, H, W)).

- locality: one fixed random permutation of the pixel positions, the same for every image, train and test
  (a fully connected net is indifferent to it: it is a relabelling of its inputs);
- patterns anywhere: test images shifted sideways by s pixels, the model trained on unshifted ones;
- subsampling: images averaged down by a factor (2: 28x28 -> 14x14), train and test.
"""

from __future__ import annotations

import dataclasses

import torch
import torch.nn.functional as F

from cnnbench.data.stream import StreamedInputs
from cnnbench.errors import UsageError
from cnnbench.modules.shift import shift
from cnnbench.spec import Splits, TensorData

PERMUTATION_SEED = 1234  # fixed: every run and seed sees the same permutation


def permute_pixels(x: torch.Tensor, seed: int = PERMUTATION_SEED) -> torch.Tensor:
    n, c, h, w = x.shape
    order = torch.randperm(h * w, generator=torch.Generator().manual_seed(seed))
    return x.reshape(n, c, h * w)[:, :, order].reshape(n, c, h, w)


def downsample(x: torch.Tensor, factor: int) -> torch.Tensor:
    return F.avg_pool2d(x, factor) if factor > 1 else x


def apply(splits: Splits, permute: str, factor: int) -> Splits:
    """The loaded splits with the permutation and the downsampling the options ask for, noted in the record."""
    if permute == "none" and factor == 1:
        return splits
    if isinstance(splits.train.x, StreamedInputs):
        raise UsageError(f"{splits.train.source}: permute and downsample need the images in memory (this data set "
                         "is streamed); raise memory_cap_mb")  # fmt: skip

    def one(d: TensorData) -> TensorData:
        x = downsample(d.x, factor)
        return dataclasses.replace(d, x=permute_pixels(x) if permute == "pixels" else x)

    notes = dict(splits.notes) | {"permute": permute, "permutation_seed": PERMUTATION_SEED, "downsample": factor}
    dev = one(splits.dev) if splits.dev is not None else None
    return Splits(one(splits.train), one(splits.test), notes, dev, splits.data)


def shifted_tests(test: TensorData, max_shift: int) -> dict[str, TensorData]:
    """The test split shifted by 0..max_shift pixels, background-filled: {"0": test, "1": ..., ...}."""
    fill = float(test.x.min())
    return {str(s): dataclasses.replace(test, x=shift(test.x, s, fill)) for s in range(max_shift + 1)}
