"""The three timed phases of a model: forward, forward+backward, full training step."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
from torch import nn

from cnnbench.measure.precision import FP32, Precision
from cnnbench.measure.timing import Budget, Stats, measure

PHASES = ("forward", "forward_backward", "train_step")
LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class Workload:
    """A model as the timer and the compile warm-up run it: random example batches of a given size,
    random targets among num_classes, the task's loss, the device and the speed options."""

    model: nn.Module
    example: Callable[[int], torch.Tensor]  # batch size -> a batch of inputs (on any device)
    num_classes: int
    loss_fn: LossFn
    device: torch.device
    precision: Precision = FP32

    def batch(self, size: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """Inputs and targets of one batch, on the device."""
        x = self.example(size).to(self.device)
        y = torch.randint(0, self.num_classes, (size,), generator=gen).to(self.device)
        return x, y


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


def time_phases(work: Workload, batches: tuple[int, ...], budget: Budget) -> dict[str, dict[str, dict]]:
    """Time every phase at every batch size; returns {phase: {"b<batch>": Stats dict}}.

    The weights are restored afterwards so that timing never changes a trained model.
    """
    # train_step is timed with SGD + momentum (its state is thrown away with the restored weights)
    model = work.model
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-6, momentum=0.9)
    out: dict[str, dict[str, dict]] = {p: {} for p in PHASES}
    gen = torch.Generator().manual_seed(0)
    with restoring(model):
        for batch in batches:
            x, y = work.batch(batch, gen)
            for phase in PHASES:
                model.train(phase != "forward")
                run = phase_fn(phase, model, x, y, work.loss_fn, optimizer, work.precision)
                stats: Stats = measure(run, batch, budget, work.device)
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
