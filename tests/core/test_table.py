from cnnbench.results.table import format_markdown, rows


def _record(seed: int, acc: float, fold=None, model: str = "m", timing: bool = False) -> dict:
    return {
        "task": "t",
        "model": model,
        "experiment": "e",
        "dataset": {"name": "d", **({"fold": fold} if fold else {})},
        "device": {"type": "cpu"},
        "profile": "full",
        "options": {"embedding": "glove-50", "extra": ""},
        "seed": seed,
        "metrics": {"params": 10, "flops_fwd": 2e6, "accuracy": acc, "train_seconds": 2.0 * (seed + 1)},
        "timing": {"forward": {"b1": {"batch": 1, "median_ms": 0.5, "per_second": 2000.0}}} if timing else None,
    }


def test_seeds_and_folds_of_one_configuration_share_a_row() -> None:
    recs = [_record(0, 0.70, [0, 2], timing=True), _record(1, 0.80, [0, 2]), _record(0, 0.75, [1, 2])]
    recs.append(_record(0, 0.5, model="other"))
    out = rows(recs)
    assert len(out) == 2
    first = out[0]
    assert first["runs"] == "3"
    assert first["score"] == "75.00 ± 5.00"  # mean and sample std of 70, 80, 75
    assert first["train_s"] == "2.7"  # mean of 2, 4, 2
    assert first["fwd_b1_ms"] == "0.50"  # from the one record that was timed
    assert first["options"] == "embedding=glove-50"  # empty options are not shown
    assert out[1]["runs"] == "1" and out[1]["score"] == "50.00"


def test_markdown_has_one_line_per_group() -> None:
    md = format_markdown([_record(0, 0.7), _record(1, 0.8)])
    assert len(md.splitlines()) == 3 and "75.00 ± 7.07" in md


def test_speed_options_get_their_own_rows() -> None:
    plain = _record(0, 0.9)
    two = _record(0, 0.9) | {"distributed": {"world_size": 2}}
    one_thread = _record(0, 0.9)
    one_thread["config"] = {"threads": 1}
    assert len(rows([plain, two, one_thread])) == 3


def _trained(record: dict, epochs: float, budget: float | None, stopped_by: str) -> dict:
    record["config"] = {"epochs": 1, "batch_size": 128, "lr": 1e-3, "time_budget_s": budget}
    record["training"] = {"epochs_run": epochs, "stopped_by": stopped_by}
    return record


def test_runs_with_different_training_budgets_are_not_averaged() -> None:
    short = _trained(_record(0, 0.3), 0.063, 300.0, "time_budget")
    long = _trained(_record(0, 0.4), 0.25, 1200.0, "time_budget")
    out = rows([short, long])
    assert len(out) == 2
    assert [r["trained"] for r in out] == ["0.063 ep, 300 s budget", "0.25 ep, 1200 s budget"]
    seeds = rows([_trained(_record(0, 0.3), 12, 600.0, "epochs"), _trained(_record(1, 0.4), 12, 600.0, "epochs")])
    assert len(seeds) == 1 and seeds[0]["runs"] == "2" and seeds[0]["trained"] == "12 ep"  # budget not reached
    assert rows([_record(0, 0.5)])[0]["trained"] == "-"  # timing only: nothing trained
