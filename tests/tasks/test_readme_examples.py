"""The README's examples run as written, on tiny data: the user model file, benchmarked on the image and the
speech tasks with one command each, and a Go checkpoint scored with `cnnbench eval` on another SGF folder.
Only the data paths are replaced by fixtures and tiny settings appended (one epoch, no timing)."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

from cnnbench.results.record import read_records

README = Path(__file__).resolve().parents[2] / "README.md"
CLI = str(Path(sys.executable).with_name("cnnbench"))
TINY = ["--no-timing", "--no-progress"]


def _blocks_after(heading: str) -> list[str]:
    """The fenced code blocks of the README from a line on, in order."""
    text = README.read_text(encoding="utf-8")
    return re.findall(r"```[a-z]*\n(.*?)```", text[text.index(heading) :], flags=re.S)


def _commands(block: str) -> list[list[str]]:
    return [shlex.split(line.split("#")[0]) for line in block.splitlines() if line.startswith("cnnbench ")]


def _run(argv: list[str], cwd: Path) -> str:
    assert argv[0] == "cnnbench"
    done = subprocess.run([CLI, *argv[1:]], cwd=cwd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{shlex.join(argv)}\n{done.stderr[-3000:]}"
    return done.stdout


def test_the_user_model_example(mnist_dir: Path, tmp_path: Path) -> None:
    source, commands = _blocks_after("## Your own model")[:2]
    assert 15 <= len(source.splitlines()) <= 25  # a ~20-line file
    (tmp_path / "my_models.py").write_text(source)
    image, speech = _commands(commands)
    assert image[:3] == ["cnnbench", "run", "--task"] and image[3] == "image" and speech[3] == "speech"
    runs = tmp_path / "runs"
    _run([*image, "--data-dir", str(mnist_dir), "--epochs", "1", *TINY, "--out", str(runs)], tmp_path)
    _run([*speech, "--epochs", "1", *TINY, "--out", str(runs)], tmp_path)  # generates the quick corpus
    records = {r.task: r for _, r in read_records(runs)}
    assert set(records) == {"image", "speech"}
    for r in records.values():
        assert r.model == r.factory == "my_models:small_cnn" and r.score is not None and r.metrics.params > 0


def test_the_eval_example(sgf_dir: Path, write_games, tmp_path: Path) -> None:
    (commands,) = _blocks_after("## Scoring a trained model on other data")[:1]
    train, evaluate = _commands(commands)
    other = write_games(tmp_path / "other-games", range(100, 112))
    runs = tmp_path / "runs"
    train = [a.replace("../shared/data/go/tom-9d", str(sgf_dir)) for a in train]
    small = ["--option", "filters=8", "--option", "layers=3"]
    _run([*train, *small, *TINY, "--out", str(runs)], tmp_path)
    assert (tmp_path / "go-policy.pt").is_file()
    evaluate = [a.replace("PATH/TO/OTHER-GAMES", str(other)) for a in evaluate]
    printed = _run([*evaluate, "--no-progress", "--out", str(runs)], tmp_path)
    assert "go/alphago-policy, trained on sgf (quick profile, seed 0), scored on sgf (all: 720 samples)" in printed
    evaluated = [r for _, r in read_records(runs) if r.evaluation is not None]
    assert len(evaluated) == 1 and str(other) in evaluated[0].dataset.test_source
