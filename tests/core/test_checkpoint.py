"""Checkpoints: what cannot be rebuilt faithfully is refused in one line."""

from pathlib import Path

import pytest
import torch

from cnnbench.errors import UsageError
from cnnbench.run import checkpoint


def test_a_format_1_checkpoint_is_refused_saying_why(tmp_path: Path) -> None:
    old = tmp_path / "old.pt"
    torch.save({"format": 1, "task": "speech", "model": "freq-cnn", "extra": {}, "model_state": {}}, old)
    with pytest.raises(UsageError, match="format 1.*lacks what the model was fitted with.*train it again with --save"):
        checkpoint.load(old)


def test_a_damaged_checkpoint_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pt"
    torch.save({"format": checkpoint.FORMAT, "task": "image", "model": "dnn"}, bad)
    with pytest.raises(UsageError, match=r"bad.pt: a damaged cnnbench checkpoint \(KeyError"):
        checkpoint.load(bad)
