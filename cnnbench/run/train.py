"""The training and evaluation loop over on-device tensors: no per-sample Python work."""

from __future__ import annotations

import contextlib
import math
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from cnnbench.data.stream import StreamedInputs, feed, in_batches
from cnnbench.measure.interference import CpuLoadMeter
from cnnbench.measure.precision import FP32, Precision
from cnnbench.run.distributed import SINGLE, World, any_rank, maybe_kill_self, mean_over_ranks, shard
from cnnbench.spec import Profile, TensorData

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
# a random transform of a training batch on its device, its draws from the generator (e.g. Augmentation.train)
BatchTransform = Callable[[torch.Tensor, torch.Generator], torch.Tensor]
ScoreFn = Callable[[torch.Tensor, torch.Tensor], float]  # (logits, target) -> higher is better


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def make_optimizer(model: nn.Module, profile: Profile) -> torch.optim.Optimizer:
    if profile.optimizer == "adam":
        return torch.optim.Adam(model.parameters(), lr=profile.lr, weight_decay=profile.weight_decay)
    if profile.optimizer == "sgd":
        return torch.optim.SGD(
            model.parameters(),
            lr=profile.lr,
            momentum=profile.momentum,
            weight_decay=profile.weight_decay,
            nesterov=profile.nesterov and profile.momentum > 0,
        )
    raise ValueError(f"unknown optimizer {profile.optimizer!r}")


def lr_factor(profile: Profile, step: int, total: int) -> float:
    """The learning rate's factor at a step of `total` planned steps under the profile's schedule."""
    if profile.schedule == "constant" or total <= 0:
        return 1.0
    at = step / total
    if profile.schedule == "cosine":
        return 0.5 * (1 + math.cos(math.pi * min(at, 1.0)))
    points = profile.lr_points
    if profile.schedule == "step":
        return next((f for x, f in reversed(points) if at >= x), 1.0)
    if profile.schedule == "linear":
        if at <= points[0][0]:
            return points[0][1]
        for (x0, f0), (x1, f1) in zip(points, points[1:], strict=False):
            if at <= x1:
                return f0 + (f1 - f0) * (at - x0) / (x1 - x0) if x1 > x0 else f1
        return points[-1][1]
    raise ValueError(f"unknown schedule {profile.schedule!r}")


def make_scheduler(optimizer: torch.optim.Optimizer, profile: Profile, total_steps: int):
    """The profile's schedule over the planned steps (None: a constant learning rate)."""
    if profile.schedule == "constant":
        return None
    if profile.schedule == "cosine":  # torch's, as before lr_factor existed: earlier runs repeat exactly
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total_steps)
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: lr_factor(profile, step, total_steps))


@dataclass(frozen=True)
class CurvePoint:
    """The score of the model on the curve split after so much training (evaluation time excluded)."""

    samples: int
    epochs: float
    seconds: float
    score: float


@dataclass
class TrainResult:
    epochs_run: float  # fractional when a budget cut an epoch short
    steps: int
    samples: int
    train_seconds: float  # evaluation for the learning curve and the dev split excluded
    samples_per_second: float
    final_loss: float
    stopped_by: str  # "epochs" | "samples" | "flops" | "time_budget"
    best_epoch: float | None = None  # with a dev split: the epoch whose weights were kept
    dev_scores: list[float] | None = None  # with a dev split: its score after each epoch
    planned_steps: int = 0  # the steps the budget allows (the schedule's length); 0: none taken
    other_cpu_cores: float | None = None  # cores other processes kept busy during training (load, not ours)
    eval_seconds: float = 0.0  # spent scoring the curve and the dev split, outside train_seconds
    curve: list[CurvePoint] | None = None


@dataclass(frozen=True)
class Curve:
    """Score the model at `points` evenly spaced steps of the planned training (and at its end)."""

    score: Callable[[nn.Module], float]
    points: int = 10


def planned_steps(n: int, profile: Profile) -> int:
    """Steps the machine-independent budget allows: the profile's epochs, capped by max_samples.

    The learning-rate schedule is sized from this, so a run that the sample budget stops still anneals.
    A wall-clock budget (--time-budget) cannot be known in advance: a run it stops is cut short."""
    bs = min(profile.batch_size, n)
    per_epoch = math.ceil(n / bs)  # the last batch of an epoch may be short
    steps = per_epoch * profile.epochs
    if profile.max_samples is not None:
        whole, rest = divmod(profile.max_samples, n)
        steps = min(steps, whole * per_epoch + math.ceil(rest / bs))
    return steps


