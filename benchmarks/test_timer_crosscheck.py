"""cnnbench's timer against torch.utils.benchmark.Timer on the same kernels, in the same run.

The medians must agree within 5% when no interference was detected; otherwise the case is
skipped, and says why.
"""

from __future__ import annotations

import pytest
import torch
import torch.utils.benchmark as tb

from cnnbench.registry import get_task
from cnnbench.timing import Budget, measure

CASES = [("image", "lecture-cnn", 64), ("speech", "freq-cnn", 64), ("image", "dnn", 256)]


@pytest.mark.parametrize("task_name, model_name, batch", CASES, ids=[f"{t}-{m}" for t, m, _ in CASES])
def test_cnnbench_timer_agrees_with_torch_timer(benchmark, task_name: str, model_name: str, batch: int) -> None:
    task = get_task(task_name)
    model = task.build(model_name).eval()
    x = task.example_input(model_name, batch)

    def forward():
        with torch.inference_mode():
            return model(x)

    def both():
        ours = measure(forward, batch, Budget(warmup=3, min_runs=20, min_time_s=0.5, max_time_s=10))
        theirs = tb.Timer("forward()", globals={"forward": forward}, num_threads=torch.get_num_threads())
        m = theirs.blocked_autorange(min_run_time=0.5)
        ours_again = measure(forward, batch, Budget(warmup=0, min_runs=20, min_time_s=0.5, max_time_s=10))
        return ours, m, ours_again

    benchmark.group = "timer/cross-check"
    ours, theirs, ours_again = benchmark.pedantic(both, rounds=1, iterations=1)
    if ours.interfered or ours_again.interfered:
        pytest.skip(f"other processes used {ours.other_cpu_cores} cores during the measurement")
    # ours measured before and after theirs (A B A), so drift between them is bounded by our own pair
    ours_ms = (ours.median_ms + ours_again.median_ms) / 2
    theirs_ms = theirs.median * 1e3
    rel = abs(ours_ms - theirs_ms) / theirs_ms
    benchmark.extra_info.update(cnnbench_ms=ours_ms, torch_timer_ms=theirs_ms, relative_difference=rel)
    print(
        f"\n{task_name}/{model_name} b{batch}: cnnbench {ours_ms:.3f} ms, torch Timer {theirs_ms:.3f} ms, "
        f"difference {100 * rel:.1f}%"
    )
    assert rel < 0.05
