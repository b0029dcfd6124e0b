"""The CLI end to end on a fixture MNIST; bad input gets one line, exit code 2 and no record."""

import json
import os
from pathlib import Path

import pytest
import torch

from cnnbench.cli.main import main
from cnnbench.registry import default_registry
from cnnbench.results.record import Dataset, read_record


def run_cli(*args: str) -> int:
    return main(list(args))


def records_in(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.json")) if folder.exists() else []


QUICK = ("--quick", "--device", "cpu", "--no-progress")


def test_run_end_to_end(mnist_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "runs"
    code = run_cli(
        "run",
        "--task",
        "image",
        "--model",
        "lecture-cnn",
        "--model",
        "dnn",
        "--data-dir",
        str(mnist_dir),
        "--out",
        str(out),
        "--epochs",
        "3",
        *QUICK,
    )
    assert code == 0
    paths = records_in(out)
    assert len(paths) == 2
    recs = {r.model: r for r in map(read_record, paths)}
    cnn = recs["lecture-cnn"]
    assert cnn.metrics.params == 137_660
    assert cnn.dataset == Dataset(name="mnist", source=f"dir:{mnist_dir}")
    assert cnn.command.startswith("cnnbench run --task image --model lecture-cnn --model dnn --data-dir")
    assert cnn.training.train_samples == 600 and cnn.training.test_samples == 200
    assert cnn.score > 0.5  # the fixture is learnable: well above chance (0.1)
    assert set(cnn.timing) == {"forward", "forward_backward", "train_step"}
    assert set(cnn.timing["forward"]) == {"b1", "b256"}
    b256 = cnn.timing["forward"]["b256"]
    assert b256.other_cpu_cores is not None and b256.retries >= 0 and b256.interfered in (True, False)
    assert b256.gflops > 0 and 0 < b256.ceiling_fraction
    assert cnn.environment is not None and cnn.environment.governor
    assert cnn.environment.torch_threads >= 1 and cnn.environment.OPENBLAS_CORETYPE_set is not None
    assert cnn.ceiling.matmul_fp32 > 0
    assert cnn.device.type == "cpu" and cnn.device.torch_threads >= 1
    assert "hostname" not in json.dumps(cnn.to_json()["machine"]).lower()
    printed = capsys.readouterr().out
    assert "lecture-cnn" in printed and "137,660" in printed


def test_same_seed_same_accuracy(mnist_dir: Path, tmp_path: Path) -> None:
    accs = []
    for i in range(2):
        out = tmp_path / f"r{i}"
        assert (
            run_cli(
                "run",
                "--task",
                "image",
                "--data-dir",
                str(mnist_dir),
                "--out",
                str(out),
                "--model",
                "lecture-cnn",
                "--no-timing",
                "--seed",
                "3",
                *QUICK,
            )
            == 0
        )
        (path,) = records_in(out)
        accs.append(read_record(path).score)
    assert accs[0] == accs[1]


def test_timing_only_needs_no_data(tmp_path: Path) -> None:
    out = tmp_path / "runs"
    assert run_cli("run", "--task", "image", "--model", "dnn", "--timing-only", "--out", str(out), *QUICK) == 0
    (path,) = records_in(out)
    rec = read_record(path)
    assert rec.dataset.name is None and rec.score is None


@pytest.mark.parametrize(
    "args, message",
    [
        (("--task", "imag"), f"unknown task 'imag'; valid: {', '.join(sorted(default_registry().names()))}"),
        (("--task", "image", "--model", "lenet"), "unknown model of task 'image': 'lenet'; valid:"),
        (("--task", "image", "--dataset", "svhn"), "unknown data set of task 'image': 'svhn'"),
        (("--task", "image", "--data-dir", "/no/such/dir"), "/no/such/dir: data directory for 'mnist' does not exist"),
        (("--task", "image", "--epochs", "0"), "epochs must be between 1 and 100000, got 0"),
        (("--task", "image", "--time-budget", "-1"), "the time budget (seconds) must be between"),
        (("--task", "image", "--time-budget", "nan"), "the time budget (seconds) must be between"),
        (("--task", "image", "--seeds", "1000000000"), "the --seeds count must be between 1 and 1000"),
        (("--task", "image", "--seed", "-1"), "--seed must be between 0 and 4294967295, got -1"),
        (("--task", "image", "--seed", str(2**32)), "--seed must be between 0 and 4294967295"),
        (("--task", "image", "--batch-size", "0"), "the batch size must be between"),
        (("--task", "image", "--option", "x=" + "9" * 5000), "a value of 5,000 characters"),
        (("--task", "image", "--model", "vgg16", "--dataset", "mnist"), "does not train on 'mnist'"),
        (("--task", "image", "--threads", "0"), "--threads must be between 1 and 4096, got 0"),
    ],
)
def test_bad_input_one_line_exit_2(args: tuple, message: str, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "runs"
    code = run_cli("run", *args, "--out", str(out), "--quick", "--no-progress")
    err = capsys.readouterr().err
    assert code == 2
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert records_in(out) == []


@pytest.mark.parametrize("where", ["out-is-a-file", "save-is-a-folder", "save-folder-missing", "out-read-only"])
def test_bad_outputs_fail_before_training(where: str, mnist_dir: Path, tmp_path: Path,
                                          capsys: pytest.CaptureFixture) -> None:  # fmt: skip
    out, save = tmp_path / "runs", tmp_path / "model.pt"
    if where == "out-is-a-file":
        out.write_text("not a folder")
    elif where == "save-is-a-folder":
        save.mkdir()
    elif where == "save-folder-missing":
        save = tmp_path / "nowhere" / "model.pt"
    else:
        out.mkdir()
        out.chmod(0o500)
        if os.access(out, os.W_OK):  # root writes anywhere
            pytest.skip("this user can write to a read-only folder (root)")
    args = ["run", "--task", "image", "--model", "dnn", "--dataset", "mnist", "--data-dir", str(mnist_dir)]
    code = run_cli(*args, "--out", str(out), "--save", str(save), "--quick", "--no-progress")
    captured = capsys.readouterr()
    err = captured.err
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    assert ("--out" in err) if where.startswith("out") else ("--save" in err)
    assert "[image/dnn]" not in captured.out  # nothing trained


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_cuda_without_gpu(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code = run_cli("run", "--task", "image", "--device", "cuda", "--out", str(tmp_path))
    assert code == 2
    assert "no CUDA GPU is available" in capsys.readouterr().err


def test_corrupt_data_file(mnist_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    f = mnist_dir / "train-images-idx3-ubyte"
    f.write_bytes(f.read_bytes()[:1000])
    code = run_cli("run", "--task", "image", "--data-dir", str(mnist_dir), "--out", str(tmp_path / "o"), *QUICK)
    assert code == 2
    assert "train-images-idx3-ubyte: size 1000 bytes does not match its header" in capsys.readouterr().err
    assert records_in(tmp_path / "o") == []


def test_list_and_summary(capsys: pytest.CaptureFixture) -> None:
    assert run_cli("list") == 0
    listed = capsys.readouterr().out
    assert "lecture-cnn" in listed and "mnist" in listed
    assert run_cli("summary", "--task", "image", "--model", "lecture-cnn") == 0
    text = capsys.readouterr().out
    for expected in (
        "250",
        "11,300",
        "125,100",
        "1,010",
        "137,660",
        "25x26x26",
        "25x13x13",
        "50x11x11",
        "50x5x5",
        "1250",
    ):
        assert expected in text


def test_table_from_records(mnist_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "runs"
    run_cli("run", "--task", "image", "--model", "dnn", "--data-dir", str(mnist_dir), "--out", str(out), *QUICK)
    readme = tmp_path / "README.md"
    assert run_cli("table", "--runs", str(out), "--out", str(readme)) == 0
    text = readme.read_text()
    assert "| image | dnn | - | mnist |" in text and "## Columns" in text


def test_machine_reports_ceiling(capsys: pytest.CaptureFixture) -> None:
    assert run_cli("machine", "--device", "cpu") == 0
    out = capsys.readouterr().out
    assert "matmul fp32 2048x2048:" in out and "GFLOP/s" in out and "copy bandwidth:" in out
