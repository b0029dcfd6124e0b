"""A model defined outside the repository, named as package.module:function or registered as an entry point,
gets what a built-in model gets on the image and the speech tasks: run (training, timing, a record naming the
factory), summary, --save, eval and explain. A bad reference fails in one line with exit code 2."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from cnnbench.cli.main import main
from cnnbench.measure.counting import count_params
from cnnbench.registry import get_task
from cnnbench.results.record import read_record, read_records
from cnnbench.run import checkpoint

MODULE = "outside_models"
SOURCE = '''
from torch import nn


class TinyCNN(nn.Module):
    def __init__(self, channels, num_classes):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, 8, 3, padding=1)
        self.fc1 = nn.Linear(8, num_classes)

    def forward(self, x):
        return self.fc1(self.conv1(x).relu().mean((2, 3)))


def tiny_cnn(ctx):
    """One 3x3 convolution, global average pooling, one dense layer."""
    return TinyCNN(ctx.input_shape[0], ctx.num_classes)


def not_a_model(ctx):
    return 42


NOT_CALLABLE = 3
'''
REF = f"{MODULE}:tiny_cnn"
CLI = str(Path(sys.executable).with_name("cnnbench"))


@pytest.fixture
def models_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder outside the repository holding the user's module, on sys.path."""
    folder = tmp_path_factory.getbasetemp() / "user-models"
    folder.mkdir(exist_ok=True)
    (folder / f"{MODULE}.py").write_text(SOURCE)
    (folder / "broken_models.py").write_text("def f(ctx:\n")
    monkeypatch.syspath_prepend(str(folder))
    return folder


def _written(out: str) -> list[str]:
    return [line.split(" ", 1)[1] for line in out.splitlines() if line.startswith("wrote ")]


