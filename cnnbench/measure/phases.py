"""The three timed phases of a model: forward, forward+backward, full training step."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import torch
from torch import nn

from cnnbench.measure.precision import FP32, Precision
from cnnbench.measure.timing import Budget, Stats, measure

PHASES = ("forward", "forward_backward", "train_step")


def phase_fn(
    phase: str,
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    optimizer: torch.optim.Optimizer,
    precision: Precision = FP32,
) -> Callable[[], object]:
    """A zero-argument callable that runs one phase once on fixed inputs."""
    x = precision.input(x)
    if phase == "forward":

        def forward() -> object:
            with torch.inference_mode(), precision.autocast(x.device):
                return model(x)

        return forward
    if phase in ("forward_backward", "train_step"):
        step = phase == "train_step"

        def backward() -> object:
            optimizer.zero_grad(set_to_none=True)
            with precision.autocast(x.device):
                loss = loss_fn(model(x), y)
            loss.backward()
            if step:
                optimizer.step()
            return loss

        return backward
    raise ValueError(f"unknown phase {phase!r}; valid: {', '.join(PHASES)}")


def time_phases(
    model: nn.Module,
    example: Callable[[int], torch.Tensor],
    num_classes: int,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    batches: tuple[int, ...],
    budget: Budget,
    device: torch.device,
    precision: Precision = FP32,
) -> dict[str, dict[str, dict]]:
    """Time every phase at every batch size; returns {phase: {"b<batch>": Stats dict}}.

    The weights are restored afterwards so that timing never changes a trained model.
    """
    # train_step is timed with SGD + momentum (its state is thrown away with the restored weights)
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-6, momentum=0.9)
    out: dict[str, dict[str, dict]] = {p: {} for p in PHASES}
    gen = torch.Generator().manual_seed(0)
    with restoring(model):
        for batch in batches:
            x = example(batch).to(device)
            y = torch.randint(0, num_classes, (batch,), generator=gen).to(device)
            for phase in PHASES:
                model.train(phase != "forward")
                stats: Stats = measure(phase_fn(phase, model, x, y, loss_fn, optimizer, precision), batch, budget,
                                       device)  # fmt: skip
                out[phase][f"b{batch}"] = stats.as_dict()
    return out


@contextlib.contextmanager
def restoring(model: nn.Module) -> Iterator[None]:
    """Work on a model and leave it as it was: weights and buffers restored, no gradients, eval mode."""
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    try:
        yield
    finally:
        model.load_state_dict(state)
        model.zero_grad(set_to_none=True)
        model.eval()
