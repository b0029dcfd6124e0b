"""A speech checkpoint keeps the per-band normaliser fitted on its training data, and applies it when reloaded:
`cnnbench eval` on FSDD prints what `run` reported for the same split, and on other recordings scores the
normalised spectrograms (without the normaliser the model is fed inputs it never saw, silently)."""

from pathlib import Path

import pytest
import torch

from cnnbench.cli.main import main
from cnnbench.results.record import read_record, read_records
from cnnbench.run import checkpoint
from cnnbench.run.evaluate import checkpoint_data
from cnnbench.run.train import predict
from cnnbench_tasks.speech import data
from cnnbench_tasks.speech.features import BandNorm

CPU = torch.device("cpu")


def test_a_saved_speech_checkpoint_applies_its_normaliser(
    fsdd_dir: Path, write_wav, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    ck_path, out = tmp_path / "freq-cnn.pt", tmp_path / "runs"
    args = ["run", "--task", "speech", "--dataset", "fsdd", "--data", f"fsdd={fsdd_dir}", "--model", "freq-cnn"]
    assert main([*args, "--quick", "--no-timing", "--no-progress", "--out", str(out), "--save", str(ck_path)]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if line.split()[:2] == ["speech", "freq-cnn"])
    ((_, trained),) = read_records(out)

    ck = checkpoint.load(ck_path)
    norm = ck.context.data
    raw = data.load_fsdd(fsdd_dir, CPU)
    fitted = BandNorm.fit(raw.train.x)  # the quick profile's 600-clip limit takes all 40 training clips
    assert isinstance(norm, BandNorm) and (norm.std - 1).abs().max() > 0.1  # not the identity
    torch.testing.assert_close((norm.mean, norm.std), (fitted.mean, fitted.std))
    x, _ = checkpoint_data(ck, data_dir=fsdd_dir)
    torch.testing.assert_close(x.x, norm(raw.test.x))
    model = ck.build()
    assert (predict(model, x.x).argmax(1) == x.y).float().mean().item() == trained.score
    assert not torch.equal(predict(model, x.x).argmax(1), predict(model, raw.test.x).argmax(1))  # unnormalised

    assert main(["eval", str(ck_path), "--data", f"fsdd={fsdd_dir}", "--no-progress", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    own = read_record(Path(printed.split("record: ")[-1].strip()))
    assert own.score == trained.score and f"accuracy: {100 * trained.score:.2f}% (primary)" in printed
    assert f" {100 * trained.score:.2f} " in row  # what the run printed

    other = tmp_path / "more-recordings"  # another speaker's recordings in FSDD's layout: all of them scored
    for digit in range(10):
        for take in range(5):
            write_wav(other / f"{digit}_lucas_{take}.wav", 8000, seconds=0.5, freq=210 + 100 * digit)
    assert main(["eval", str(ck_path), "--data", f"fsdd={other}", "--split", "all", "--no-progress", "--out",
                 str(out)]) == 0  # fmt: skip
    transfer = read_record(Path(capsys.readouterr().out.split("record: ")[-1].strip()))
    assert transfer.evaluation.samples == 50 and transfer.dataset.name == transfer.dataset.test == "fsdd"
    assert str(other) in transfer.dataset.test_source and transfer.score is not None


def test_spectrograms_are_drawn_low_frequencies_at_the_bottom() -> None:
    from cnnbench.registry import get_task

    renderer = get_task("speech").renderer()
    assert (renderer.origin, renderer.aspect) == ("lower", "auto")
    assert get_task("image").renderer() is None  # images: the core's default drawing
