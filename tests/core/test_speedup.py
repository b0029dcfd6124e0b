"""The speed-option table: each option against its plain twin, ratios the right way round."""

from collections.abc import Callable

import pytest

from cnnbench.results.record import Record
from cnnbench.results.speedup import format_speed_markdown, speed_rows


@pytest.fixture
def rec(make_record: Callable[..., Record]) -> Callable[..., Record]:
    """cnn on MNIST, timed at batch 1 and at the throughput batch 64, trained for train_s seconds."""

    def make(prec: dict | None = None, fwd_ms: float = 10.0, b1_ms: float = 1.0, step_ms: float = 30.0,
             train_s: float | None = 100.0, acc: float = 0.9, seed: int = 0, world: int = 1,
             started: str = "2026-11-23T00:00:00Z", config: dict | None = None, profile: str = "default"
             ) -> Record:  # fmt: skip
        return make_record(
            machine_slug="m", model="cnn", seed=seed, started_utc=started, profile=profile,
            config={"throughput_batch": 64, "precision": prec or {}, **(config or {})},
            metrics={"accuracy": acc} | ({"compile_seconds": 12.5} if (prec or {}).get("compile") else {}),
            training={"train_seconds": train_s} if train_s else None,
            timing={"forward": {1: b1_ms, 64: fwd_ms}, "train_step": {64: step_ms}},
            distributed={"world_size": world} if world > 1 else None,
        )  # fmt: skip

    return make


def test_ratios_against_the_plain_twin(rec) -> None:
    plain = rec()
    fast = rec({"amp": "bf16", "channels_last": True}, fwd_ms=5.0, b1_ms=2.0, step_ms=10.0, train_s=50.0, acc=0.91)
    other_seed = rec({"channels_last": True}, seed=1)  # no plain twin with seed 1: no row
    (row,) = speed_rows([plain, fast, other_seed])
    assert row["speed"] == "amp=bf16 channels_last"
    assert (row["fwd_b1"], row["fwd_tput"], row["step_tput"], row["train"]) == ("0.50x", "2.00x", "3.00x", "2.00x")
    assert row["score"] == "+1.00" and row["compile_s"] == "-"


def test_compile_and_nproc_rows_and_the_newest_plain_twin(rec) -> None:
    old_plain = rec(fwd_ms=100.0, started="2026-11-20T00:00:00Z")
    plain = rec(started="2026-11-22T00:00:00Z")
    compiled = rec({"compile": True}, fwd_ms=2.5)
    two = rec(world=2, train_s=60.0)
    one_thread = rec(train_s=150.0, config={"threads": 1})
    rows = {r["speed"]: r for r in speed_rows([old_plain, plain, compiled, two, one_thread])}
    assert rows["threads=1"]["train"] == "0.67x"
    assert rows["compile"]["fwd_tput"] == "4.00x" and rows["compile"]["compile_s"] == "12.5"
    assert rows["nproc=2"]["train"] == "1.67x"
    assert format_speed_markdown(list(rows.values())).count("\n") == 4


def test_a_plain_run_with_another_training_budget_or_profile_is_no_twin(rec) -> None:
    plain = rec(config={"time_budget_s": 300.0})
    fast = rec({"amp": "bf16"}, config={"time_budget_s": 1200.0})
    assert speed_rows([plain, fast]) == []
    fast = rec({"amp": "bf16"}, config={"time_budget_s": 300.0})
    assert len(speed_rows([plain, fast])) == 1
    quick_fast = rec({"amp": "bf16"}, config={"time_budget_s": 300.0}, profile="quick")
    assert len(speed_rows([plain, fast, quick_fast])) == 1  # the quick run has no plain quick twin
