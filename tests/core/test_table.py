from collections.abc import Callable

import pytest

from cnnbench.results.record import Record
from cnnbench.results.table import format_markdown, rows


@pytest.fixture
def rec(make_record: Callable[..., Record]) -> Callable[..., Record]:
    """A text-like record of one seed and fold: model m, experiment e, full profile, two options (one empty)."""

    def make(seed: int, acc: float, fold=None, model: str = "m", timing: bool = False, metrics=None, **overrides):
        return make_record(
            task="t", model=model, experiment="e", profile="full", seed=seed,
            dataset={"name": "d", "fold": fold}, options={"embedding": "glove-50", "extra": ""},
            metrics={"accuracy": acc, "train_seconds": 2.0 * (seed + 1), **(metrics or {})},
            timing={"forward": {1: 0.5}} if timing else None, **overrides,
        )  # fmt: skip

    return make


def test_seeds_and_folds_of_one_configuration_share_a_row(rec) -> None:
    recs = [rec(0, 0.70, [0, 2], timing=True), rec(1, 0.80, [0, 2]), rec(0, 0.75, [1, 2])]
    recs.append(rec(0, 0.5, model="other"))
    out = rows(recs)
    assert len(out) == 2
    first = out[0]
    assert first["runs"] == "3"
    assert first["score"] == "75.00 ± 5.00"  # mean and sample std of 70, 80, 75
    assert first["train_s"] == "2.7"  # mean of 2, 4, 2
    assert first["fwd_b1_ms"] == "0.50"  # from the one record that was timed
    assert first["options"] == "embedding=glove-50"  # empty options are not shown
    assert out[1]["runs"] == "1" and out[1]["score"] == "50.00"


def test_markdown_has_one_line_per_group(rec) -> None:
    md = format_markdown([rec(0, 0.7), rec(1, 0.8)])
    assert len(md.splitlines()) == 3 and "75.00 ± 7.07" in md


def test_speed_options_get_their_own_rows(rec) -> None:
    plain = rec(0, 0.9)
    two = rec(0, 0.9, distributed={"world_size": 2})
    one_thread = rec(0, 0.9, config={"threads": 1})
    assert len(rows([plain, two, one_thread])) == 3
    options = [r["options"] for r in rows([two, one_thread])]
    assert options == ["embedding=glove-50 nproc=2", "embedding=glove-50 threads=1"]


def test_groups_by_sex_are_averaged(rec) -> None:
    a = rec(0, 0.7, metrics={"accuracy_by_sex": {"male": 0.8, "female": 0.6}})
    b = rec(1, 0.8, metrics={"accuracy_by_sex": {"male": 0.9, "female": 0.7}})
    assert rows([a])[0]["by_group"] == "male=80.0 female=60.0"
    assert rows([a, b])[0]["by_group"] == "male=85.0 female=65.0"


def _trained(rec, seed: int, acc: float, epochs: float, budget: float | None, stopped_by: str) -> Record:
    return rec(
        seed, acc, config={"epochs": 1, "batch_size": 128, "lr": 1e-3, "time_budget_s": budget},
        training={"epochs_run": epochs, "stopped_by": stopped_by},
    )  # fmt: skip


def test_runs_with_different_training_budgets_are_not_averaged(rec) -> None:
    short = _trained(rec, 0, 0.3, 0.063, 300.0, "time_budget")
    long = _trained(rec, 0, 0.4, 0.25, 1200.0, "time_budget")
    out = rows([short, long])
    assert len(out) == 2
    assert [r["trained"] for r in out] == ["0.063 ep, 300 s budget", "0.25 ep, 1200 s budget"]
    seeds = rows([_trained(rec, 0, 0.3, 12, 600.0, "epochs"), _trained(rec, 1, 0.4, 12, 600.0, "epochs")])
    assert len(seeds) == 1 and seeds[0]["runs"] == "2" and seeds[0]["trained"] == "12 ep"  # budget not reached
    assert rows([rec(0, 0.5)])[0]["trained"] == "-"  # timing only: nothing trained