def train(
    model: nn.Module,
    data: TensorData,
    loss_fn: LossFn,
    profile: Profile,
    seed: int,
    progress: bool = True,
    desc: str = "train",
    dev: TensorData | None = None,
    score: ScoreFn | None = None,
    precision: Precision = FP32,
    world: World = SINGLE,
    curve: Curve | None = None,
    augment: BatchTransform | None = None,
) -> TrainResult:
    """Train in place on tensors already on the model's device; returns what the run did.

    Training stops after the profile's epochs, or its max_samples, or (when the user set one) its
    wall-clock time budget, whichever comes first. With a dev split and a score, the model is scored on
    dev after every epoch (and when a budget stops it) and ends with the weights of the best-scoring
    epoch (early stopping, as Kim 2014). With a curve, the model is scored at evenly spaced steps.
    Scoring time is kept out of the training time and the time budget.

    With several processes (world), every rank draws the same permutation and takes its share of each
    global batch; DistributedDataParallel averages the gradients, and each rank's loss is weighted by its
    share, so a step equals the single-process step on the same global batch.

    With augment, every training batch is transformed on its device before the step, its random draws from a
    generator on that device seeded from `seed` (the global batch is transformed, then shared out, so the draws
    do not depend on the number of processes).
    """
    if (dev is None) != (score is None):
        raise ValueError("dev and score go together")
    loop = _Loop(model, data, loss_fn, profile, seed, precision, world, augment)
    selector = _BestEpoch(model, dev, score, precision) if dev is not None and score is not None else None
    curve_at = _curve_steps(loop.total_steps, curve.points) if curve is not None else set()
    points: list[CurvePoint] = []
    bar = tqdm(total=loop.total_steps, desc=desc, unit="step", disable=not progress, leave=False, mininterval=0.5)
    meter = CpuLoadMeter()
    meter.start()
    n = len(data)
    stopped_by = "epochs"
    for epoch in range(profile.epochs):
        for batch in loop.batches():
            loop.step(batch)
            bar.update(1)
            if progress and loop.steps % 50 == 0:
                bar.set_postfix(epoch=f"{epoch + 1}/{profile.epochs}", **loop.running(), refresh=False)
            stopped_by = loop.stop_reason()
            if stopped_by != "running" and loop.lookahead is not None:
                loop.lookahead.finish(loop.steps)  # the curve's last point, the dev check and the record see it
            if loop.steps in curve_at:
                points.append(loop.observe(curve))
            if stopped_by != "running":
                break
        if selector is not None:
            with loop.clock.paused():
                selector.check(round(loop.samples / n, 4))
                model.train()
        if stopped_by != "running":
            break
    if curve is not None and loop.steps and (not points or points[-1].samples != loop.samples):
        points.append(loop.observe(curve))  # the end of training is always a point of the curve
    if selector is not None:
        selector.restore()
    loss_value = loop.final_loss()
    with loop.clock.paused():  # waits for the device: queued kernels count as training
        pass
    seconds = loop.clock.seconds()
    other = meter.stop()
    bar.close()
    return TrainResult(
        epochs_run=round(loop.samples / n, 4),
        steps=loop.steps,
        samples=loop.samples,
        train_seconds=seconds,
        samples_per_second=loop.samples / seconds if seconds > 0 else float("inf"),
        final_loss=loss_value,
        stopped_by="epochs" if stopped_by == "running" else stopped_by,
        best_epoch=selector.best_epoch if selector else None,
        dev_scores=selector.scores if selector else None,
        planned_steps=loop.total_steps,
        other_cpu_cores=None if other is None else round(other, 3),
        eval_seconds=loop.clock.paused_seconds,
        curve=points if curve is not None else None,
    )


class _Lookahead:
    """Lookahead weight averaging as Jordan 2024 uses it (after Zhang et al. 2019): every `every` steps the model's
    float state (weights and buffers such as a norm's running statistics) moves to an average of itself, which
    itself moves towards the model by 1 - decay, decay = 0.95^every x (step / planned steps)^3 (no averaging at
    first, more towards the end); the run ends on the average. The same on every rank: the ranks' weights are
    equal after each step."""

    def __init__(self, model: nn.Module, every: int, total_steps: int) -> None:
        self.every, self.total = every, max(total_steps, 1)
        self.state = [t for t in model.state_dict().values() if t.is_floating_point()]
        self.average = [t.detach().clone() for t in self.state]

    def step(self, steps: int) -> None:
        if steps % self.every == 0:
            self._pull(self._decay(steps))

    def finish(self, steps: int) -> None:
        """The end of training: the steps since the last pull are averaged in as a pull would (none are lost),
        then the model takes the average."""
        if steps % self.every:
            self._pull(self._decay(steps))
        self._pull(1.0)

    def _decay(self, steps: int) -> float:
        return 0.95**self.every * min(steps / self.total, 1.0) ** 3

    @torch.no_grad()
    def _pull(self, decay: float) -> None:
        for average, live in zip(self.average, self.state, strict=True):
            average.lerp_(live, 1 - decay)
            live.copy_(average)


