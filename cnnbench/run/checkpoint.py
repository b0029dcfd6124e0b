"""Model checkpoints: weights plus what is needed to rebuild the model (task, model, shapes, options).

Saved with torch.save, loaded with torch.load(weights_only=True): a checkpoint holds only tensors and
plain values, never pickled code.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from cnnbench.errors import UsageError
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

    def build(self) -> nn.Module:
        """The model with its trained weights, in evaluation mode."""
        task = get_task(self.task)
        module = task.build(self.model, self.num_classes, self.input_shape, {"options": self.options, **self.extra})
        try:
            module.load_state_dict(self.state)
        except RuntimeError as e:
            first = str(e).splitlines()[0]
            raise UsageError(f"checkpoint weights do not fit {self.task}/{self.model}: {first}") from None
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


def load(path: Path, task: str | None = None, model: str | None = None) -> Checkpoint:
    """Read a checkpoint; a checkpoint of another task or model than the one asked for is refused."""
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise UsageError(f"{path}: no such checkpoint") from None
    except Exception as e:  # noqa: BLE001 - torch raises many types for a file that is not a checkpoint
        raise UsageError(f"{path}: not a cnnbench checkpoint ({str(e).splitlines()[0]})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise UsageError(f"{path}: not a cnnbench checkpoint of format {FORMAT}")
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
    )
