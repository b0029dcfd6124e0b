import time

import pytest

from cnnbench.measure.interleave import interleaved_ratio


def _work(n: int = 20000) -> int:
    return sum(i * i for i in range(n))


def test_a_kernel_against_itself_has_ratio_one_in_its_interval() -> None:
    r = interleaved_ratio(_work, _work, rounds=21, reps=3)
    assert r.ci_low <= 1.0 <= r.ci_high
    assert 0.7 < r.ratio < 1.4


def test_order_is_interleaved() -> None:
    calls = []
    interleaved_ratio(lambda: calls.append("a"), lambda: calls.append("b"), rounds=4, reps=1, warmup=0)
    assert calls == ["a", "b", "b", "a", "a", "b", "b", "a"]


def test_a_clearly_slower_b_is_detected() -> None:
    r = interleaved_ratio(lambda: time.sleep(0.001), lambda: time.sleep(0.004), rounds=9, reps=2)
    assert r.ci_low > 1.5  # B takes about 4x as long


def test_invalid() -> None:
    with pytest.raises(ValueError):
        interleaved_ratio(_work, _work, rounds=1)
