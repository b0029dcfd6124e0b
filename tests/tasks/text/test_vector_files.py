"""Word-vector files from outside: every flaw is one line naming the file and the line or entry, and a fuzz
test: any bytes give vectors or one UsageError."""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from cnnbench.errors import UsageError
from cnnbench_tasks.text import vector_files


def word2vec_c_binary(words: list[str], rows: np.ndarray, newline: bool = True) -> bytes:
    """The layout word2vec.c writes: a newline after each vector (gensim writes none)."""
    out = f"{len(words)} {rows.shape[1]}\n".encode()
    for word, row in zip(words, rows, strict=True):
        out += word.encode() + b" " + row.astype("<f4").tobytes() + (b"\n" if newline else b"")
    return out


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"the 1 2\nfilm nan 2\n", r"line 2: holds NaN"),
        (b"the 1 2\nfilm 1 -inf\n", r"line 2: holds an infinite value"),
        (b"2 2\nthe 1 2\nfilm 1 1e40\n", r"line 3: holds 1e\+40, not a word-vector value"),
        (b"the 1 2\nfilm 1 -2000000\n", r"line 2: holds -2e\+06"),
        (b"the 1 2\nfilm 1 2 3\n", r"line 2: 3 values, expected 2"),
        (b"the 1 2\nfilm 1 0x1\n", r"line 2: '0x1' is not a number"),
        (b"the\n", r"line 1: a word without values"),
    ],
)
def test_bad_text_values_name_file_and_line(tmp_path: Path, body: bytes, message: str) -> None:
    p = tmp_path / "glove.txt"
    p.write_bytes(body)
    with pytest.raises(UsageError, match=f"glove.txt: {message}"):
        vector_files.read_text(p)


def test_bad_values_of_unwanted_words_are_not_read(tmp_path: Path) -> None:
    p = tmp_path / "glove.txt"
    p.write_bytes(b"the 1 2\nfilm nan 2\n")
    assert vector_files.read_text(p, wanted={"the"}).words == ["the"]


def test_a_word_seen_again_is_ignored(tmp_path: Path) -> None:
    p = tmp_path / "glove.txt"
    p.write_bytes(b"the 1 2\nthe 3 4\n")
    found = vector_files.read_text(p)
    assert found.words == ["the"] and found.matrix().tolist() == [[1, 2]]


@pytest.mark.parametrize("newline", [True, False])
def test_binary_layouts(tmp_path: Path, newline: bool) -> None:
    rows = np.arange(6, dtype=np.float32).reshape(3, 2)
    p = tmp_path / "vec.bin"
    p.write_bytes(word2vec_c_binary(["the", "film", "café"], rows, newline))
    found = vector_files.read_binary(p)
    assert found.words == ["the", "film", "café"]
    np.testing.assert_array_equal(found.matrix(), rows)
    assert vector_files.read_binary(p, wanted={"café"}).words == ["café"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (word2vec_c_binary(["a", "b"], np.array([[1, 2], [np.nan, 0]])), r"entry 2 \('b'\): holds NaN"),
        (word2vec_c_binary(["a"], np.array([[1e30, 2]])), r"entry 1 \('a'\): holds 1e\+30"),
        (word2vec_c_binary(["a", "b"], np.ones((2, 2)))[:-3], r"entry 2 of 2 is truncated"),
        (b"3 2\n" + b"a " + struct.pack("<2f", 1, 2), r"entry 2 of 3 is truncated"),
        (b"x y\nab", r"not a word2vec binary file \(the first line is not 'count dim'"),
        (b"0 2\n", r"not a word2vec binary file"),
        (b"", r"not a word2vec binary file"),
        (b"1 2\n\xff\xfe " + struct.pack("<2f", 1, 2), r"entry 1: the word is not UTF-8"),
    ],
)
def test_bad_binary_names_file_and_entry(tmp_path: Path, body: bytes, message: str) -> None:
    p = tmp_path / "vec.bin"
    p.write_bytes(body)
    with pytest.raises(UsageError, match=f"vec.bin: {message}"):
        vector_files.read_binary(p)


def _valid(found: vector_files.WordVectors) -> None:
    matrix = found.matrix()
    assert matrix.shape == (len(found.words), found.dim) and found.dim >= 1
    assert np.isfinite(matrix).all() and (np.abs(matrix) <= vector_files.MAX_ABS_VALUE).all()


def test_fuzz_text_gives_vectors_or_one_line(fuzz_file: Callable[..., None]) -> None:
    fuzz_file("vectors.txt", b"3 2\nthe 0.5 -1\nfilm 1e-3 2\nplot 3 4\n", vector_files.read_text, _valid, cut=12)


def test_fuzz_binary_gives_vectors_or_one_line(fuzz_file: Callable[..., None]) -> None:
    good = word2vec_c_binary(["the", "film"], np.array([[0.5, -1], [2, 3]]))
    fuzz_file("vectors.bin", good, vector_files.read_binary, _valid, cut=12)
