"""channels_last vs the default layout for the lecture's MNIST CNN, interleaved on the same weights.

The ratio default/channels_last (above 1: channels_last is faster) and its bootstrap interval go to
the output and extra_info; the outputs are asserted equal.
"""

from __future__ import annotations

import pytest
import torch

from cnnbench.measure.interleave import benchmark_ratio, interleaved_ratio
from cnnbench.measure.phases import phase_fn
from cnnbench.measure.precision import FP32, Precision
from cnnbench.registry import get_task

CL = Precision(channels_last=True)


@pytest.mark.parametrize("phase", ["forward", "train_step"])
@pytest.mark.parametrize("batch", [64, 256])
def test_channels_last_lecture_cnn(benchmark, phase: str, batch: int) -> None:
    task = get_task("image")
    torch.manual_seed(0)
    plain = task.build("lecture-cnn").train(phase != "forward")
    fast = task.build("lecture-cnn").train(phase != "forward")
    fast.load_state_dict(plain.state_dict())
    fast = CL.model(fast)
    x = task.example_input("lecture-cnn", batch)
    y = torch.randint(0, 10, (batch,))
    a = phase_fn(phase, plain, x, y, task.loss, torch.optim.SGD(plain.parameters(), lr=0.0), FP32)
    b = phase_fn(phase, fast, x, y, task.loss, torch.optim.SGD(fast.parameters(), lr=0.0), CL)

    def compare():
        return interleaved_ratio(b, a, rounds=15, reps=5)  # time(default) / time(channels_last)

    benchmark_ratio(benchmark, "image/channels_last vs default layout", compare, f"lecture-cnn {phase} batch {batch}",
                    "channels_last", "default", phase=phase, batch=batch)  # fmt: skip
    with torch.no_grad():
        torch.testing.assert_close(plain.eval()(x), fast.eval()(CL.input(x)), atol=1e-5, rtol=1e-5)
