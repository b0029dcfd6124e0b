"""Forward and training-step benchmarks of every model of every registered task, at fixed shapes.

On a GPU (when one is present) the same cases run there too; the timed function synchronises, so
pytest-benchmark's wall clock covers the kernels and not just their launch.
"""

from __future__ import annotations

import pytest
import torch

from cnnbench.measure.counting import count_flops
from cnnbench.measure.phases import phase_fn
from cnnbench.registry import default_registry

CASES = [
    pytest.param(task.name, model, id=f"{task.name}-{model}")
    for task in default_registry().tasks()
    for model in task.models
]
DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("phase", ["forward", "train_step"])
@pytest.mark.parametrize("task_name, model_name", CASES)
def test_model_phase(benchmark, task_name: str, model_name: str, phase: str, device: str) -> None:
    task = default_registry().get(task_name)
    spec = task.model_spec(model_name)
    dev = torch.device(device)
    torch.manual_seed(0)
    model = task.build(model_name).train(phase != "forward").to(dev)
    x = task.example_input(model_name, spec.throughput_batch).to(dev)
    y = torch.randint(0, spec.num_classes, (spec.throughput_batch,)).to(dev)
    opt = torch.optim.SGD(model.parameters(), lr=1e-6, momentum=0.9)
    step = phase_fn(phase, model, x, y, task.loss, opt)

    def fn():
        out = step()
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)
        return out

    benchmark.group = f"{task_name}/{phase}/{device}"
    flops = count_flops(model, task.example_input(model_name, 1).to(dev))
    benchmark.extra_info.update(
        batch=spec.throughput_batch,
        threads=torch.get_num_threads(),
        device=device,
        flops_per_sample=flops["flops_fwd"] if phase == "forward" else flops["flops_train"],
    )
    out = benchmark(fn)
    assert torch.isfinite(out if phase != "forward" else out.float()).all()
