"""A smoke run of the speech task in --quick mode, through the CLI."""

from pathlib import Path

import pytest

from cnnbench.cli.main import main
from cnnbench.registry import get_task
from cnnbench.results.record import read_records


def test_quick_run_of_two_experiments(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "runs"
    code = main(
        [
            "run",
            "--task",
            "speech",
            "--quick",
            "--device",
            "cpu",
            "--no-progress",
            "--out",
            str(out),
            "--experiment",
            "male-to-female",
            "--experiment",
            "phonemes",
            "--model",
            "freq-cnn",
            "--model",
            "dnn",
            "--time-budget",
            "1",
        ]
    )
    assert code == 0
    records = {(r.experiment, r.model): r for _, r in read_records(out)}
    assert set(records) == {
        ("male-to-female", "freq-cnn"),
        ("male-to-female", "dnn"),
        ("phonemes", "freq-cnn"),
        ("phonemes", "dnn"),
    }
    m2f = records[("male-to-female", "freq-cnn")]
    assert m2f.dataset.train_where == {"sex": "male"}
    assert set(m2f.metrics.by_group["sex"]) == {"male", "female"}
    assert m2f.score > 0.2  # ten classes: chance is 0.1
    assert m2f.timing is None  # timed once per model and input, in the digits experiment
    assert m2f.environment is not None and m2f.environment.torch_threads >= 1
    summary = get_task("speech").summarize(list(records.values()))
    assert len(summary) == 2 and summary[0].startswith("male-to-female (trained on male voices), the frequency-only")
    assert "than dnn: INCONCLUSIVE AT N = 1 (single runs: no claim)" in summary[0]
    assert "male-to-female (trained on male voices" in capsys.readouterr().out
    ph = records[("phonemes", "freq-cnn")]
    assert ph.config.input_shape == (1, 40, 11)
    assert ph.timing is not None


def test_an_fsdd_experiment_named_without_its_data_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    args = ["run", "--task", "speech", "--quick", "--no-progress", "--out", str(tmp_path), "--experiment", "fsdd"]
    assert main([*args, "--model", "dnn"]) == 2
    err = capsys.readouterr().err
    assert "experiment 'fsdd' needs data set 'fsdd', which has no default source: pass --data fsdd=PATH" in err
    assert err.count("\n") == 1 and list(tmp_path.rglob("*.json")) == []


def test_default_experiments_without_their_data_are_listed_as_skipped() -> None:
    """Skips are for defaults only: the plan of a plain `run --task speech` includes the FSDD experiments,
    which the CLI reports as skipped (checked on the plan, without training)."""
    from cnnbench.run.plan import RunRequest, plan_runs

    plans = plan_runs(get_task("speech"), RunRequest(task="speech"))
    assert {"fsdd", "synth-to-fsdd"} <= {p.experiment for p in plans}


def test_unknown_experiment(capsys: pytest.CaptureFixture) -> None:
    assert main(["run", "--task", "speech", "--experiment", "nope"]) == 2
    assert "unknown experiment 'nope' of task 'speech'; valid: digits" in capsys.readouterr().err


def test_bad_data_option(capsys: pytest.CaptureFixture) -> None:
    assert main(["run", "--task", "speech", "--data", "fsdd"]) == 2
    assert "--data expects NAME=PATH" in capsys.readouterr().err


def test_data_dir_is_ambiguous_for_experiments(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["run", "--task", "speech", "--data-dir", str(tmp_path)]) == 2
    assert "use --data NAME=PATH" in capsys.readouterr().err
