"""Model checkpoints: weights plus what is needed to rebuild the model (task, model, shapes, options).

Saved with torch.save, loaded with torch.load(weights_only=True): a checkpoint holds only tensors and
plain values, never pickled code.
"""

from __future__ import annotations

import pickle
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from cnnbench.errors import UsageError, reason
from cnnbench.io import atomic_path
from cnnbench.registry import get_task

FORMAT = 1


@dataclass(frozen=True)
class Checkpoint:
    task: str
    model: str
    dataset: str | None
    num_classes: int
    input_shape: tuple[int, ...]
    options: dict[str, str]
    state: dict[str, torch.Tensor]
    extra: dict[str, Any]  # the data's resources the model was built with (e.g. vocabulary and vectors)
    path: Path | None = None  # the file it was loaded from, named in messages

    def build(self) -> nn.Module:
        """The model with its trained weights, in evaluation mode."""
        task = get_task(self.task)
        module = task.build(self.model, self.num_classes, self.input_shape, {"options": self.options, **self.extra})
        try:
            module.load_state_dict(self.state)
        except RuntimeError as e:
            where = f"{self.path}: " if self.path else ""
            raise UsageError(f"{where}checkpoint weights do not fit {self.task}/{self.model}: {reason(e)}") from None
        return module.eval()


def save(path: Path, checkpoint: Checkpoint) -> Path:
    """Write the checkpoint through a temporary file and a rename."""
    payload = {
        "format": FORMAT,
        "task": checkpoint.task,
        "model": checkpoint.model,
        "dataset": checkpoint.dataset,
        "num_classes": checkpoint.num_classes,
        "input_shape": list(checkpoint.input_shape),
        "options": dict(checkpoint.options),
        "extra": dict(checkpoint.extra),
        "model_state": {k: v.detach().cpu() for k, v in checkpoint.state.items()},
    }
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
    return path


ZIP_MAGIC = b"PK\x03\x04"  # torch.save writes a zip archive

# the entries of a checkpoint: what each must be (a test), and how the message says it
_ENTRIES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "task": (lambda v: isinstance(v, str) and bool(v), "a task name"),
    "model": (lambda v: isinstance(v, str) and bool(v), "a model name"),
    "dataset": (lambda v: v is None or isinstance(v, str), "a data set name or none"),
    "num_classes": (lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1, "a number of classes"),
    "input_shape": (
        lambda v: isinstance(v, list) and 1 <= len(v) <= 4 and all(isinstance(d, int) and d >= 1 for d in v),
        "an input shape (1 to 4 positive sizes)",
    ),
    "options": (lambda v: isinstance(v, dict) and all(isinstance(x, str) for x in [*v, *v.values()]), "options"),
    "extra": (lambda v: isinstance(v, dict), "the data's resources"),
    "model_state": (
        lambda v: isinstance(v, dict) and bool(v) and all(isinstance(t, torch.Tensor) for t in v.values()),
        "the model's weights (tensors by name)",
    ),
}


def _read_payload(path: Path) -> Any:
    """What torch.load(weights_only=True) finds in the file: a file that is not a torch.save zip archive,
    or is truncated, or holds more than tensors and plain values, is one line naming the file."""
    try:
        with open(path, "rb") as f:
            magic = f.read(len(ZIP_MAGIC))
    except FileNotFoundError:
        raise UsageError(f"{path}: no such checkpoint") from None
    except OSError as e:
        raise UsageError(f"{path}: cannot read the checkpoint ({e.strerror or reason(e)})") from None
    if magic != ZIP_MAGIC:
        raise UsageError(f"{path}: not a cnnbench checkpoint (not a zip archive as torch.save writes)")
    try:
        with warnings.catch_warnings():  # torch warns about the pickle protocol of files it then reads
            warnings.simplefilter("ignore")
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        if "Weights only load failed" in str(e):
            raise UsageError(
                f"{path}: holds objects other than tensors and plain values (refused: loading them could run code)"
            ) from None
        raise UsageError(f"{path}: not a readable checkpoint ({reason(e)})") from None
    except Exception as e:  # noqa: BLE001 - torch raises many types for a damaged archive
        raise UsageError(f"{path}: not a readable checkpoint, truncated or corrupt ({type(e).__name__})") from None


def _checked(path: Path, payload: Any) -> dict[str, Any]:
    """The payload, after a check of each entry a checkpoint holds."""
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        found = f"a dict with format {payload.get('format')!r}" if isinstance(payload, dict) else type(payload).__name__
        raise UsageError(f"{path}: not a cnnbench checkpoint of format {FORMAT} (it holds {found})")
    missing = [key for key in _ENTRIES if key not in payload]
    if missing:
        raise UsageError(f"{path}: a checkpoint without its {', '.join(missing)}")
    for key, (valid, what) in _ENTRIES.items():
        if not valid(payload[key]):
            raise UsageError(f"{path}: its {key} is not {what}")
    return payload


def load(path: Path, task: str | None = None, model: str | None = None) -> Checkpoint:
    """Read a checkpoint; a checkpoint of another task or model than the one asked for is refused."""
    payload = _checked(path, _read_payload(path))
    if task is not None and payload["task"] != task:
        raise UsageError(f"{path}: a checkpoint of task {payload['task']!r}, not {task!r}")
    if model is not None and payload["model"] != model:
        raise UsageError(f"{path}: a checkpoint of model {payload['model']!r}, not {model!r}")
    return Checkpoint(
        payload["task"],
        payload["model"],
        payload["dataset"],
        payload["num_classes"],
        tuple(payload["input_shape"]),
        payload["options"],
        payload["model_state"],
        payload["extra"],
        path,
    )