class _Loop:
    """The state of one training run: optimiser, schedule, data order, counters and the training clock."""

    def __init__(self, model: nn.Module, data: TensorData, loss_fn: LossFn, profile: Profile, seed: int,
                 precision: Precision, world: World, augment: BatchTransform | None = None) -> None:  # fmt: skip
        self.model, self.data, self.loss_fn, self.profile = model, data, loss_fn, profile
        self.precision, self.world = precision, world
        self.n = len(data)
        self.bs = min(profile.batch_size, self.n)
        self.total_steps = planned_steps(self.n, profile)
        self.optimizer = make_optimizer(model, profile)
        self.scheduler = make_scheduler(self.optimizer, profile, self.total_steps)
        self.gen = torch.Generator().manual_seed(seed)
        self.device = data.x.device
        self.augment = augment
        if augment is not None:  # its own stream on the data's device, not the data order's
            self.augment_gen = torch.Generator(self.device).manual_seed(augment_seed(seed))
        self.step_model = model
        if world.active:
            self.step_model = _ddp(model, self.device)
            # the data order comes from gen, the same on every rank; dropout masks and other draws must not
            # repeat across ranks (each rank's share of a batch would get the same mask)
            torch.manual_seed(seed * 1_000_003 + world.rank)
        self.scaler = precision.scaler(self.device)
        self.lookahead = _Lookahead(model, profile.lookahead, self.total_steps) if profile.lookahead else None
        self.steps = self.samples = 0
        self.loss = torch.zeros((), device=self.device)
        # running loss and training accuracy, accumulated on the device (a .item() per step would sync)
        self.running_loss = torch.zeros((), device=self.device)
        self.running_correct = torch.zeros((), device=self.device, dtype=torch.long)
        self.seen_since = 0
        model.train()
        self.clock = _TrainingClock(self.device)

    def batches(self) -> Iterator[_Batch]:
        """One epoch's global batches in the seeded order (the same for a tensor and a stream): this rank's
        share of each, with its inputs (a stream's read ahead by its workers)."""
        perm = torch.randperm(self.n, generator=self.gen)
        if not isinstance(self.data.x, StreamedInputs):
            perm = perm.to(self.device)  # index on the device: no host round trip per step
        global_batches = [perm[start : start + self.bs] for start in range(0, self.n, self.bs)]
        shares = [shard(idx, self.world) for idx in global_batches]
        inputs = feed(self.data.x, [mine for mine, _ in shares])
        for idx, (mine, weight), xb in zip(global_batches, shares, inputs, strict=True):
            yield _Batch(idx, mine.to(self.device, non_blocking=True), weight, xb)

    def step(self, batch: _Batch) -> None:
        mine, weight = batch.mine, batch.weight
        xb, yb = self.precision.input(self._inputs(batch)), self.data.y[mine]
        self.optimizer.zero_grad(set_to_none=True)
        with self.precision.autocast(self.device):
            logits = self.step_model(xb)
            loss = self.loss_fn(logits, yb) if len(mine) else logits.sum() * 0.0
            if self.world.active:
                loss = loss * weight
        if self.scaler is not None:
            self.scaler.scale(loss).backward()
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            loss.backward()
            self.optimizer.step()
        if self.scheduler is not None:
            self.scheduler.step()
        maybe_kill_self(self.world)
        self.steps += 1
        if self.lookahead is not None:
            self.lookahead.step(self.steps)
        self.samples += batch.size
        self.loss = loss.detach()
        self.running_loss += self.loss * len(mine)
        self.running_correct += (logits.detach().argmax(1) == yb).sum()
        self.seen_since += len(mine)

    def _inputs(self, batch: _Batch) -> torch.Tensor:
        """This rank's inputs of the global batch, augmented when asked: in memory, the whole global batch is
        augmented and this rank takes its rows, so the draws do not depend on the number of processes; a
        stream holds only this rank's share, which is augmented alone (the same draws on one process)."""
        if self.augment is None:
            return batch.x
        if not self.world.active or isinstance(self.data.x, StreamedInputs):
            return self.augment(batch.x, self.augment_gen)
        x = self.augment(self.data.x[batch.idx], self.augment_gen)
        return x[self.world.rank :: self.world.size]  # the rows shard() took

    def running(self) -> dict[str, str]:
        """Loss and accuracy on the training batches since the last call (labelled as training accuracy)."""
        seen = max(self.seen_since, 1)
        out = {
            "loss": f"{self.running_loss.item() / seen:.4f}",
            "train_acc": f"{self.running_correct.item() / seen:.3f}",
            "sps": f"{self.samples / max(self.clock.seconds(), 1e-9):.0f}",
        }
        self.running_loss.zero_()
        self.running_correct.zero_()
        self.seen_since = 0
        return out

    def observe(self, curve: Curve) -> CurvePoint:
        with self.clock.paused():
            point = CurvePoint(self.samples, round(self.samples / self.n, 4), self.clock.seconds(),
                               curve.score(self.model))  # fmt: skip
            self.model.train()
        return point

    def stop_reason(self) -> str:
        """ "running", or what stops training now: its planned steps ("epochs", "samples" or "flops", the budget
        that sized them) or the wall clock."""
        if self.steps >= self.total_steps:
            if self.profile.train_flops is not None:
                return "flops"
            return "epochs" if self.samples >= self.n * self.profile.epochs else "samples"
        budget = self.profile.time_budget_s
        if budget is not None and any_rank(self.clock.seconds() >= budget, self.world, self.device):
            return "time_budget"
        return "running"

    def final_loss(self) -> float:
        return mean_over_ranks(self.loss.item(), self.world, self.device) if self.steps else float("nan")


