"""Tiny data sets in each task's real format, shared by the task tests and the registry-wide ones:
rt-polarity sentences (Latin-1), SGF games and WAV recordings in FSDD's layout (a tone per digit: learnable)."""

from __future__ import annotations

import random
import wave
from pathlib import Path

import numpy as np
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


def write_games(folder: Path, seeds: range, name: str = "games.sgf") -> Path:
    """An SGF collection of one legal game per seed in folder/name; returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("\n".join(legal_game(s) for s in seeds) + "\n")
    return folder


@pytest.fixture(name="write_games")
def write_games_fixture():
    """write_games(folder, seeds, name="games.sgf"): an SGF collection of legal games, one per seed."""
    return write_games


@pytest.fixture
def sgf_dir(tmp_path: Path) -> Path:
    """A folder of two SGF collections, 24 legal games."""
    for f in range(2):
        write_games(tmp_path / "sgf", range(12 * f, 12 * f + 12), f"games{f}.sgf")
    return tmp_path / "sgf"


def write_wav(path: Path, rate: int, seconds: float = 0.4, freq: float = 440.0, width: int = 2) -> None:
    t = np.arange(int(rate * seconds)) / rate
    audio = (8000 * np.sin(2 * np.pi * freq * t)).astype("<i2")
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(audio.tobytes() if width == 2 else (audio >> 8).astype(np.int8).tobytes())


@pytest.fixture(name="write_wav")
def write_wav_fixture():
    """write_wav(path, rate, seconds=0.4, freq=440.0, width=2): a 16-bit (or 8-bit) mono sine tone."""
    return write_wav


@pytest.fixture
def fsdd_dir(tmp_path: Path) -> Path:
    """recordings/ of FSDD's layout: 10 digits x 2 speakers x 7 takes, a tone of its own per digit."""
    folder = tmp_path / "fsdd" / "recordings"
    for digit in range(10):
        for speaker in ("jackson", "theo"):
            for take in range(7):
                write_wav(folder / f"{digit}_{speaker}_{take}.wav", 8000, freq=200 + 100 * digit)
    return folder


IMAGE_CLASSES = ["airplane", "cat", "ship"]


def write_jpegs(root: Path, per_class: dict[str, int], size: int = 32) -> None:
    """Real JPEG files in the ImageFolder layout of the CIFAR-10 archive (split/class/NNNN.jpg), each class with
    one channel at full brightness over darker noise (learnable)."""
    from PIL import Image

    rng = np.random.default_rng(0)
    for split, n in per_class.items():
        for k, cls in enumerate(IMAGE_CLASSES):
            d = root / split / cls
            d.mkdir(parents=True)
            for i in range(n):
                arr = rng.integers(0, 120, (size, size, 3), dtype=np.uint8)
                arr[..., k] = 255
                Image.fromarray(arr).save(d / f"{i:04d}.jpg", quality=90)


@pytest.fixture(name="write_jpegs")
def write_jpegs_fixture():
    """write_jpegs(root, {split: images per class}, size=32): a tiny image folder of real JPEGs, 3 classes."""
    return write_jpegs
