"""Tiny data sets in each task's real format, shared by the task tests and the registry-wide ones:
rt-polarity sentences (Latin-1) and SGF games."""

from __future__ import annotations

import random
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
def polar_sentences():
    """sentences(positive, n, seed): n distinct labelled sentences with two cue words each."""
    return lambda positive, n, seed: sentences(GOOD if positive else BAD, n, seed)


@pytest.fixture
def rt_dir(tmp_path: Path) -> Path:
    """Pang & Lee's layout, Latin-1 encoded as the v1.0 release is: 60 sentences per class."""
    folder = tmp_path / "rt-polaritydata"
    folder.mkdir()
    (folder / "rt-polarity.pos").write_bytes(("\n".join(sentences(GOOD, 60, 1)) + "\n").encode("latin-1"))
    (folder / "rt-polarity.neg").write_bytes(("\n".join(sentences(BAD, 60, 2)) + "\n").encode("latin-1"))
    return folder



COLS = "abcdefghijklmnopqrs"


def legal_game(seed: int, moves: int = 60) -> str:
    """An SGF game that is legal by construction: black plays on rows 0-8, white on rows 10-18, so no
    stone ever touches the other colour and nothing is captured or suicidal."""
    rng = random.Random(seed)
    black = rng.sample([(r, c) for r in range(9) for c in range(19)], moves // 2)
    white = rng.sample([(r, c) for r in range(10, 19) for c in range(19)], moves // 2)
    pairs = zip(black, white, strict=True)
    body = "".join(f";B[{COLS[bc]}{COLS[br]}];W[{COLS[wc]}{COLS[wr]}]" for (br, bc), (wr, wc) in pairs)
    return f"(;GM[1]SZ[19]KM[6.5]{body})"


@pytest.fixture
def sgf_dir(tmp_path: Path) -> Path:
    """A folder of two SGF collections, 24 legal games."""
    folder = tmp_path / "sgf"
    folder.mkdir()
    for f in range(2):
        (folder / f"games{f}.sgf").write_text("\n".join(legal_game(12 * f + i) for i in range(12)) + "\n")
    return folder
