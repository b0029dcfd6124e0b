"""Parsers of word-vector files from outside: word2vec binary (.bin), word2vec text (a "count dim" header
line) and GloVe text (no header). Every value is checked; any flaw is one line naming the file and the
line (text) or entry (binary) where it is.

The binary layout is word2vec.c's: a "count dim" line, then per word its UTF-8 bytes, a space and dim
little-endian float32 values, optionally followed by a newline (gensim writes none)."""

from __future__ import annotations

import mmap
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cnnbench.errors import UsageError

# trained word vectors lie within a few units of zero; a value beyond this is a corrupt file
MAX_ABS_VALUE = 1e6


@dataclass
class WordVectors:
    """Words and their vectors in file order; a word seen again is ignored, as gensim does."""

    dim: int
    words: list[str] = field(default_factory=list)
    rows: list[np.ndarray] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)

    def add(self, word: str, row: np.ndarray) -> None:
        if word not in self.seen:
            self.seen.add(word)
            self.words.append(word)
            self.rows.append(row)

    def matrix(self) -> np.ndarray:
        return np.stack(self.rows) if self.rows else np.zeros((0, self.dim), np.float32)


def checked_values(path: Path, where: str, values: np.ndarray) -> np.ndarray:
    """The values as float32, after a check that each is finite and within ±MAX_ABS_VALUE."""
    bad = ~np.isfinite(values) | (np.abs(values) > MAX_ABS_VALUE)
    if bad.any():
        value = values[bad][0]
        what = "NaN" if np.isnan(value) else "an infinite value" if np.isinf(value) else f"{value:g}"
        raise UsageError(f"{path}: {where}: holds {what}, not a word-vector value (finite, within ±{MAX_ABS_VALUE:g})")
    return values.astype(np.float32)


def _header(line: str) -> tuple[int, int] | None:
    """(count, dim) of a word2vec "count dim" line, None for any other line."""
    fields = line.split()
    if len(fields) == 2 and all(f.isdigit() for f in fields):
        return int(fields[0]), int(fields[1])
    return None


def _text_row(path: Path, number: int, fields: list[str]) -> np.ndarray:
    try:
        values = np.array([float(v) for v in fields], dtype=np.float64)
    except ValueError:
        bad = next(v for v in fields if not _is_number(v))
        raise UsageError(f"{path}: line {number}: {bad[:40]!r} is not a number") from None
    return checked_values(path, f"line {number}", values)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def read_text(path: Path, wanted: set[str] | None = None) -> WordVectors:
    """A GloVe or word2vec text file; with `wanted`, only those words' values are read and kept."""
    found: WordVectors | None = None
    with open(path, "rb") as f:
        for number, raw in enumerate(f, 1):
            try:
                line = raw.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError:
                raise UsageError(f"{path}: line {number}: not UTF-8") from None
            header = _header(line) if number == 1 else None
            if header is not None:
                found = WordVectors(header[1])
                continue
            if not line.strip():
                raise UsageError(f"{path}: line {number}: empty line")
            fields = line.rstrip(" ").split(" ")
            if found is None:
                if len(fields) < 2:
                    raise UsageError(f"{path}: line {number}: a word without values")
                found = WordVectors(len(fields) - 1)
            if len(fields) - 1 != found.dim:
                raise UsageError(
                    f"{path}: line {number}: {len(fields) - 1} values, expected {found.dim} like the lines before"
                )
            if wanted is None or fields[0] in wanted:
                found.add(fields[0], _text_row(path, number, fields[1:]))
    if found is None or found.dim < 1:
        raise UsageError(f"{path}: no vectors in the file")
    return found


def _binary_header(path: Path, data: mmap.mmap | bytes) -> tuple[int, int, int]:
    """(count, dim, offset of the first entry) from the "count dim" line."""
    end = data.find(b"\n", 0, 64)
    header = _header(bytes(data[:end]).decode("ascii", "replace")) if end > 0 else None
    if header is None or header[0] < 1 or header[1] < 1:
        raise UsageError(f"{path}: not a word2vec binary file (the first line is not 'count dim' with both above 0)")
    return header[0], header[1], end + 1


def _binary_entries(path: Path, data: mmap.mmap | bytes, wanted: set[str] | None) -> WordVectors:
    count, dim, at = _binary_header(path, data)
    found, width = WordVectors(dim), 4 * dim
    for entry in range(1, count + 1):
        while data[at : at + 1] == b"\n":
            at += 1
        space = data.find(b" ", at, at + 4096)
        if space <= at or space + 1 + width > len(data):
            raise UsageError(
                f"{path}: entry {entry} of {count} is truncated or has no word (the header says {count} "
                f"vectors of {dim} values)"
            )
        try:
            word = bytes(data[at:space]).decode("utf-8")
        except UnicodeDecodeError:
            raise UsageError(f"{path}: entry {entry}: the word is not UTF-8") from None
        if wanted is None or word in wanted:
            values = np.frombuffer(data, dtype="<f4", count=dim, offset=space + 1).astype(np.float64)
            found.add(word, checked_values(path, f"entry {entry} ({word[:40]!r})", values))
        at = space + 1 + width
    return found


def read_binary(path: Path, wanted: set[str] | None = None) -> WordVectors:
    """A word2vec binary file, memory-mapped; with `wanted`, only those words are kept."""
    with open(path, "rb") as f:
        if path.stat().st_size == 0:
            return _binary_entries(path, b"", wanted)
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
            return _binary_entries(path, data, wanted)
