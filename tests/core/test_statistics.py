"""Intervals and verdicts over seeds, checked against scipy's own tests and known values."""

import pytest
from scipy import stats

from cnnbench.measure.statistics import compare, compare_to, estimate


def test_estimate_matches_the_t_interval() -> None:
    values = [0.91, 0.93, 0.92, 0.95]
    e = estimate(values)
    low, high = stats.t.interval(0.95, len(values) - 1, loc=e.mean, scale=stats.sem(values))
    assert e.n == 4 and e.half_width == pytest.approx((high - low) / 2)
    assert e.text() == f"{100 * e.mean:.2f} ± {100 * e.half_width:.2f} (n=4)"
    one = estimate([0.5])
    assert one.half_width is None and one.text() == "50.00 (n=1)"


def test_welch_matches_scipy_and_gives_verdicts() -> None:
    a, b = [0.99, 0.992, 0.991], [0.98, 0.982, 0.979]
    c = compare(a, b)
    assert c.p_value == pytest.approx(stats.ttest_ind(a, b, equal_var=False).pvalue)
    assert c.verdict == "supported" and c.low > 0
    assert compare(a, b, expect="less").verdict == "contradicted"
    noisy = compare([0.5, 0.9, 0.1], [0.5, 0.4, 0.6])
    assert noisy.verdict == "inconclusive at n = 3"
    assert "Welch's t-test, n = 3 vs 3" in noisy.text()


def test_paired_matches_scipy() -> None:
    a, b = [0.80, 0.85, 0.78, 0.90], [0.79, 0.83, 0.78, 0.87]
    c = compare(a, b, paired=True)
    assert c.p_value == pytest.approx(stats.ttest_rel(a, b).pvalue)
    assert c.test == "paired t-test"


def test_single_runs_are_never_a_verdict() -> None:
    c = compare([0.99], [0.98])
    assert c.verdict == "inconclusive at n = 1" and c.low is None
    assert "too few runs" in c.text()
    with pytest.raises(ValueError):
        compare([0.1, 0.2], [0.3], paired=True)


def test_runs_without_spread_are_never_a_verdict() -> None:
    """Identical values (a seed that varies nothing) give a zero-width interval: no verdict, the reason said."""
    for c, why in ((compare([0.9, 0.9, 0.9], [0.8, 0.8, 0.8]), "one side's values are identical"),
                   (compare([0.9, 0.9, 0.9], [0.8, 0.81, 0.8]), "one side's values are identical"),
                   (compare([0.9, 0.93], [0.8, 0.83], paired=True), "the per-seed differences are identical"),
                   (compare_to([0.95, 0.95], 0.94), "the values are identical")):  # fmt: skip
        assert c.low is None and c.verdict.startswith("inconclusive, no spread between runs, at n = "), c
        assert f"no spread between runs ({why}: do the seeds vary anything?)" in c.text()
    nan = compare([0.9, float("nan"), 0.9], [0.8, 0.81, 0.82])
    assert nan.verdict == "inconclusive, a score that is not a finite number, at n = 3" and nan.low is None
    assert estimate([0.9, 0.9]).text() == "90.00 ± 0.00 (n=2, no spread)" and estimate([0.9, 0.8]).half_width > 0


def test_a_mean_against_a_fixed_target_matches_scipy() -> None:
    """A recipe's runs against a published score: scipy's one-sample t-test, the same verdict rule."""
    runs = [0.9412, 0.9398, 0.9405, 0.9421, 0.9409]
    c = compare_to(runs, 0.94)
    assert c.p_value == pytest.approx(stats.ttest_1samp(runs, 0.94).pvalue)
    assert c.difference == pytest.approx(sum(runs) / 5 - 0.94) and c.n_b == 0
    assert c.verdict == "inconclusive at n = 5" and "one-sample t-test, n = 5)" in c.text()
    assert compare_to([0.935, 0.934, 0.936], 0.94).verdict == "contradicted"
    assert compare_to([0.945, 0.946, 0.944], 0.94).verdict == "supported"
    assert compare_to([0.95], 0.94).verdict == "inconclusive at n = 1"
