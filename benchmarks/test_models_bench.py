"""Forward and training-step benchmarks of every model of every registered task, at fixed shapes."""

from __future__ import annotations

import pytest
import torch

from cnnbench.counting import count_flops
from cnnbench.phases import phase_fn
from cnnbench.registry import default_registry

CASES = [
    pytest.param(task.name, model, id=f"{task.name}-{model}")
    for task in default_registry().tasks()
    for model in task.models
]


@pytest.mark.parametrize("phase", ["forward", "train_step"])
@pytest.mark.parametrize("task_name, model_name", CASES)
def test_model_phase(benchmark, task_name: str, model_name: str, phase: str) -> None:
    task = default_registry().get(task_name)
    spec = task.model_spec(model_name)
    torch.manual_seed(0)
    model = task.build(model_name).train(phase != "forward")
    x = task.example_input(model_name, spec.throughput_batch)
    y = torch.randint(0, spec.num_classes, (spec.throughput_batch,))
    opt = torch.optim.SGD(model.parameters(), lr=1e-6, momentum=0.9)
    fn = phase_fn(phase, model, x, y, task.loss, opt)
    benchmark.group = f"{task_name}/{phase}"
    flops = count_flops(model, task.example_input(model_name, 1))
    benchmark.extra_info.update(
        batch=spec.throughput_batch,
        threads=torch.get_num_threads(),
        device="cpu",
        flops_per_sample=flops["flops_fwd"] if phase == "forward" else flops["flops_train"],
    )
    out = benchmark(fn)
    assert torch.isfinite(out if phase != "forward" else out.float()).all()
