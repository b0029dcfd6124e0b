"""Accuracy is a measurement: for every registered task, the default and quick profiles stop on machine-
independent budgets (never a wall clock), and the same seed gives the identical primary metric on the CPU
(the quick profile, twice, through the CLI). A new task must add its tiny data here (QUICK_DATA)."""

from collections.abc import Callable
from pathlib import Path

import pytest

from cnnbench.cli.main import main
from cnnbench.registry import default_registry, get_task
from cnnbench.results.record import read_records

TASKS = sorted(default_registry().names())

# task -> (fixture name giving a data folder or None, the run arguments that use it)
QUICK_DATA: dict[str, tuple[str | None, Callable[[Path | None], list[str]]]] = {
    "image": ("mnist_dir", lambda d: ["--dataset", "mnist", "--data-dir", str(d), "--model", "lecture-cnn"]),
    "text": ("rt_dir", lambda d: ["--dataset", "mr", "--data-dir", str(d), "--model", "kim-cnn-rand",
                                  "--option", "embedding=random"]),  # fmt: skip
    "go": ("sgf_dir", lambda d: ["--data", f"sgf={d}", "--model", "alphago-policy", "--option", "filters=8",
                                 "--option", "layers=3"]),  # fmt: skip
    "speech": (None, lambda d: ["--experiment", "digits", "--model", "freq-cnn"]),
}


@pytest.mark.parametrize("name", TASKS)
def test_default_and_quick_profiles_stop_on_machine_independent_budgets(name: str) -> None:
    task = get_task(name)
    for profile in ("quick", "default"):
        for model in [None, *task.models]:
            p = task.profile(profile, model)
            assert p.time_budget_s is None, f"{name}/{model or '*'} {profile} profile stops on a wall clock"
    assert task.profile("default").seeds >= 3, f"{name}: the default profile runs fewer than 3 seeds"


@pytest.mark.slow
@pytest.mark.parametrize("name", TASKS)
def test_same_seed_same_score(name: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    assert name in QUICK_DATA, f"task {name!r} has no tiny data in QUICK_DATA for this test"
    fixture, args = QUICK_DATA[name]
    data = request.getfixturevalue(fixture) if fixture else None
    scores = []
    for attempt in range(2):
        out = tmp_path / f"runs{attempt}"
        argv = ["run", "--task", name, "--quick", "--seed", "3", "--seeds", "1", "--no-timing", "--no-progress"]
        assert main([*argv, *args(data), "--out", str(out)]) == 0
        records = [r for _, r in read_records(out)]
        assert records and all(r.training.stopped_by != "time_budget" for r in records)
        scores.append(sorted((r.experiment or "", r.model, r.score, [p.score for p in r.training.learning_curve])
                             for r in records))  # fmt: skip
    assert scores[0] == scores[1]