def _through_everything(task: str, dataset: str, folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """run (with --save), summary, eval on the run's test split, explain: the model is the user's throughout."""
    ck, out = tmp_path / "model.pt", tmp_path / "runs"
    data = ["--dataset", dataset, "--data", f"{dataset}={folder}"]
    run = ["run", "--task", task, "--model", REF, *data, "--quick", "--epochs", "1", "--no-progress"]
    assert main([*run, "--device", "cpu", "--out", str(out), "--save", str(ck)]) == 0
    ((path, record),) = read_records(out)
    built = get_task(task).build(REF, checkpoint.load(ck).context)
    assert record.model == REF and record.factory == REF and record.score is not None
    assert record.metrics.params == count_params(built) and record.metrics.flops_fwd > 0
    assert f"{task}  {REF}" in capsys.readouterr().out  # the run's table names it
    assert main(["summary", "--task", task, "--model", REF]) == 0
    printed = capsys.readouterr().out
    assert f"{task}/{REF}: {REF}: One 3x3 convolution" in printed and "conv1" in printed

    loaded = checkpoint.load(ck)
    assert (loaded.model, loaded.factory, loaded.trained.record) == (REF, REF, str(path))
    assert main(["eval", str(ck), *data[2:], "--device", "cpu", "--no-progress", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    evaluated = read_record(Path(printed.split("record: ")[1].strip()))
    assert evaluated.score == record.score and f"accuracy: {100 * record.score:.2f}% (primary)" in printed
    assert evaluated.evaluation.checkpoint == str(ck) and evaluated.evaluation.trained_record == str(path)

    pics = ["--checkpoint", str(ck), "--out", str(tmp_path / "pics"), "--no-progress"]
    assert main(["explain", "filters", *pics, "--layer", "conv1"]) == 0
    assert main(["explain", "saliency", *pics, "--index", "0-1", "--data-dir", str(folder)]) == 0
    written = _written(capsys.readouterr().out)
    assert len(written) == 2 and all(Path(p).read_bytes()[:4] == b"\x89PNG" for p in written)


def test_a_user_model_on_the_image_task(models_dir: Path, mnist_dir: Path, tmp_path: Path, capsys) -> None:
    _through_everything("image", "mnist", mnist_dir, tmp_path, capsys)


def test_a_user_model_on_the_speech_task(models_dir: Path, fsdd_dir: Path, tmp_path: Path, capsys) -> None:
    _through_everything("speech", "fsdd", fsdd_dir, tmp_path, capsys)


def test_a_user_model_is_timed(models_dir: Path, tmp_path: Path) -> None:
    args = ["run", "--task", "image", "--model", REF, "--timing-only", "--quick", "--device", "cpu", "--no-progress"]
    assert main([*args, "--out", str(tmp_path)]) == 0
    ((_, record),) = read_records(tmp_path)
    assert record.factory == REF and record.timing and set(record.timing["forward"]) == {"b1", "b256"}


@pytest.mark.parametrize(
    "reference, message",
    [
        ("no_such_module:f", "model no_such_module:f: cannot import no_such_module (ModuleNotFoundError"),
        ("broken_models:f", "model broken_models:f: cannot import broken_models (SyntaxError"),
        (f"{MODULE}:missing", f"model {MODULE}:missing: {MODULE} has no attribute 'missing'"),
        (f"{MODULE}:NOT_CALLABLE", f"model {MODULE}:NOT_CALLABLE: NOT_CALLABLE is a int, not a function"),
        (f"{MODULE}:not_a_model", f"model '{MODULE}:not_a_model' of task 'image': its factory returned a int, not"),
        ("lenet", "unknown model of task 'image': 'lenet'; valid: cnn-nopool, dnn, dnn-small, fastnet, googlenet"),
    ],
)
def test_a_bad_reference_is_one_line(models_dir: Path, capsys, reference: str, message: str) -> None:
    assert main(["summary", "--task", "image", "--model", reference]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def _cli(args: list[str], cwd: Path, pythonpath: Path | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run([CLI, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_the_cnnbench_script_finds_a_module_in_the_current_folder(models_dir: Path) -> None:
    done = _cli(["summary", "--task", "speech", "--model", REF], cwd=models_dir)
    assert done.returncode == 0, done.stderr
    assert "input: 1x40x101" in done.stdout


def test_an_entry_point_registers_a_model_for_a_task(models_dir: Path, tmp_path: Path) -> None:
    """A package's `[project.entry-points."cnnbench.models"]` entry `image:tiny = outside_models:tiny_cnn`."""
    dist = tmp_path / "site" / "outside_models-0.1.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: outside-models\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(f"[cnnbench.models]\nimage:tiny = {REF}\n")
    (tmp_path / "site" / f"{MODULE}.py").write_text(SOURCE)
    listed = _cli(["list", "--task", "image"], cwd=tmp_path, pythonpath=tmp_path / "site")
    assert listed.returncode == 0, listed.stderr
    assert re.search(rf"\n    tiny +{re.escape(REF)} \(registered in cnnbench.models\)", listed.stdout), listed.stdout
    summary = _cli(["summary", "--task", "image", "--model", "tiny"], cwd=tmp_path, pythonpath=tmp_path / "site")
    assert summary.returncode == 0, summary.stderr
    assert "image/tiny: outside_models:tiny_cnn: One 3x3 convolution" in summary.stdout
    other_task = _cli(["summary", "--task", "speech", "--model", "tiny"], cwd=tmp_path, pythonpath=tmp_path / "site")
    assert other_task.returncode == 2 and "unknown model of task 'speech': 'tiny'" in other_task.stderr


def test_the_factory_is_given_the_build_context(models_dir: Path) -> None:
    task = get_task("speech")
    ctx = task.context(REF)
    assert (ctx.task, ctx.num_classes, ctx.input_shape, ctx.data) == ("speech", 10, (1, 40, 101), None)
    assert task.build(REF, ctx)(torch.randn(2, *ctx.input_shape)).shape == (2, 10)
