"""A text checkpoint keeps its vocabulary and word vectors: other sentences are encoded with the ids the model
learned (words it never saw become <unk>), not with a vocabulary built anew on them."""

from pathlib import Path

import pytest

from cnnbench.cli.main import main
from cnnbench.results.record import read_record, read_records
from cnnbench.run import checkpoint
from cnnbench.run.evaluate import checkpoint_data
from cnnbench_tasks.text.data import TextData
from cnnbench_tasks.text.vocab import UNK


def test_eval_encodes_other_sentences_with_the_trained_vocabulary(
    rt_dir: Path, polar_sentences, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    ck_path, out = tmp_path / "kim.pt", tmp_path / "runs"
    args = ["run", "--task", "text", "--quick", "--no-progress", "--no-timing", "--dataset", "mr", "--data-dir"]
    args += [str(rt_dir), "--model", "kim-cnn-rand", "--option", "embedding=random", "--out", str(out)]
    assert main([*args, "--save", str(ck_path)]) == 0
    ((_, trained),) = read_records(out)
    ck = checkpoint.load(ck_path)
    assert isinstance(ck.context.data, TextData) and len(ck.context.data.vocabulary) == trained.dataset.notes[
        "vocabulary"]  # fmt: skip

    other = tmp_path / "other-reviews"
    other.mkdir()
    pos = [s + " marvellous" for s in polar_sentences(True, 30, 7)]  # a word the training never saw
    neg = [s + " marvellous" for s in polar_sentences(False, 30, 8)]
    (other / "rt-polarity.pos").write_text("\n".join(pos) + "\n", encoding="latin-1")
    (other / "rt-polarity.neg").write_text("\n".join(neg) + "\n", encoding="latin-1")
    x, _ = checkpoint_data(ck, "mr", other, "all")
    vocab = ck.context.data.vocabulary
    assert len(x) == 60 and (x.x == UNK).sum(1).min() >= 1  # marvellous: unknown to the model
    assert {vocab[i] for i in x.x.unique().tolist()} >= {"film", "<unk>"}

    assert main(["eval", str(ck_path), "--data", f"mr={other}", "--split", "all", "--out", str(out)]) == 0
    record = read_record(Path(capsys.readouterr().out.split("record: ")[-1].strip()))
    assert record.evaluation.samples == 60 and record.dataset.notes["vocabulary"] == len(vocab)
    assert record.dataset.notes["embedding_source"] == "the model's own"
    assert main(["eval", str(ck_path), "--data-dir", str(rt_dir), "--dataset", "mr", "--out", str(out)]) == 0
    assert read_record(Path(capsys.readouterr().out.split("record: ")[-1].strip())).score == trained.score
