"""The locally connected layer scored without gradients: a large batch in slices of SCORING_SLICE against the
whole batch at once (its patches and their transposed copy out of the caches), interleaved
(cnnbench.measure.interleave); the ratio whole/sliced with its bootstrap interval goes to the output and the
benchmark's extra_info."""

from __future__ import annotations

import pytest
import torch

from cnnbench.measure.interleave import benchmark_ratio, interleaved_ratio
from cnnbench.modules.locally_connected import LocallyConnected2d


# the lecture's second layer on MNIST (the image ladder's costly rung), at half of predict()'s scoring batch
# (the whole 1,024 takes seconds a pass on 2 busy cores)
@pytest.mark.parametrize(("c_in", "c_out", "size", "batch"), [(25, 50, (26, 26), 512)])
def test_sliced_vs_whole_batch_scoring(benchmark, c_in: int, c_out: int, size: tuple[int, int], batch: int) -> None:
    torch.manual_seed(0)
    layer = LocallyConnected2d(c_in, c_out, size, 3).eval()
    x = torch.randn(batch, c_in, *size)

    def compare():
        with torch.inference_mode():
            return interleaved_ratio(lambda: layer(x), lambda: layer._forward(x), rounds=7, reps=1)

    benchmark_ratio(benchmark, "locally connected scoring", compare, f"{c_in}->{c_out} maps at {size}, batch {batch}",
                    "sliced", "whole", batch=batch)  # fmt: skip
    with torch.inference_mode():
        torch.testing.assert_close(layer(x), layer._forward(x), atol=1e-5, rtol=1e-5)
