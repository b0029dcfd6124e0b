"""Timing of callables on CPU (perf_counter) and GPU (CUDA events), with robust statistics."""

from __future__ import annotations

import dataclasses
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import torch

from cnnbench.measure.interference import OTHER_LOAD_THRESHOLD, CpuLoadMeter

NOISY_REL_IQR = 0.10  # a measurement whose IQR exceeds 10% of its median is flagged noisy


@dataclass(frozen=True)
class Stats:
    """Summary of repeated timings of one phase at one batch size."""

    batch: int
    median_ms: float
    iqr_ms: float
    min_ms: float
    mean_ms: float
    n: int
    per_second: float  # samples per second at the median
    noisy: bool
    clock: str  # "perf_counter" | "cuda_event"
    other_cpu_cores: float | None = None  # cores other processes kept busy during the kept attempt
    retries: int = 0  # measurements thrown away because other processes were busy
    interfered: bool = False  # still above the threshold after the last retry

    def as_dict(self) -> dict:
        return asdict(self)


def summarize(times_s: list[float], batch: int, clock: str) -> Stats:
    """Statistics of a list of per-call durations in seconds."""
    if not times_s:
        raise ValueError("no timings to summarize")
    ms = sorted(t * 1e3 for t in times_s)
    med = statistics.median(ms)
    if len(ms) >= 4:
        q = statistics.quantiles(ms, n=4, method="inclusive")
        iqr = q[2] - q[0]
    else:
        iqr = ms[-1] - ms[0]
    return Stats(
        batch=batch,
        median_ms=med,
        iqr_ms=iqr,
        min_ms=ms[0],
        mean_ms=statistics.fmean(ms),
        n=len(ms),
        per_second=batch / (med / 1e3) if med > 0 else float("inf"),
        noisy=med > 0 and iqr / med > NOISY_REL_IQR,
        clock=clock,
    )


@dataclass(frozen=True)
class Budget:
    """How long to measure: warm-up calls, then at least min_runs and min_time_s, at most max_time_s."""

    warmup: int = 3
    min_runs: int = 10
    min_time_s: float = 0.5
    max_time_s: float = 20.0

    def __post_init__(self) -> None:
        if self.min_runs < 1 or self.min_time_s < 0 or self.max_time_s <= 0 or self.warmup < 0:
            raise ValueError(f"invalid timing budget: {self}")


def cpu_call(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def _cuda_caller(device: torch.device) -> Callable[[Callable[[], object]], float]:
    start = torch.cuda.Event(enable_timing=True)
    end = torch.cuda.Event(enable_timing=True)

    def call(fn: Callable[[], object]) -> float:
        torch.cuda.synchronize(device)
        start.record()
        fn()
        end.record()
        end.synchronize()
        return start.elapsed_time(end) / 1e3

    return call


def sample_times(
    call: Callable[[Callable[[], object]], float], fn: Callable[[], object], budget: Budget
) -> list[float]:
    """Per-call durations in seconds until the budget is met (no warm-up, no interference check)."""
    times: list[float] = []
    wall0 = time.perf_counter()
    while True:
        times.append(call(fn))
        elapsed = time.perf_counter() - wall0
        if len(times) >= budget.min_runs and elapsed >= budget.min_time_s:
            break
        if elapsed >= budget.max_time_s:
            break
    return times


def measure(
    fn: Callable[[], object],
    batch: int,
    budget: Budget,
    device: torch.device | None = None,
    retries: int = 2,
    threshold: float = OTHER_LOAD_THRESHOLD,
) -> Stats:
    """Time fn repeatedly: warm up, then run until min_runs and min_time_s are both reached.

    The loop stops early at max_time_s (but never before one timed call), so a slow model gets
    fewer runs rather than an unbounded measurement; n in the result says how many. While it runs,
    the CPU time of all other processes is read from /proc: when they kept more than `threshold`
    cores busy, the measurement is repeated (at most `retries` times) and, if that persists, the
    result is marked interfered. The least disturbed attempt is kept.
    """
    on_gpu = device is not None and device.type == "cuda"
    call = _cuda_caller(device) if on_gpu else cpu_call
    for _ in range(budget.warmup):
        call(fn)
    meter = CpuLoadMeter()
    best: tuple[float, list[float]] | None = None
    attempts = 0
    while True:
        meter.start()
        times = sample_times(call, fn, budget)
        load = meter.stop()
        if best is None or (load is not None and load < best[0]):
            best = (load if load is not None else float("nan"), times)
        if load is None or load <= threshold or attempts >= retries:
            break
        attempts += 1
    load, times = best
    stats = summarize(times, batch, "cuda_event" if on_gpu else "perf_counter")
    known = load == load  # not NaN
    return dataclasses.replace(
        stats,
        other_cpu_cores=round(load, 3) if known else None,
        retries=attempts,
        interfered=known and load > threshold,
    )
