"""Stratified, seeded train/dev/test splits and cross-validation folds of a labelled corpus."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

TEST_FRACTION = 0.1  # 10% test, as one fold of Kim (2014)'s 10-fold protocol on MR
DEV_FRACTION = 0.1  # of what is left: Kim (2014) holds out 10% of the training data for early stopping


def _by_label(labels: Sequence[int], seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    y = np.asarray(labels)
    return [rng.permutation(np.flatnonzero(y == c)) for c in np.unique(y)]


def _take_fraction(idx: np.ndarray, labels: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Split idx into (rest, part) with part a stratified fraction of it."""
    part, rest = [], []
    for members in _by_label(labels[idx], seed):
        n = round(len(members) * fraction)
        part.append(idx[members[:n]])
        rest.append(idx[members[n:]])
    return np.sort(np.concatenate(rest)), np.sort(np.concatenate(part))


def split(labels: Sequence[int], seed: int, fold: tuple[int, int] | None = None) -> dict[str, np.ndarray]:
    """Indices of train, dev and test: a fixed stratified split for a seed, or fold i of k as test."""
    y = np.asarray(labels)
    everything = np.arange(len(y))
    if fold is None:
        rest, test = _take_fraction(everything, y, TEST_FRACTION, seed)
    else:
        i, k = fold
        if not 0 <= i < k:
            raise ValueError(f"fold {i} of {k} does not exist")
        test_parts = [members[i::k] for members in _by_label(y, seed)]  # every k-th of each class
        test = np.sort(np.concatenate(test_parts))
        rest = np.setdiff1d(everything, test)
    train, dev = _take_fraction(rest, y, DEV_FRACTION, seed + 1)
    return {"train": train, "dev": dev, "test": test}
