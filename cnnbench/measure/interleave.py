"""Comparing two ways of doing the same work: interleaved repetitions and a bootstrap ratio."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class Ratio:
    """time(B) / time(A): above 1 means A is faster. CI: percentile bootstrap of the median ratio."""

    ratio: float
    ci_low: float
    ci_high: float
    confidence: float
    rounds: int
    a_median_ms: float
    b_median_ms: float

    def as_dict(self) -> dict:
        return asdict(self)


def _time_reps(fn: Callable[[], object], reps: int) -> float:
    t0 = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - t0) / reps


def interleaved_ratio(
    a: Callable[[], object],
    b: Callable[[], object],
    rounds: int = 15,
    reps: int = 3,
    warmup: int = 1,
    confidence: float = 0.95,
    seed: int = 0,
    timer: Callable[[Callable[[], object], int], float] = _time_reps,
) -> Ratio:
    """Time A and B alternately (A B A B ...), so that drift of a shared machine hits both alike.

    Each round gives one paired ratio t_B / t_A; the reported ratio is their median and the
    interval a percentile bootstrap of that median over rounds.
    """
    if rounds < 2 or reps < 1:
        raise ValueError("need at least 2 rounds of at least 1 repetition")
    for _ in range(warmup):
        a()
        b()
    ta, tb = [], []
    for i in range(rounds):
        # alternate which goes first, so neither always runs on a cache the other warmed
        if i % 2 == 0:
            ta.append(timer(a, reps))
            tb.append(timer(b, reps))
        else:
            tb.append(timer(b, reps))
            ta.append(timer(a, reps))
    ratios = np.array(tb) / np.array(ta)
    rng = np.random.default_rng(seed)
    boots = np.median(rng.choice(ratios, size=(2000, len(ratios)), replace=True), axis=1)
    tail = (1 - confidence) / 2
    return Ratio(
        ratio=float(np.median(ratios)),
        ci_low=float(np.quantile(boots, tail)),
        ci_high=float(np.quantile(boots, 1 - tail)),
        confidence=confidence,
        rounds=rounds,
        a_median_ms=1e3 * statistics.median(ta),
        b_median_ms=1e3 * statistics.median(tb),
    )


def benchmark_ratio(benchmark, group: str, compare: Callable[[], Ratio], label: str, a: str, b: str, **info) -> Ratio:
    """Run `compare` once under pytest-benchmark, keep its ratio in extra_info and print it."""
    benchmark.group = group
    r = benchmark.pedantic(compare, rounds=1, iterations=1)
    benchmark.extra_info.update(r.as_dict(), a=a, b=b, **info)
    print(
        f"\n{label}: {a} {r.a_median_ms:.3f} ms, {b} {r.b_median_ms:.3f} ms, "
        f"{b}/{a} = {r.ratio:.2f} (95% CI {r.ci_low:.2f}-{r.ci_high:.2f})"
    )
    return r
