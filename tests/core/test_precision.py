"""--amp and --channels-last: same function, recorded, and refused where they cannot run."""

from pathlib import Path

import pytest
import torch

from cnnbench.cli.main import main
from cnnbench.errors import UsageError
from cnnbench.measure.precision import FP32, Precision
from cnnbench.registry import get_task
from cnnbench.results.record import SpeedOptions, read_record


def test_channels_last_keeps_the_function() -> None:
    task = get_task("image")
    torch.manual_seed(0)
    model = task.build("lecture-cnn").eval()
    x = task.example_input("lecture-cnn", 8)
    with torch.no_grad():
        plain = model(x)
        cl = Precision(channels_last=True)
        fast = cl.model(model)(cl.input(x))
    assert cl.input(x).is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(plain, fast, atol=1e-5, rtol=1e-5)


def test_bf16_autocast_is_close() -> None:
    task = get_task("image")
    torch.manual_seed(0)
    model = task.build("lecture-cnn").eval()
    x = task.example_input("lecture-cnn", 8)
    bf16 = Precision(amp="bf16")
    with torch.no_grad(), bf16.autocast(torch.device("cpu")):
        low = model(x)
    assert low.dtype == torch.bfloat16
    torch.testing.assert_close(low.float(), model(x).detach(), atol=0.1, rtol=0.05)


@pytest.mark.parametrize(
    "precision, shape, message",
    [
        (Precision(amp="fp16"), (1, 28, 28), "--amp fp16 needs a CUDA device"),
        (Precision(channels_last=True), (20,), "--channels-last needs image-like samples"),
    ],
)
def test_impossible_combinations(precision: Precision, shape: tuple, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        precision.check(torch.device("cpu"), shape)
    FP32.check(torch.device("cpu"), shape)  # the plain run is always possible


def test_run_records_the_options(mnist_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "runs"
    args = ["run", "--task", "image", "--model", "lecture-cnn", "--dataset", "mnist", "--data-dir", str(mnist_dir)]
    args += ["--quick", "--no-progress", "--out", str(out), "--channels-last", "--amp", "bf16"]
    assert main(args) == 0
    (path,) = list(out.rglob("*.json"))
    rec = read_record(path)
    assert rec.config.precision == SpeedOptions(amp="bf16", channels_last=True, compile=False)
    assert rec.score > 0.5 and rec.timing["forward"]["b1"].median_ms > 0
    assert "amp=bf16 channels_last" in capsys.readouterr().out
    assert main([*args[:-3], "--amp", "fp16"]) == 2
    assert "--amp fp16 needs a CUDA device" in capsys.readouterr().err


def test_layout_defaults_to_the_models_choice_for_the_device(mnist_dir: Path, tmp_path: Path) -> None:
    """lecture-cnn runs channels_last on the CPU unless told otherwise; models without the choice stay NCHW."""
    base = ["run", "--task", "image", "--dataset", "mnist", "--data-dir", str(mnist_dir), "--quick", "--no-progress",
            "--no-timing", "--epochs", "1"]  # fmt: skip
    layouts = {}
    for flag in ([], ["--no-channels-last"]):
        out = tmp_path / f"runs{len(flag)}"
        assert main([*base, "--model", "lecture-cnn", "--model", "dnn", "--out", str(out), *flag]) == 0
        for path in out.rglob("*.json"):
            rec = read_record(path)
            layouts[(rec.model, bool(flag))] = rec.config.precision.channels_last
    assert layouts == {("lecture-cnn", False): True, ("dnn", False): False,
                       ("lecture-cnn", True): False, ("dnn", True): False}  # fmt: skip
    assert get_task("image").model_spec("lecture-cnn").channels_last_on == ("cpu",)