def augment_seed(seed: int) -> int:
    """The augmentation generator's seed: the run's, moved off the data order's own stream."""
    return (seed * 0x9E3779B1 + 0x5EED) % 2**63


@dataclass(frozen=True)
class _Batch:
    """One step's data: the global batch (indices), this rank's share (indices on the device), its loss
    weight, and its inputs."""

    idx: torch.Tensor
    mine: torch.Tensor
    weight: float
    x: torch.Tensor

    @property
    def size(self) -> int:
        return len(self.idx)


def _curve_steps(total: int, points: int) -> set[int]:
    """`points` steps spread evenly over the planned training, the last one at its end."""
    return {max(1, round(total * (i + 1) / points)) for i in range(points)} if total and points else set()


class _TrainingClock:
    """Wall time of training alone: time spent scoring (curve, dev split) is paused out.

    On a GPU it synchronises before each reading, so queued kernels are counted where they belong."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self._t0 = time.perf_counter()
        self.paused_seconds = 0.0

    def _sync(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    def seconds(self) -> float:
        return time.perf_counter() - self._t0 - self.paused_seconds

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        self._sync()
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self._sync()
            self.paused_seconds += time.perf_counter() - t0


class _BestEpoch:
    """Scores a model on a dev split and keeps a copy of the best weights seen."""

    def __init__(self, model: nn.Module, dev: TensorData, score: ScoreFn, precision: Precision) -> None:
        self.model, self.dev, self.score, self.precision = model, dev, score, precision
        self.scores: list[float] = []
        self.best_epoch: float | None = None
        self._best_state: dict[str, torch.Tensor] | None = None

    def check(self, epoch: float) -> None:
        value = self.score(predict(self.model, self.dev.x, precision=self.precision), self.dev.y)
        self.scores.append(round(value, 6))
        if self.best_epoch is None or value > max(self.scores[:-1]):
            self.best_epoch = epoch
            self._best_state = {k: v.detach().clone() for k, v in self.model.state_dict().items()}

    def restore(self) -> None:
        if self._best_state is not None:
            self.model.load_state_dict(self._best_state)


def _ddp(model: nn.Module, device: torch.device) -> nn.Module:
    from torch.nn.parallel import DistributedDataParallel

    return DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)


def predict(
    model: nn.Module, x: torch.Tensor | StreamedInputs, batch_size: int = 1024, precision: Precision = FP32
) -> torch.Tensor:
    """Logits for all of x (as fp32), in evaluation mode and batches."""
    model.eval()
    outs = []
    with torch.inference_mode(), precision.autocast(x.device):
        for xb in in_batches(x, batch_size):
            outs.append(model(precision.input(xb)).float())
    return torch.cat(outs)
