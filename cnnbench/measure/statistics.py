"""Scores over seeds: means with 95% confidence intervals, and comparisons with a verdict.

A claim is a comparison over seeds, never two single runs: the difference of the means, its 95%
interval and a two-sided p-value from Welch's t-test (unpaired) or a paired t-test (when both sides
ran the same seeds), and a verdict from the interval: "supported" when it lies entirely on the side
the claim predicts, "contradicted" when it lies entirely on the other side, else "inconclusive at n = ...".
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from scipy import stats as _stats

LEVEL = 0.95


@dataclass(frozen=True)
class Estimate:
    """A mean over n runs with the half-width of its 95% t-interval (None when n < 2)."""

    mean: float
    half_width: float | None
    n: int

    def text(self, scale: float = 100.0, digits: int = 2) -> str:
        mean = f"{scale * self.mean:.{digits}f}"
        if self.half_width is None:
            return f"{mean} (n=1)"
        spread = ", no spread" if self.half_width == 0 else ""  # identical runs: see _no_interval
        return f"{mean} ± {scale * self.half_width:.{digits}f} (n={self.n}{spread})"


def estimate(values: Sequence[float]) -> Estimate:
    values = [float(v) for v in values]
    if not values:
        raise ValueError("no values")
    n = len(values)
    mean = statistics.fmean(values)
    if n < 2:
        return Estimate(mean, None, n)
    sem = statistics.stdev(values) / math.sqrt(n)
    return Estimate(mean, float(_stats.t.ppf(0.5 + LEVEL / 2, n - 1)) * sem, n)


@dataclass(frozen=True)
class Comparison:
    """a minus b over seeds: difference of means, its 95% interval, p-value, test and verdict."""

    difference: float
    low: float | None
    high: float | None
    p_value: float | None
    test: str
    n_a: int
    n_b: int
    verdict: str  # "supported" | "contradicted" | "inconclusive at n = ..."

    def text(self, scale: float = 100.0, unit: str = "points") -> str:
        diff = f"{scale * self.difference:+.2f} {unit}"
        if self.low is None or self.high is None:
            return f"{diff} ({self.test}); {self.verdict}"
        interval = f"95% CI [{scale * self.low:+.2f}, {scale * self.high:+.2f}]"
        n = f"n = {self.n_a}" if self.n_b == 0 else f"n = {self.n_a} vs {self.n_b}"
        return f"{diff}, {interval}, p = {self.p_value:.3g} ({self.test}, {n}); {self.verdict}"


def compare(a: Sequence[float], b: Sequence[float], expect: str = "greater", paired: bool = False) -> Comparison:
    """Compare a with b; the claim predicts a > b (expect="greater") or a < b ("less").

    paired=True when a[i] and b[i] come from the same seed (and split): a paired t-test on a - b."""
    if expect not in ("greater", "less"):
        raise ValueError(f"expect must be 'greater' or 'less', got {expect!r}")
    a, b = [float(v) for v in a], [float(v) for v in b]
    if not a or not b:
        raise ValueError("both sides need at least one run")
    diff = statistics.fmean(a) - statistics.fmean(b)
    n = f"n = {len(a)}" if len(a) == len(b) else f"n = {len(a)} and {len(b)}"
    if paired:
        if len(a) != len(b):
            raise ValueError("a paired comparison needs one b per a")
        d = [x - y for x, y in zip(a, b, strict=True)]
        test, why = "paired t-test", _no_interval(d, "the per-seed differences are identical")
    else:
        test = "Welch's t-test"
        why = _no_interval(a, "one side's values are identical") or _no_interval(b, "one side's values are identical")
    if why is not None:
        return Comparison(diff, None, None, None, f"{test}, {why}", len(a), len(b), _no_verdict(why, n))
    low, high, p = _interval_paired(d) if paired else _interval_welch(a, b)
    return Comparison(diff, low, high, p, test, len(a), len(b), _verdict(low, high, expect, n))


def _verdict(low: float, high: float, expect: str, n: str) -> str:
    """Supported when the interval lies wholly on the predicted side of zero, contradicted when wholly on the other."""
    sign = 1 if expect == "greater" else -1
    if sign * low > 0 and sign * high > 0:
        return "supported"
    if sign * low < 0 and sign * high < 0:
        return "contradicted"
    return f"inconclusive at {n}"


def compare_to(values: Sequence[float], target: float, expect: str = "greater") -> Comparison:
    """The mean of values against a fixed target (a published score a recipe aims at): a one-sample t-test on
    value - target, with the same verdicts as compare (n_b is 0: the target is not a sample)."""
    if expect not in ("greater", "less"):
        raise ValueError(f"expect must be 'greater' or 'less', got {expect!r}")
    d = [float(v) - target for v in values]
    if not d:
        raise ValueError("no values")
    diff, n = statistics.fmean(d), f"n = {len(d)}"
    why = _no_interval(d, "the values are identical")
    if why is not None:
        return Comparison(diff, None, None, None, f"one-sample t-test, {why}", len(d), 0, _no_verdict(why, n))
    low, high, p = _interval_paired(d)
    return Comparison(diff, low, high, p, "one-sample t-test", len(d), 0, _verdict(low, high, expect, n))


TOO_FEW = "too few runs"


def _no_interval(values: list[float], identical: str) -> str | None:
    """Why these runs give no interval, or None when they do: fewer than two, a score that is not a number, or
    no spread (all equal up to float rounding: the same seed run again, or a model the seed does not reach; the
    t-interval would collapse to a point and claim a certainty the runs do not give)."""
    if len(values) < 2:
        return TOO_FEW
    if not all(math.isfinite(v) for v in values):
        return "a score that is not a finite number"
    if max(values) - min(values) <= 1e-9 * max(1.0, *(abs(v) for v in values)):
        return f"no spread between runs ({identical}: do the seeds vary anything?)"
    return None


def _no_verdict(why: str, n: str) -> str:
    """More runs may settle a comparison of too few; runs without spread or with a non-number need looking at."""
    return f"inconclusive at {n}" if why == TOO_FEW else f"inconclusive, {why.split(' (')[0]}, at {n}"


def _interval_paired(d: list[float]) -> tuple[float, float, float]:
    """The one-sample t interval and p-value of d's mean (d: two or more finite values with spread)."""
    n, mean = len(d), statistics.fmean(d)
    sem = statistics.stdev(d) / math.sqrt(n)
    t = float(_stats.t.ppf(0.5 + LEVEL / 2, n - 1))
    p = float(2 * _stats.t.sf(abs(mean / sem), n - 1))
    return mean - t * sem, mean + t * sem, p


def _interval_welch(a: list[float], b: list[float]) -> tuple[float, float, float]:
    """Welch's interval and p-value of mean(a) - mean(b) (each side: two or more finite values with spread)."""
    va, vb = statistics.variance(a) / len(a), statistics.variance(b) / len(b)
    diff = statistics.fmean(a) - statistics.fmean(b)
    se = math.sqrt(va + vb)
    # Welch-Satterthwaite degrees of freedom
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    t = float(_stats.t.ppf(0.5 + LEVEL / 2, df))
    p = float(2 * _stats.t.sf(abs(diff / se), df))
    return diff - t * se, diff + t * se, p
