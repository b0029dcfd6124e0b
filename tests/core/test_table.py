import statistics
from collections.abc import Callable

import pytest
from scipy import stats

from cnnbench.results.record import Record
from cnnbench.results.table import COLUMNS, format_markdown, format_run_table, rows


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
    assert first["score"] == "75.00 ± 12.42"  # mean of 70, 80, 75 ± t(0.975, 2) x 5 / sqrt(3)
    assert first["train_s"] == "2.7"  # mean of 2, 4, 2
    assert first["fwd_b1_ms"] == "0.50"  # from the one record that was timed
    assert first["options"] == "embedding=glove-50"  # empty options are not shown
    assert out[1]["runs"] == "1" and out[1]["score"] == "50.00"


def test_markdown_has_one_line_per_group(rec) -> None:
    md = format_markdown([rec(0, 0.7), rec(1, 0.8)])
    assert len(md.splitlines()) == 3 and "| 2 | 75.00 ± 63.53 |" in md  # t(0.975, 1) x 7.07 / sqrt(2)


def test_a_row_of_three_seeds_shows_the_95_percent_t_interval(rec) -> None:
    scores = [0.912, 0.905, 0.931]
    out = rows([rec(seed, acc) for seed, acc in enumerate(scores)])
    assert len(out) == 1 and out[0]["runs"] == "3"
    pct = [100 * s for s in scores]
    low, high = stats.t.interval(0.95, len(pct) - 1, loc=statistics.fmean(pct), scale=stats.sem(pct))
    mean, half = (float(x) for x in out[0]["score"].split(" ± "))
    assert mean == pytest.approx(statistics.fmean(pct), abs=0.005)
    assert half == pytest.approx((high - low) / 2, abs=0.005)
    assert out[0]["score"] == "91.60 ± 3.34"
    assert rows([rec(0, 0.912)])[0]["score"] == "91.20"  # one run: the bare score (runs says n = 1)
    assert "95% t-interval" in dict(COLUMNS)["score"]


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
    assert [r["trained"] for r in out] == ["0.063 ep, cut by 300 s wall clock", "0.25 ep, cut by 1200 s wall clock"]
    seeds = rows([_trained(rec, 0, 0.3, 12, 600.0, "epochs"), _trained(rec, 1, 0.4, 12, 600.0, "epochs")])
    assert len(seeds) == 1 and seeds[0]["runs"] == "2" and seeds[0]["trained"] == "12 ep"  # budget not reached
    assert rows([rec(0, 0.5)])[0]["trained"] == "-"  # timing only: nothing trained


@pytest.mark.parametrize(
    ("stopped", "expected"),
    [
        (["epochs", "epochs"], "12 ep"),
        (["samples", "samples"], "0.5 ep (samples budget)"),
        (["time_budget", "time_budget"], "0.19 ep, cut by 1200 s wall clock"),
        (["time_budget", "epochs"], "6.09 ep, cut by 1200 s wall clock (1/2 runs)"),
    ],
)
def test_trained_says_what_stopped_the_training(rec, stopped: list[str], expected: str) -> None:
    epochs = {"epochs": 12.0, "samples": 0.5, "time_budget": 0.19}
    recs = [_trained(rec, seed, 0.5, epochs[s], 1200.0, s) for seed, s in enumerate(stopped)]
    (row,) = rows(recs)
    assert row["trained"] == expected


def test_a_wall_clock_row_is_recognisable_in_the_printed_table(rec) -> None:
    table = format_run_table([_trained(rec, 0, 0.3, 0.193, 1200.0, "time_budget")])
    assert "0.193 ep, cut by 1200 s wall clock" in table.splitlines()[1]


def _target(score: float, reached: bool, epochs: float = 0.0, seconds: float = 0.0, source: str = "s") -> dict:
    hit = {"samples": int(1000 * epochs), "epochs": epochs, "flops": 6e6 * 1000 * epochs, "seconds": seconds}
    return {"score": score, "source": source, "reached": reached, **(hit if reached else {})}


def _with_targets(rec, seed: int, *targets: dict) -> Record:
    return rec(seed, 0.99, training={"time_to_target": list(targets)})


def test_to_target_reached_not_reached_and_mixed(rec) -> None:
    reached = [_with_targets(rec, s, _target(0.99, True, e, t)) for s, (e, t) in enumerate([(2, 30), (2.2, 40)])]
    reached.append(_with_targets(rec, 2, _target(0.99, True, 2.1, 35)))
    assert rows(reached)[0]["to_target"] == "99%: 2.1 ep / 35 s (3/3)"
    missed = [_with_targets(rec, s, _target(0.99, False)) for s in range(3)]
    assert rows(missed)[0]["to_target"] == "99%: not reached (0/3)"
    mixed = [*reached[:2], missed[2]]
    assert rows(mixed)[0]["to_target"] == "99%: 2.1 ep / 35 s (2/3)"  # means over the runs that reached it
    assert rows([rec(0, 0.5)])[0]["to_target"] == "-"  # a record without targets (timing only, or older)
    assert rows([rec(0, 0.5, training={})])[0]["to_target"] == "-"  # trained before targets were recorded


def test_several_targets_show_the_highest_reached_and_the_lowest_not_reached(rec) -> None:
    def run(seed: int) -> Record:
        return _with_targets(
            rec, seed, _target(0.9125, True, 3, 60), _target(0.94, seed == 0, 12, 250), _target(0.95, False),
            _target(0.96, False),
        )  # fmt: skip

    assert rows([run(0), run(1)])[0]["to_target"] == "94%: 12 ep / 250 s (1/2); 95%: not reached (0/2)"
    assert rows([run(1)])[0]["to_target"] == "91.25%: 3 ep / 60 s (1/1); 94%: not reached (0/1)"


def test_targets_with_test_time_augmentation_are_shown_apart(rec) -> None:
    tta = {"tta": True}
    runs = [_with_targets(rec, s, _target(0.94, False), _target(0.94, True, 10, 3600) | tta) for s in range(2)]
    assert rows(runs)[0]["to_target"] == "94%: not reached (0/2); with TTA at the end, 94%: 10 ep / 3,600 s (2/2)"
