"""The text task's fastest equivalent formulations, each timed against its alternative on one input.

- full-height filters: Conv1d with the embedding as channels vs the lecture's Conv2d with a
  (width x embedding) kernel over a 1-channel sentence image;
- k-max pooling: top-k + sort of the positions + gather vs a full argsort.
Both run interleaved (cnnbench.measure.interleave); the ratio B/A with its bootstrap interval goes to the
output and the benchmark's extra_info. Equivalence is asserted here too (and in tests/tasks/text).
"""

from __future__ import annotations

import pytest
import torch

from cnnbench.measure.interleave import benchmark_ratio, interleaved_ratio
from cnnbench_tasks.text.models import as_conv2d, conv2d_formulation
from cnnbench_tasks.text.pooling import kmax_pool, kmax_pool_argsort

BATCH, LENGTH = 50, 20  # Kim (2014): mini-batches of 50; MR sentences average 20 words


@pytest.mark.parametrize("dim", [50, 300])
def test_conv1d_vs_conv2d_full_height_filters(benchmark, dim: int) -> None:
    torch.manual_seed(0)
    conv = torch.nn.Conv1d(dim, 100, 5)
    conv2d = as_conv2d(conv)
    e = torch.randn(BATCH, dim, LENGTH)

    def compare():
        with torch.inference_mode():
            return interleaved_ratio(lambda: conv(e), lambda: conv2d_formulation(conv2d, e), rounds=15, reps=20)

    benchmark_ratio(benchmark, "text/full-height filter formulation", compare,
                    f"width-5 filters over {dim}-d embeddings, batch {BATCH}x{LENGTH}", "conv1d", "conv2d",
                    dim=dim, batch=BATCH, length=LENGTH)  # fmt: skip
    with torch.inference_mode():
        torch.testing.assert_close(conv(e), conv2d_formulation(conv2d, e), atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("positions", [20, 200])
def test_topk_vs_argsort_kmax_pooling(benchmark, positions: int) -> None:
    torch.manual_seed(0)
    x = torch.randn(BATCH, 300, positions)

    def compare():
        with torch.inference_mode():
            return interleaved_ratio(lambda: kmax_pool(x, 4), lambda: kmax_pool_argsort(x, 4), rounds=15, reps=20)

    benchmark_ratio(benchmark, "text/k-max pooling formulation", compare, f"4-max pooling of {BATCH}x300x{positions}",
                    "topk", "argsort", positions=positions, batch=BATCH)  # fmt: skip
    torch.testing.assert_close(kmax_pool(x, 4)[0], kmax_pool_argsort(x, 4))
