"""`cnnbench eval` of a Go checkpoint: on its own test split it prints what `run` reported; on another SGF
folder it extracts the features the model was trained on (the checkpoint's feature layout) and writes a record
that says where the model was trained and what it was scored on."""

from pathlib import Path

import pytest

from cnnbench.cli.main import main
from cnnbench.results.record import read_record, read_records
from cnnbench.run import checkpoint
from cnnbench.run.evaluate import checkpoint_data
from cnnbench_tasks.go.models import packed_bytes


def _record_of(printed: str):
    return read_record(Path(printed.split("record: ")[-1].strip()))


def test_eval_of_a_go_checkpoint_on_its_test_split_and_on_another_folder(
    sgf_dir: Path, write_games, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    ck, out = tmp_path / "policy.pt", tmp_path / "runs"
    args = ["run", "--task", "go", "--quick", "--no-progress", "--no-timing", "--data", f"sgf={sgf_dir}", "--model",
            "alphago-policy", "--option", "features=raw", "--option", "filters=8", "--option", "layers=3"]  # fmt: skip
    assert main([*args, "--out", str(out), "--save", str(ck)]) == 0
    table = capsys.readouterr().out.splitlines()
    ((_, trained),) = read_records(out)

    assert main(["eval", str(ck), "--data", f"sgf={sgf_dir}", "--no-progress", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    own = _record_of(printed)
    assert own.metrics.scores == trained.metrics.scores  # the run's test split, scored the same
    row = next(line for line in table if line.split()[:2] == ["go", "alphago-policy"])
    assert f"top1: {100 * trained.score:.2f}% (primary)" in printed and f" {100 * trained.score:.2f} " in row
    assert own.evaluation.samples == trained.training.test_samples and own.evaluation.split == "test"
    assert own.evaluation.trained_record == str(read_records(out)[0][0]) and own.factory is None

    (tmp_path / "file").write_text("")  # what eval writes and reads is checked before any work
    refusals = [
        (["--out", str(tmp_path / "file")], f"--out {tmp_path / 'file'}: exists and is not a folder"),
        (["--dataset", "kgs"], "unknown data set of task 'go': 'kgs'; valid: gnugo-selfplay, sgf"),
        (["--dataset", "sgf"], "data set 'sgf' has no default source; pass --data sgf=PATH"),
    ]
    for bad, message in refusals:
        assert main(["eval", str(ck), *bad, "--no-progress"]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1

    other = write_games(tmp_path / "other-games", range(100, 112))
    assert main(["eval", str(ck), "--data", f"sgf={other}", "--split", "all", "--no-progress", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    transfer = _record_of(printed)
    assert transfer.evaluation.split == "all" and transfer.dataset.test == "sgf"
    assert transfer.dataset.name == "sgf" and str(other) in transfer.dataset.test_source
    assert transfer.evaluation.samples == 12 * 60 and transfer.evaluation.checkpoint == str(ck)
    assert transfer.options["features"] == "raw" and transfer.training is None
    assert 0 <= transfer.metrics.scores["top1"] <= transfer.metrics.scores["top5"] <= 1
    assert f"scored on sgf (all: {12 * 60:,} samples)" in printed
    x, _ = checkpoint_data(checkpoint.load(ck), "sgf", other, "all")
    assert x.x.shape == (12 * 60, packed_bytes(12))  # the raw layout the model was trained on, not alphago48


def test_eval_refuses_bad_input_before_any_work(sgf_dir: Path, tmp_path: Path, capsys) -> None:
    assert main(["eval", str(tmp_path / "none.pt")]) == 2
    assert "none.pt: no such checkpoint" in capsys.readouterr().err
    assert main(["eval", str(tmp_path / "none.pt"), "--data", f"sgf={tmp_path / 'nowhere'}"]) == 2
    assert "nowhere: data directory does not exist" in capsys.readouterr().err


def test_run_of_the_sgf_data_set_named_without_its_data_is_an_error(tmp_path: Path, capsys) -> None:
    """Named explicitly, a data set without data is exit code 2 and one line, not a skip that exits 0."""
    out = tmp_path / "runs"
    assert main(["run", "--task", "go", "--dataset", "sgf", "--quick", "--no-progress", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == "cnnbench: error: data set 'sgf' has no default source: pass --data sgf=PATH\n"
    assert not list(out.rglob("*.json"))
