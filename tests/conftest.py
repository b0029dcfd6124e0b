"""Shared fixtures: an isolated data cache and a tiny MNIST in the real IDX format."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cnnbench_tasks.image.idx import write_idx


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test reads or fills the user's real cache."""
    cache = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("CNNBENCH_DATA", str(cache))
    return cache


def make_digits(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Learnable 28x28 images: each class a bright bar at its own position, plus noise."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n).astype(np.uint8)
    images = rng.integers(0, 40, (n, 28, 28)).astype(np.uint8)
    for i, k in enumerate(labels):
        images[i, 2 + 2 * k : 4 + 2 * k, 4:24] = 250
    return images, labels


@pytest.fixture
def mnist_dir(tmp_path: Path) -> Path:
    """A tiny MNIST folder: the four files with the official names, 600 train and 200 test samples."""
    folder = tmp_path / "mnist"
    folder.mkdir()
    tr_x, tr_y = make_digits(600, 1)
    te_x, te_y = make_digits(200, 2)
    write_idx(folder / "train-images-idx3-ubyte", tr_x)
    write_idx(folder / "train-labels-idx1-ubyte", tr_y)
    write_idx(folder / "t10k-images-idx3-ubyte.gz", te_x)  # mixed plain and gz, as users have them
    write_idx(folder / "t10k-labels-idx1-ubyte.gz", te_y)
    return folder
