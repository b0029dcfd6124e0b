"""freq-cnn's frequency convolution: Conv1d with frames folded into channels vs the textbook Conv2d.

Both formulations run on the same weights and input, interleaved (cnnbench.measure.interleave), and the
ratio conv2d/conv1d with its bootstrap interval goes to the output and the benchmark's extra_info.
"""

from __future__ import annotations

import pytest
import torch

from cnnbench.measure.interleave import benchmark_ratio, interleaved_ratio
from cnnbench_tasks.speech.models import FreqConv


@pytest.mark.parametrize("frames", [101, 11])
def test_conv1d_vs_conv2d_formulation(benchmark, frames: int) -> None:
    torch.manual_seed(0)
    layer = FreqConv(1, frames, filters=128, bands=8).eval()
    x = torch.randn(64, 1, 40, frames)

    def compare():
        with torch.inference_mode():
            return interleaved_ratio(lambda: layer(x), lambda: layer.conv2d_reference(x), rounds=15, reps=5)

    benchmark_ratio(benchmark, "speech/freq-conv formulation", compare, f"freq conv, {frames} frames, batch 64",
                    "conv1d", "conv2d", frames=frames, batch=64)  # fmt: skip
    with torch.inference_mode():
        torch.testing.assert_close(layer(x), layer.conv2d_reference(x), atol=1e-4, rtol=1e-4)
