"""freq-cnn's frequency convolution: Conv1d with frames folded into channels vs the textbook Conv2d.

Both formulations run on the same weights and input, interleaved (A, B, A, B, ...) so that machine
drift hits both alike; the ratio of the medians is printed and kept in the benchmark's extra_info.
"""

from __future__ import annotations

import statistics
import time

import pytest
import torch

from cnnbench_tasks.speech.models import FreqConv

ROUNDS, REPS = 15, 5


def _time(fn, x: torch.Tensor) -> float:
    t0 = time.perf_counter()
    for _ in range(REPS):
        fn(x)
    return (time.perf_counter() - t0) / REPS


@pytest.mark.parametrize("frames", [101, 11])
def test_conv1d_vs_conv2d_formulation(benchmark, frames: int) -> None:
    torch.manual_seed(0)
    layer = FreqConv(1, frames, filters=128, bands=8).eval()
    x = torch.randn(64, 1, 40, frames)

    def compare() -> dict[str, float]:
        a, b = [], []
        with torch.inference_mode():
            for fn in (layer, layer.conv2d_reference):  # warm-up
                fn(x)
            for _ in range(ROUNDS):
                a.append(_time(layer, x))
                b.append(_time(layer.conv2d_reference, x))
        return {"conv1d_ms": 1e3 * statistics.median(a), "conv2d_ms": 1e3 * statistics.median(b)}

    benchmark.group = "speech/freq-conv formulation"
    result = benchmark.pedantic(compare, rounds=1, iterations=1)
    ratio = result["conv2d_ms"] / result["conv1d_ms"]
    benchmark.extra_info.update(result, conv2d_over_conv1d=ratio, frames=frames, batch=64)
    print(
        f"\nfreq conv, {frames} frames, batch 64: conv1d {result['conv1d_ms']:.3f} ms, "
        f"conv2d {result['conv2d_ms']:.3f} ms, conv2d/conv1d = {ratio:.2f}"
    )
    with torch.inference_mode():
        torch.testing.assert_close(layer(x), layer.conv2d_reference(x), atol=1e-4, rtol=1e-4)
