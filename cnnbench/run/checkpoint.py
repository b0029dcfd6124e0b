"""Model checkpoints: the weights plus everything needed to rebuild the model and feed it as in training: the
build context (task, classes, input shape, options, and the task's DataExtra fitted on the training data, e.g.
a vocabulary or a normaliser), the factory of a model from outside the task, and where it was trained.

Saved with torch.save, loaded with torch.load(weights_only=True): a checkpoint holds only tensors and plain
values, never pickled code.
"""

from __future__ import annotations

import dataclasses
import pickle
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from cnnbench.errors import UsageError, reason
from cnnbench.io import atomic_path
from cnnbench.registry import get_task
from cnnbench.spec import BuildContext, Profile

FORMAT = 2  # 1: before the build context (no fitted preprocessing, no training provenance): refused


@dataclass(frozen=True)
class Trained:
    """Where and how the model was trained: what `cnnbench eval` needs to load the same data again (the split's
    seed, the profile that sized the data set, the test filter) and to say where the model came from."""

    dataset: str
    profile_name: str
    profile: Profile
    split_seed: int  # the data split's seed (run --seed)
    seed: int  # the run's seed (its test subset is drawn with seed + 1)
    source: str | None = None
    test_dataset: str | None = None  # the data set the run tested on, when not `dataset`
    test_where: dict[str, str] = field(default_factory=dict)
    experiment: str | None = None
    fold: tuple[int, int] | None = None
    amp: str | None = None  # the run's --amp and layout: evaluated the same way, its scores are reproduced
    channels_last: bool = False
    record: str | None = None  # the training run's record

    @property
    def tested_on(self) -> str:
        return self.test_dataset or self.dataset


@dataclass(frozen=True)
class Checkpoint:
    model: str
    context: BuildContext
    state: dict[str, torch.Tensor]
    trained: Trained
    factory: str | None = None  # package.module:function of a model from outside the task
    path: Path | None = None  # the file it was loaded from, named in messages

    @property
    def task(self) -> str:
        return self.context.task

    @property
    def input_shape(self) -> tuple[int, ...]:
        return self.context.input_shape

    def build(self) -> nn.Module:
        """The model with its trained weights, in evaluation mode."""
        task = get_task(self.task)
        module = task.build(self.factory or self.model, self.context)
        try:
            module.load_state_dict(self.state)
        except RuntimeError as e:
            where = f"{self.path}: " if self.path else ""
            raise UsageError(f"{where}checkpoint weights do not fit {self.task}/{self.model}: {reason(e)}") from None
        return module.eval()


def save(path: Path, checkpoint: Checkpoint) -> Path:
    """Write the checkpoint through a temporary file and a rename."""
    with atomic_path(path) as tmp:
        write(tmp, checkpoint)
    return path


def write(file: Path, checkpoint: Checkpoint) -> None:
    """Write the checkpoint to `file` as it is (save() writes it through a temporary file and a rename)."""
    ctx = checkpoint.context
    trained = dataclasses.asdict(checkpoint.trained)
    payload = {
        "format": FORMAT,
        "task": ctx.task,
        "model": checkpoint.model,
        "factory": checkpoint.factory,
        "num_classes": ctx.num_classes,
        "input_shape": list(ctx.input_shape),
        "options": dict(ctx.options),
        "data": _cpu(ctx.data.state()) if ctx.data is not None else None,
        "trained": trained,
        "model_state": _cpu(checkpoint.state),
    }
    torch.save(payload, file)


def _cpu(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v.detach().cpu() if isinstance(v, torch.Tensor) else v for k, v in values.items()}


ZIP_MAGIC = b"PK\x03\x04"  # torch.save writes a zip archive


def _name(v: Any) -> bool:
    return isinstance(v, str) and bool(v)


# the entries of a checkpoint: what each must be (a test), and how the message says it
_ENTRIES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "task": (_name, "a task name"),
    "model": (_name, "a model name"),
    "factory": (lambda v: v is None or _name(v), "a model factory (package.module:function) or none"),
    "num_classes": (lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1, "a number of classes"),
    "input_shape": (
        lambda v: isinstance(v, list) and 1 <= len(v) <= 4 and all(isinstance(d, int) and d >= 1 for d in v),
        "an input shape (1 to 4 positive sizes)",
    ),
    "options": (lambda v: isinstance(v, dict) and all(isinstance(x, str) for x in [*v, *v.values()]), "options"),
    "data": (lambda v: v is None or (isinstance(v, dict) and all(isinstance(k, str) for k in v)),
             "the data's fitted state (fields by name) or none"),  # fmt: skip
    "trained": (lambda v: isinstance(v, dict) and all(isinstance(k, str) for k in v), "where it was trained"),
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
    if isinstance(payload, dict) and payload.get("format") == 1:
        raise UsageError(f"{path}: a checkpoint of an older cnnbench (format 1) that lacks what the model was fitted "
                         "with (e.g. the speech normaliser); train it again with --save")  # fmt: skip
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
    try:
        trained = dict(payload["trained"])
        trained["profile"] = Profile(**trained["profile"])
        trained["fold"] = tuple(trained["fold"]) if trained.get("fold") else None
        context = BuildContext(payload["task"], int(payload["num_classes"]), tuple(payload["input_shape"]),
                               dict(payload["options"]), _data(payload["task"], payload["data"]))  # fmt: skip
        return Checkpoint(payload["model"], context, payload["model_state"], Trained(**trained), payload["factory"],
                          path)  # fmt: skip
    except (KeyError, TypeError, ValueError, UsageError) as e:
        raise UsageError(f"{path}: a damaged cnnbench checkpoint ({type(e).__name__}: {reason(e)})") from None


def _data(task_name: str, state: dict[str, Any] | None) -> Any:
    """The task's DataExtra from its stored fields."""
    if state is None:
        return None
    data_type = get_task(task_name).data_type
    if data_type is None:
        raise TypeError(f"task {task_name!r} keeps no data in checkpoints, but this one holds {sorted(state)}")
    return data_type(**state)
