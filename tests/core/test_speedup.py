"""The speed-option table: each option against its plain twin, ratios the right way round."""

from cnnbench.results.speedup import format_speed_markdown, speed_rows


def _record(prec: dict | None = None, fwd_ms: float = 10.0, b1_ms: float = 1.0, step_ms: float = 30.0,
            train_s: float | None = 100.0, acc: float = 0.9, seed: int = 0, world: int = 1,
            started: str = "2026-11-23T00:00:00Z") -> dict:  # fmt: skip
    def stats(ms: float, batch: int) -> dict:
        return {"median_ms": ms, "batch": batch}

    return {
        "machine_slug": "m",
        "task": "image",
        "model": "cnn",
        "experiment": None,
        "dataset": {"name": "mnist"},
        "options": {},
        "seed": seed,
        "profile": "default",
        "device": {"type": "cpu"},
        "started_utc": started,
        "primary_metric": "accuracy",
        "config": {"throughput_batch": 64, "precision": prec or {"amp": None, "channels_last": False}},
        "metrics": {"accuracy": acc} | ({"compile_seconds": 12.5} if (prec or {}).get("compile") else {}),
        "training": {"train_seconds": train_s} if train_s else None,
        "timing": {
            "forward": {"b1": stats(b1_ms, 1), "b64": stats(fwd_ms, 64)},
            "train_step": {"b64": stats(step_ms, 64)},
        },
        **({"distributed": {"world_size": world}} if world > 1 else {}),
    }


def test_ratios_against_the_plain_twin() -> None:
    plain = _record()
    fast = _record({"amp": "bf16", "channels_last": True}, fwd_ms=5.0, b1_ms=2.0, step_ms=10.0, train_s=50.0, acc=0.91)
    other_seed = _record({"amp": None, "channels_last": True}, seed=1)  # no plain twin with seed 1: no row
    (row,) = speed_rows([plain, fast, other_seed])
    assert row["speed"] == "amp=bf16 channels_last"
    assert (row["fwd_b1"], row["fwd_tput"], row["step_tput"], row["train"]) == ("0.50x", "2.00x", "3.00x", "2.00x")
    assert row["score"] == "+1.00" and row["compile_s"] == "-"


def test_compile_and_nproc_rows_and_the_newest_plain_twin() -> None:
    old_plain = _record(fwd_ms=100.0, started="2026-11-20T00:00:00Z")
    plain = _record(started="2026-11-22T00:00:00Z")
    compiled = _record({"amp": None, "channels_last": False, "compile": True}, fwd_ms=2.5)
    two = _record(world=2, train_s=60.0)
    one_thread = _record(train_s=150.0)
    one_thread["config"]["threads"] = 1
    rows = {r["speed"]: r for r in speed_rows([old_plain, plain, compiled, two, one_thread])}
    assert rows["threads=1"]["train"] == "0.67x"
    assert rows["compile"]["fwd_tput"] == "4.00x" and rows["compile"]["compile_s"] == "12.5"
    assert rows["nproc=2"]["train"] == "1.67x"
    assert format_speed_markdown(list(rows.values())).count("\n") == 4


def test_a_plain_run_with_another_training_budget_is_no_twin() -> None:
    plain = _record()
    plain["config"]["time_budget_s"] = 300.0
    fast = _record({"amp": "bf16", "channels_last": False})
    fast["config"]["time_budget_s"] = 1200.0
    assert speed_rows([plain, fast]) == []
    fast["config"]["time_budget_s"] = 300.0
    assert len(speed_rows([plain, fast])) == 1
