"""Checkpoints: what cannot be rebuilt faithfully, or is not a checkpoint, is refused in one line naming the file;
code in a checkpoint never runs."""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch

from cnnbench.errors import UsageError
from cnnbench.run import checkpoint
from cnnbench.spec import BuildContext, Profile

TRAINED = checkpoint.Trained("mnist", "quick", Profile(epochs=1, batch_size=8, lr=1e-3), split_seed=0, seed=0)
TINY = checkpoint.Checkpoint("dnn", BuildContext("image", 10, (1, 28, 28), {"k": "v"}), {"w": torch.zeros(2)}, TRAINED)

_DROP = object()  # a _payload change that removes the entry


def _payload(**changes: Any) -> dict[str, Any]:
    base = {
        "format": checkpoint.FORMAT, "task": "image", "model": "dnn", "factory": None, "num_classes": 10,
        "input_shape": [1, 28, 28], "options": {}, "data": None, "trained": {"dataset": "mnist"},
        "model_state": {"w": torch.zeros(2)},
    }  # fmt: skip
    return {k: v for k, v in (base | changes).items() if v is not _DROP}


def test_round_trip(tmp_path: Path) -> None:
    back = checkpoint.load(checkpoint.save(tmp_path / "m.pt", TINY))
    assert back.input_shape == (1, 28, 28) and back.context.options == {"k": "v"} and back.path == tmp_path / "m.pt"
    assert back.trained == TRAINED and torch.equal(back.state["w"], torch.zeros(2))


def test_a_format_1_checkpoint_is_refused_saying_why(tmp_path: Path) -> None:
    old = tmp_path / "old.pt"
    torch.save({"format": 1, "task": "speech", "model": "freq-cnn", "extra": {}, "model_state": {}}, old)
    with pytest.raises(UsageError, match="format 1.*lacks what the model was fitted with.*train it again with --save"):
        checkpoint.load(old)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({}, r"not a cnnbench checkpoint of format 2 \(it holds a dict with format None\)"),
        ([1, 2], r"not a cnnbench checkpoint of format 2 \(it holds list\)"),
        (_payload(model_state=_DROP), r"a checkpoint without its model_state"),
        (_payload(task=_DROP, trained=_DROP), r"a checkpoint without its task, trained"),
        (_payload(model_state={}), r"its model_state is not the model's weights"),
        (_payload(model_state={"w": [1.0]}), r"its model_state is not the model's weights"),
        (_payload(input_shape=[1, 0, 28]), r"its input_shape is not an input shape"),
        (_payload(num_classes=True), r"its num_classes is not a number of classes"),
        (_payload(options={"k": 1}), r"its options is not options"),
        (_payload(factory=3), r"its factory is not a model factory"),
        (_payload(trained={"dataset": "mnist"}), r"a damaged cnnbench checkpoint \(KeyError"),
    ],
)
def test_a_checkpoint_without_its_state_is_one_line(tmp_path: Path, payload: Any, message: str) -> None:
    path = tmp_path / "m.pt"
    torch.save(payload, path)
    with pytest.raises(UsageError, match=f"m.pt: {message}"):
        checkpoint.load(path)


class _Payload:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return os.system, (f"touch {self.marker}",)


def test_code_in_a_checkpoint_never_runs(tmp_path: Path) -> None:
    path, marker = tmp_path / "m.pt", tmp_path / "marker"
    torch.save(_payload(data={"x": _Payload(marker)}), path)
    with pytest.raises(UsageError, match=r"m.pt: holds objects other than tensors and plain values \(refused"):
        checkpoint.load(path)
    assert not marker.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", r"not a cnnbench checkpoint \(not a zip archive"),
        (b"hello", r"not a cnnbench checkpoint \(not a zip archive"),
        (pickle.dumps({"format": 1}), r"not a cnnbench checkpoint \(not a zip archive"),
        ("half", r"not a readable checkpoint, truncated or corrupt \(RuntimeError\)"),
    ],
)
def test_truncated_or_foreign_files(tmp_path: Path, content: bytes | str, message: str) -> None:
    path = checkpoint.save(tmp_path / "m.pt", TINY)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2] if content == "half" else content)
    with pytest.raises(UsageError, match=f"m.pt: {message}") as e:
        checkpoint.load(path)
    assert "\n" not in str(e.value)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"absent.pt: no such checkpoint"):
        checkpoint.load(tmp_path / "absent.pt")
    with pytest.raises(UsageError, match=f"{tmp_path.name}: cannot read the checkpoint"):
        checkpoint.load(tmp_path)


def test_weights_that_do_not_fit_name_the_file(tmp_path: Path) -> None:
    path = checkpoint.save(tmp_path / "m.pt", TINY)
    with pytest.raises(UsageError, match=r"m.pt: checkpoint weights do not fit image/dnn: Error\(s\) in loading"):
        checkpoint.load(path).build()


def _valid(ck: checkpoint.Checkpoint) -> None:
    assert all(isinstance(t, torch.Tensor) for t in ck.state.values()) and all(d >= 1 for d in ck.input_shape)


def test_fuzz_any_bytes_give_a_checkpoint_or_one_line(tmp_path: Path, fuzz_file: Callable[..., None]) -> None:
    good = checkpoint.save(tmp_path / "good.pt", TINY).read_bytes()
    fuzz_file("m.pt", good, checkpoint.load, _valid, cut=len(good))
