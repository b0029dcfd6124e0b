import subprocess
import sys
import time

import pytest

from cnnbench.measure.interference import CpuLoadMeter
from cnnbench.measure.timing import Budget, measure, summarize


def test_summarize_known_values() -> None:
    s = summarize([0.001, 0.002, 0.003, 0.004, 0.005], batch=10, clock="perf_counter")
    assert s.median_ms == pytest.approx(3.0)
    assert s.min_ms == pytest.approx(1.0)
    assert s.iqr_ms == pytest.approx(2.0)  # inclusive quartiles 2 and 4
    assert s.per_second == pytest.approx(10 / 0.003)
    assert s.n == 5
    assert s.noisy  # 2/3 > 10%


def test_summarize_steady_is_not_noisy() -> None:
    s = summarize([0.010] * 9 + [0.0101], batch=1, clock="perf_counter")
    assert not s.noisy


def test_measure_function_of_known_cost() -> None:
    """A 5 ms sleep is measured as at least 5 ms, and not wildly more."""

    def sleep5() -> None:
        time.sleep(0.005)

    s = measure(sleep5, batch=1, budget=Budget(warmup=1, min_runs=5, min_time_s=0.0, max_time_s=5))
    assert s.n >= 5
    assert 5.0 <= s.min_ms < 50.0
    assert s.median_ms >= 5.0


def test_measure_respects_min_time_and_max_time() -> None:
    calls = []
    s = measure(lambda: calls.append(1), 1, Budget(warmup=2, min_runs=3, min_time_s=0.05, max_time_s=5), retries=0)
    assert s.n >= 3 and len(calls) == s.n + 2
    slow = measure(lambda: time.sleep(0.02), 1, Budget(warmup=0, min_runs=1000, min_time_s=0, max_time_s=0.1))
    assert 1 <= slow.n < 1000


def test_invalid_budget() -> None:
    with pytest.raises(ValueError):
        Budget(min_runs=0)


BURN = "import time\nend = time.perf_counter() + 30\nwhile time.perf_counter() < end:\n    pass\n"


def test_interference_detected_when_another_process_burns_cpu() -> None:
    """A second process spinning on a core during the measurement is noticed, retried and flagged."""
    if not CpuLoadMeter.available():
        pytest.skip("no /proc/stat on this system: interference cannot be measured")
    burner = subprocess.Popen([sys.executable, "-c", BURN])  # a separate process, not a thread of ours
    try:
        time.sleep(1.0)  # let it start spinning
        s = measure(lambda: time.sleep(0.01), 1, Budget(warmup=0, min_runs=5, min_time_s=0.5, max_time_s=5), retries=1)
    finally:
        burner.kill()
        burner.wait()
    assert s.other_cpu_cores is not None and s.other_cpu_cores > 0.5  # one whole core spins
    assert s.retries == 1 and s.interfered


def test_no_interference_when_quiet() -> None:
    """Sleeping in our own process leaves the machine idle: no retry, no flag (generous threshold)."""
    if not CpuLoadMeter.available():
        pytest.skip("no /proc/stat on this system: interference cannot be measured")
    meter = CpuLoadMeter()
    meter.start()
    time.sleep(0.5)
    before = meter.stop()
    if before is not None and before > 0.3:
        pytest.skip(f"the machine is busy with other work ({before:.2f} cores) before the test starts")
    s = measure(
        lambda: time.sleep(0.01),
        1,
        Budget(warmup=0, min_runs=5, min_time_s=0.3, max_time_s=5),
        retries=2,
        threshold=0.6,
    )
    assert s.other_cpu_cores is not None and s.other_cpu_cores < 0.6
    assert s.retries == 0 and not s.interfered
