"""Reading checkpoints: a file without its state, truncated, of another kind or holding code is one line
naming the file; a fuzz test: any bytes give a checkpoint or that one line."""

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

TINY = checkpoint.Checkpoint("image", "dnn", "mnist", 10, (1, 28, 28), {"k": "v"}, {"w": torch.zeros(2)}, {})


_DROP = object()  # a _payload change that removes the entry


def _payload(**changes: Any) -> dict[str, Any]:
    base = {
        "format": checkpoint.FORMAT, "task": "image", "model": "dnn", "dataset": "mnist", "num_classes": 10,
        "input_shape": [1, 28, 28], "options": {}, "extra": {}, "model_state": {"w": torch.zeros(2)},
    }  # fmt: skip
    return {k: v for k, v in (base | changes).items() if v is not _DROP}


def test_round_trip(tmp_path: Path) -> None:
    back = checkpoint.load(checkpoint.save(tmp_path / "m.pt", TINY))
    assert back.input_shape == (1, 28, 28) and back.options == {"k": "v"} and back.path == tmp_path / "m.pt"
    assert torch.equal(back.state["w"], torch.zeros(2))


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({}, r"not a cnnbench checkpoint of format 1 \(it holds a dict with format None\)"),
        ([1, 2], r"not a cnnbench checkpoint of format 1 \(it holds list\)"),
        (_payload(model_state=_DROP), r"a checkpoint without its model_state"),
        (_payload(task=_DROP, extra=_DROP), r"a checkpoint without its task, extra"),
        (_payload(model_state={}), r"its model_state is not the model's weights"),
        (_payload(model_state={"w": [1.0]}), r"its model_state is not the model's weights"),
        (_payload(input_shape=[1, 0, 28]), r"its input_shape is not an input shape"),
        (_payload(num_classes=True), r"its num_classes is not a number of classes"),
        (_payload(options={"k": 1}), r"its options is not options"),
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
    torch.save(_payload(extra={"x": _Payload(marker)}), path)
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
