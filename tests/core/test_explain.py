"""Explain methods on tiny models, and the CLI on a checkpoint trained on the MNIST fixture."""

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from cnnbench.cli.main import main
from cnnbench.errors import UsageError
from cnnbench.explain.attribution import gram, occlusion, saliency
from cnnbench.explain.dream import dream
from cnnbench.explain.layers import activation, find_layer, layer_names
from cnnbench.explain.maximize import Settings, maximize
from cnnbench.explain.style import transfer
from cnnbench.run import checkpoint


class LeftHalf(nn.Module):
    """Scores depend only on the left half of a 1x4x4 image."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 3, 2)
        self.fc1 = nn.Linear(3 * 3 * 1, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.conv1(x[..., :, :2]))  # columns 0-1 only: 3x1 positions
        return self.fc1(h.flatten(1))


def test_layer_names_and_unknown_layer() -> None:
    m = LeftHalf()
    assert layer_names(m) == ["conv1", "fc1", "output"]
    with pytest.raises(UsageError, match="unknown layer 'conv9'; valid: conv1, fc1, output"):
        find_layer(m, "conv9")
    assert activation(m, "conv1", torch.zeros(1, 1, 4, 4)).shape == (1, 3, 3, 1)


def test_maximisation_raises_the_activation() -> None:
    torch.manual_seed(0)
    m = LeftHalf()
    r = maximize(m, "conv1", 0, (1, 4, 4), Settings(steps=50, lr=0.1, low=-1, high=1))
    assert r.end > r.start + 0.5
    again = maximize(m, "conv1", 0, (1, 4, 4), Settings(steps=50, lr=0.1, low=-1, high=1))
    assert torch.equal(r.image, again.image)  # deterministic for a seed


def test_saliency_is_zero_where_the_input_cannot_matter() -> None:
    torch.manual_seed(0)
    x = torch.randn(3, 1, 4, 4)
    s = saliency(LeftHalf(), x, torch.tensor([0, 1, 0]))
    assert s.shape == x.shape
    assert (s[..., 2:] == 0).all() and (s[..., :2] > 0).any()


def test_occluding_background_changes_nothing() -> None:
    torch.manual_seed(1)
    x = torch.zeros(1, 4, 4)
    x[:, :, :2] = torch.rand(1, 4, 2) + 0.5  # the right half is background (0)
    net = LeftHalf()
    heat = occlusion(net, x, target=1, patch=2, stride=2, fill=0.0)
    with torch.no_grad():
        base = net(x[None]).softmax(1)[0, 1]
    assert heat.shape == (2, 2)
    torch.testing.assert_close(heat[:, 1], base.expand(2))  # patches on the background: unchanged
    assert not torch.allclose(heat[:, 0], base.expand(2))  # patches on the digit: changed


def test_dream_pushes_activations_away_from_zero() -> None:
    torch.manual_seed(0)
    x = torch.randn(1, 4, 4)
    result, before, after = dream(LeftHalf(), x, "conv1", steps=10, lr=0.05, octaves=2)
    assert result.shape == x.shape and after > before


def test_style_loss_decreases() -> None:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 4, 3, padding=1))
    content, style = torch.randn(1, 8, 8), torch.randn(1, 8, 8)
    r = transfer(net, content, style, steps=30, lr=0.05)
    assert r.style_losses[-1] < 0.5 * r.style_losses[0]


def test_gram_of_a_known_feature_map() -> None:
    f = torch.tensor([[[1.0, 0.0], [0.0, 1.0]], [[2.0, 2.0], [0.0, 0.0]]])  # 2 channels, 2x2
    torch.testing.assert_close(gram(f), torch.tensor([[0.5, 0.5], [0.5, 2.0]]))


def test_cli_on_a_checkpoint(mnist_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    ck = tmp_path / "model.pt"
    args = ["run", "--task", "image", "--model", "lecture-cnn", "--dataset", "mnist", "--data-dir", str(mnist_dir)]
    args += ["--quick", "--no-timing", "--no-progress", "--out", str(tmp_path / "runs"), "--save", str(ck)]
    assert main(args) == 0
    out = tmp_path / "pics"
    common = ["--checkpoint", str(ck), "--out", str(out), "--no-progress"]
    assert main(["explain", "filters", *common, "--layer", "conv1"]) == 0
    assert main(["explain", "maximize", *common, "--layer", "conv2", "--units", "0-2", "--steps", "20"]) == 0
    assert main(["explain", "maximize", *common, "--output-class", "0,1", "--steps", "20", "--l1", "0.01",
                 "--nonneg"]) == 0  # fmt: skip
    assert main(["explain", "saliency", *common, "--index", "0-2", "--data-dir", str(mnist_dir)]) == 0
    assert main(["explain", "occlusion", *common, "--index", "0", "--data-dir", str(mnist_dir)]) == 0
    printed = [line.split(" ", 1)[1] for line in capsys.readouterr().out.splitlines() if line.startswith("wrote ")]
    assert len(printed) == 5
    for p in printed:
        with Image.open(p) as img:
            assert img.format == "PNG" and img.size[0] > 100
    pic = tmp_path / "digit.png"
    Image.fromarray((np.random.default_rng(0).random((40, 30)) * 255).astype(np.uint8)).save(pic)
    assert main(["explain", "dream", *common, "--image", str(pic), "--layer", "conv2", "--steps", "5"]) == 0
    assert main(["explain", "style", *common, "--content", str(pic), "--style", str(pic), "--steps", "5"]) == 0
    printed = capsys.readouterr().out
    assert "feature extractor: the trained image/lecture-cnn" in printed and (out / "style.png").exists()
    assert (out / "image-lecture-cnn_dream_conv2.png").exists()
    assert main(["explain", "style", "--content", str(pic), "--style", str(pic), "--out", str(out)]) == 2
    assert "style needs a feature extractor" in capsys.readouterr().err
    assert main(["explain", "filters", *common, "--layer", "fc9"]) == 2
    with pytest.raises(UsageError, match="a checkpoint of task 'image', not 'text'"):
        checkpoint.load(ck, task="text")
    with pytest.raises(UsageError, match="a checkpoint of model 'lecture-cnn', not 'dnn'"):
        checkpoint.load(ck, model="dnn")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(UsageError, match="junk.pt: not a cnnbench checkpoint"):
        checkpoint.load(tmp_path / "junk.pt")


def test_save_needs_one_run(mnist_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    args = ["run", "--task", "image", "--dataset", "mnist", "--data-dir", str(mnist_dir), "--quick"]
    assert main([*args, "--save", str(tmp_path / "m.pt"), "--out", str(tmp_path)]) == 2
    assert "--save needs exactly one trained run; this command plans 2" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("method", "given", "message"),
    [
        ("occlusion", ["--stride", "0"], "--stride must be between 1 and"),
        ("occlusion", ["--stride", "-2"], "--stride must be between 1 and"),
        ("occlusion", ["--patch", "0"], "--patch must be between 1 and"),
        ("maximize", ["--lr", "nan"], "--lr must be between 1e-09 and 1000, got nan"),
        ("maximize", ["--lr", "inf"], "--lr must be between"),
        ("maximize", ["--lr", "0"], "--lr must be between"),
        ("maximize", ["--lr", "-0.1"], "--lr must be between"),
        ("maximize", ["--steps", "0"], "--steps must be between 1 and 100000, got 0"),
        ("maximize", ["--steps", "-5"], "--steps must be between 1 and 100000"),
        ("maximize", ["--l1", "nan"], "--l1 must be between"),
        ("maximize", ["--seed", "-1"], "--seed must be between 0 and 4294967295"),
        ("dream", ["--octaves", "0"], "--octaves must be between 1 and 8, got 0"),
        ("dream", ["--octaves", "-3"], "--octaves must be between 1 and 8"),
    ],
)
def test_bad_numbers_are_refused_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture, method: str, given: list[str], message: str
) -> None:
    """The checkpoint named does not exist: the number is refused before it is looked for."""
    args = ["explain", method, "--checkpoint", str(tmp_path / "absent.pt"), "--out", str(tmp_path / "out"), *given]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


@pytest.fixture
def untrained_checkpoint(tmp_path: Path) -> Path:
    """A lecture-cnn checkpoint on 28x28 inputs, untrained (the checks need only its input shape)."""
    from cnnbench.registry import get_task
    from cnnbench.spec import BuildContext, Profile

    task = get_task("image")
    ctx = BuildContext("image", 10, (1, 28, 28), task.resolve_options({}))
    trained = checkpoint.Trained("mnist", "quick", Profile(epochs=1, batch_size=8, lr=1e-3), split_seed=0, seed=0)
    ck = checkpoint.Checkpoint("lecture-cnn", ctx, task.build("lecture-cnn", ctx).state_dict(), trained)
    return checkpoint.save(tmp_path / "m.pt", ck)


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (["--patch", "29"], "--patch (the input is 28x28) must be between 1 and 28, got 29"),
        (["--stride", "100"], "--stride (the input is 28x28) must be between 1 and 28, got 100"),
    ],
)
def test_patch_and_stride_must_fit_the_input(
    tmp_path: Path, capsys: pytest.CaptureFixture, untrained_checkpoint: Path, given: list[str], message: str
) -> None:
    out = tmp_path / "out"
    assert main(["explain", "occlusion", "--checkpoint", str(untrained_checkpoint), "--out", str(out), *given]) == 2
    assert message in capsys.readouterr().err
    assert list(out.iterdir()) == []


@pytest.mark.parametrize("flag", ["--checkpoint", "--vgg16-weights", "--image", "--content"])
def test_input_files_missing_or_empty_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture, flag: str) -> None:
    (tmp_path / "empty").write_bytes(b"")
    for path, problem in ((tmp_path / "absent", "no such file"), (tmp_path / "empty", "an empty file")):
        assert main(["explain", "style", flag, str(path), "--out", str(tmp_path / "out")]) == 2
        assert capsys.readouterr().err.strip().endswith(f"{flag} {path}: {problem}")


def test_out_that_is_a_file_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture, untrained_checkpoint: Path
) -> None:
    (tmp_path / "taken").write_text("x")
    args = ["explain", "filters", "--checkpoint", str(untrained_checkpoint), "--out", str(tmp_path / "taken")]
    assert main(args) == 2
    assert "--out " in capsys.readouterr().err and (tmp_path / "taken").read_text() == "x"
