"""cnnbench's timer against torch.utils.benchmark.Timer on the same kernels, in the same run.

torch's Timer reports the median over blocks of the MEAN time of `number_per_run` calls, while
cnnbench's median is over single calls; for a right-skewed kernel (most are) the two estimators
differ by several percent although both clocks are right. So cnnbench's own per-call times are
also summarised the way Timer does (median of block means, same block size), and those medians
must agree within 5% when no interference was detected; otherwise the case is skipped, saying why.
A disagreement or interference is re-measured once (as cnnbench's timer does under load); the
second attempt decides, so a systematic difference still fails.
"""

from __future__ import annotations

import statistics

import pytest
import torch
import torch.utils.benchmark as tb

from cnnbench.measure.interference import OTHER_LOAD_THRESHOLD, CpuLoadMeter
from cnnbench.measure.timing import Budget, cpu_call, sample_times
from cnnbench.registry import get_task

ROUNDS = 9
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
        # interleaved rounds (ours, theirs, ours, theirs, ...): machine drift hits both alike
        ours, blocked, theirs = [], [], []
        for _ in range(ROUNDS):
            timer = tb.Timer("forward()", globals={"forward": forward}, num_threads=torch.get_num_threads())
            m = timer.blocked_autorange(min_run_time=0.3)
            theirs.append(m.median * 1e3)
            k = m.number_per_run
            meter = CpuLoadMeter()
            meter.start()
            times = sample_times(cpu_call, forward, Budget(warmup=0, min_runs=10 * k, min_time_s=0.3))
            load = meter.stop()
            ours.append((statistics.median(times) * 1e3, load))
            means = [statistics.fmean(times[i : i + k]) for i in range(0, len(times) - k + 1, k)]
            blocked.append(statistics.median(means) * 1e3)
        return ours, blocked, theirs

    def verdict(result):
        ours, blocked, theirs = result
        loads = [load for _, load in ours if load is not None]
        # paired per round: slow drift of the machine cancels in each round's ratio
        rel = abs(statistics.median(o / t for o, t in zip(blocked, theirs, strict=True)) - 1)
        return rel, max(loads, default=0.0), statistics.median(ms for ms, _ in ours), result

    benchmark.group = "timer/cross-check"
    attempts = [verdict(benchmark.pedantic(both, rounds=1, iterations=1))]
    if attempts[0][0] >= 0.05 or attempts[0][1] > OTHER_LOAD_THRESHOLD:
        attempts.append(verdict(both()))  # one re-measurement, as the timer itself does under load
    rel, load, per_call_ms, (_, blocked, theirs) = attempts[-1]
    if load > OTHER_LOAD_THRESHOLD:
        pytest.skip(f"other processes used {load:.2f} cores during the measurement")
    ours_ms, theirs_ms = statistics.median(blocked), statistics.median(theirs)
    benchmark.extra_info.update(
        cnnbench_blocked_ms=ours_ms,
        cnnbench_per_call_median_ms=per_call_ms,
        torch_timer_ms=theirs_ms,
        relative_difference=rel,
        attempts=len(attempts),
    )
    print(
        f"\n{task_name}/{model_name} b{batch}: cnnbench {ours_ms:.3f} ms (per-call median {per_call_ms:.3f}), "
        f"torch Timer {theirs_ms:.3f} ms, difference {100 * rel:.1f}% (median of {ROUNDS} interleaved paired "
        f"rounds, attempt {len(attempts)})"
    )
    assert rel < 0.05, [round(a[0], 4) for a in attempts]
