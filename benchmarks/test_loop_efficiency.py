"""Loop efficiency: samples/s of a training step inside cnnbench.run.train.train() over samples/s of the same
step timed alone (fixed batch, the timer's phase function: no indexing, no data order, no schedule, no
running statistics), measured interleaved (cnnbench.measure.interleave) for the image task's lecture CNN and
the speech task's freq-cnn, with the optimiser of each model's profile.

Issue 18's goal: >= 0.90 on the CPU. The ratio and its bootstrap interval are printed and kept in
extra_info, and written for `cnnbench publish` when CNNBENCH_BENCH_OUT names a folder. Nothing is asserted
about the ratio (a measurement, not a test); with --benchmark-disable it runs 2 short rounds.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from cnnbench.measure.interference import CpuLoadMeter
from cnnbench.measure.interleave import interleaved_ratio
from cnnbench.measure.phases import phase_fn
from cnnbench.registry import get_task
from cnnbench.run.train import make_optimizer, train
from cnnbench.spec import TensorData

BATCH = 128


@pytest.mark.parametrize("task_name,model_name", [("image", "lecture-cnn"), ("speech", "freq-cnn")])
def test_loop_efficiency(benchmark, task_name: str, model_name: str) -> None:
    quick = benchmark.disabled
    task = get_task(task_name)
    steps = 2 if quick else 32
    n = steps * BATCH
    profile = task.profile("default", model_name).replace(epochs=1, batch_size=BATCH, curve_points=0)
    torch.manual_seed(0)
    model = task.build(model_name)
    ctx = task.context(model_name)
    gen = torch.Generator().manual_seed(0)
    x = torch.cat([task.example_input(model_name, BATCH, ctx) for _ in range(steps)])
    data = TensorData(x, torch.randint(0, ctx.num_classes, (n,), generator=gen), ctx.num_classes, "random")
    step = phase_fn("train_step", model, x[:BATCH], data.y[:BATCH], task.loss, make_optimizer(model, profile))

    def alone() -> None:
        model.train()
        for _ in range(steps):
            step()

    def inside() -> None:
        train(model, data, task.loss, profile, seed=0, progress=False)

    def compare():
        return interleaved_ratio(alone, inside, rounds=2 if quick else 10, reps=1)

    meter = CpuLoadMeter()
    meter.start()
    benchmark.group = "runner/loop efficiency"
    r = benchmark.pedantic(compare, rounds=1, iterations=1)
    load = meter.stop()
    result = {
        "model": f"{task_name}/{model_name}", "batch": BATCH, "steps": steps, "optimizer": profile.optimizer,
        "threads": torch.get_num_threads(), "step_alone_samples_per_s": n / r.a_median_ms * 1e3,
        "train_samples_per_s": n / r.b_median_ms * 1e3, "loop_efficiency": 1 / r.ratio,
        "loop_efficiency_ci": [1 / r.ci_high, 1 / r.ci_low], "confidence": r.confidence, "rounds": r.rounds,
    }  # fmt: skip
    benchmark.extra_info.update(result)
    print(
        f"\nloop efficiency {task_name}/{model_name}: step alone {result['step_alone_samples_per_s']:.0f} samples/s, "
        f"inside train() {result['train_samples_per_s']:.0f}; efficiency {1 / r.ratio:.3f} "
        f"(95% CI {1 / r.ci_high:.3f}-{1 / r.ci_low:.3f}, {r.rounds} rounds; other processes {load or 0:.2f} cores)"
    )
    if not quick and os.environ.get("CNNBENCH_BENCH_OUT"):
        from cnnbench.results.bench import write_bench

        write_bench(Path(os.environ["CNNBENCH_BENCH_OUT"]), f"loop-efficiency-{task_name}-{model_name}",
                    f"samples/s of a training step of {task_name}/{model_name} (batch {BATCH}) inside train() over "
                    "the same step timed alone", "loop_efficiency", result, load)  # fmt: skip
