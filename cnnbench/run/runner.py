"""One benchmark run, in stages: build and count, compile, train, evaluate, time, record.

Each stage takes the run's RunContext; run_one chains them and returns the typed Record."""

from __future__ import annotations

import dataclasses
import math
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import partial
from pathlib import Path
from typing import Any

import torch
from torch import nn

from cnnbench.data.cache import cache_root
from cnnbench.errors import UsageError
from cnnbench.io import atomic_path, sync
from cnnbench.machine.ceiling import ceiling, matmul_peak
from cnnbench.machine.environment import (
    git_commit,
    machine_info,
    machine_slug,
    threads_info,
    timing_environment,
    versions,
)
from cnnbench.measure.counting import count_flops, count_params
from cnnbench.measure.interference import gpu_sharers
from cnnbench.measure.phases import Workload, time_phases
from cnnbench.measure.precision import FP32, Precision
from cnnbench.measure.timing import Budget
from cnnbench.results import record as rec
from cnnbench.run import checkpoint
from cnnbench.run.compiling import eval_batches, graphs_compiled, train_batches, warm_up
from cnnbench.run.distributed import SINGLE, World, describe, mean_over_ranks, same_on_all_ranks
from cnnbench.run.plan import RunPlan
from cnnbench.run.train import Curve, TrainResult, predict, seed_everything, train
from cnnbench.spec import BuildContext, DataExtra, DataRequest, Profile, Splits, Task, TensorData


class DataCache:
    """Loads each (data set, input shape) once per process; the splits stay on the CPU."""

    def __init__(
        self,
        task: Task,
        data_dirs: Mapping[str, Path],
        seed: int,
        device: torch.device,
        progress: bool = True,
        profile: str = "default",
    ) -> None:
        self.task, self.data_dirs, self.seed = task, dict(data_dirs), seed
        self.device, self.progress, self.profile = device, progress, profile
        self._loaded: dict[tuple, Splits] = {}

    def available(self, dataset: str) -> bool:
        return not self.task.data_spec(dataset).needs_dir or dataset in self.data_dirs

    def get(
        self,
        dataset: str,
        input_shape: tuple[int, ...],
        options: Mapping[str, str] | None = None,
        fold: tuple[int, int] | None = None,
        fitted: DataExtra | None = None,
        seed: int | None = None,
    ) -> Splits:
        """A data set's splits; fitted: the DataExtra of the data a model trains on, when this one is only tested;
        seed (the run's) draws the split where the data set's split follows it."""
        if not self.available(dataset):
            raise UsageError(f"data set {dataset!r} has no default source; pass --data {dataset}=PATH")
        options = dict(options or {})
        if seed is None or not self.task.data_spec(dataset).split_follows_seed:
            seed = self.seed
        else:  # a run plans seed by seed: another seed's splits of this data set are not needed again
            for old in [k for k in self._loaded if k[0] == dataset and k[-1] != seed]:
                del self._loaded[old]
        key = (dataset, input_shape, tuple(sorted(options.items())), fold, id(fitted), seed)
        if key not in self._loaded:
            request = DataRequest(
                dataset,
                self.data_dirs.get(dataset),
                cache_root(),
                input_shape,
                seed,
                self.device,
                self.progress,
                self.profile,
                options,
                fold,
                fitted,
            )
            self._loaded[key] = self.task.load(request)
        return self._loaded[key]


def prepare_splits(task: Task, plan: RunPlan, data: DataCache, device: torch.device) -> Splits:
    """Train and test data of one run: filtered, limited, normalised on the training data, on device."""
    assert plan.dataset is not None
    shape = task.input_shape(plan.model, plan.options)
    source = data.get(plan.dataset, shape, plan.options, plan.fold, seed=plan.split_seed)
    test_source = (data.get(plan.test_dataset, shape, plan.options, plan.fold, fitted=source.data, seed=plan.split_seed)
                   if plan.test_dataset else source)  # fmt: skip
    train_part = source.train.where(plan.train_where).take(plan.profile.train_limit, plan.seed)
    test_part = scored_split(test_source, plan.test_where, plan.profile.test_limit, plan.seed,
                             plan.test_dataset or plan.dataset)  # fmt: skip
    if len(train_part) == 0:
        raise UsageError(f"data set {plan.dataset}: no training samples{_kept(plan.train_where)}")
    fitted = task.fit(train_part, source.data)

    def ready(split: TensorData) -> TensorData:
        return task.preprocess(split, fitted).to(device)

    dev = ready(source.dev) if source.dev is not None else None
    return Splits(ready(train_part), ready(test_part), source.notes, dev, fitted)


def _kept(where: Mapping[str, str]) -> str:
    return f" with {', '.join(f'{k}={v}' for k, v in dict(where).items())}" if where else ""


def scored_split(source: Splits, where: Mapping[str, str], limit: int | None, seed: int, name: str) -> TensorData:
    """The test samples a run of this seed scores: filtered, and a seeded subset of `limit` (seed + 1)."""
    part = source.test.where(where).take(limit, seed + 1)
    if len(part) == 0:
        raise UsageError(f"data set {name}: no test samples{_kept(where)}")
    return part


@dataclass
class RunContext:
    """Everything the stages of one run share: what to run, where, on which data, and the built model."""

    task: Task
    plan: RunPlan
    device: torch.device
    splits: Splits | None
    world: World
    model: nn.Module
    build: BuildContext  # what the model was built from
    started_utc: str

    @property
    def workload(self) -> Workload:
        task, plan = self.task, self.plan

        def example(b: int) -> torch.Tensor:
            return task.example_input(plan.model, b, self.build)

        return Workload(self.model, example, self.build.num_classes, task.loss, self.device, plan.precision)

    @property
    def timing_batches(self) -> tuple[int, ...]:
        """Batch 1 and the throughput batch; none under --nproc (kernel timings are single-process)."""
        if not self.plan.timing or self.world.active:
            return ()
        return tuple(sorted({1, self.throughput_batch}))

    @property
    def throughput_batch(self) -> int:
        return self.plan.timing_batch or self.task.model_spec(self.plan.model).throughput_batch


def build(task: Task, plan: RunPlan, device: torch.device, splits: Splits | None, world: World) -> RunContext:
    """Stage 1: the model, sized for the data (or the spec's shapes for timing only), on the device."""
    seed_everything(plan.seed)
    context = task.context(plan.model, plan.options, splits)
    model = plan.precision.layout(task.build(plan.model, context).to(device))
    return RunContext(task, plan, device, splits, world, model, context, utc_now())


def utc_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def count(ctx: RunContext) -> dict[str, Any]:
    """Parameters and FLOPs per sample (forward and training)."""
    counts: dict[str, Any] = {"params": count_params(ctx.model), "params_trainable": count_params(ctx.model, True)}
    return counts | count_flops(ctx.model, ctx.workload.example(1).to(ctx.device))


def flops_train_of(ctx: RunContext, model: str) -> int:
    """Training FLOPs per sample of another of the task's models, built for this run's data."""
    with torch.random.fork_rng(devices=[]):  # building it must not move the run's random state
        other = ctx.task.build(model, ctx.build)
        return count_flops(other, ctx.task.example_input(model, 1, ctx.build))["flops_train"]


def compute_budget(ctx: RunContext, flops_per_sample: int) -> Profile:
    """The profile with a training-FLOPs budget turned into samples and epochs for this model and data.

    An experiment's compute match budgets what its reference model spends in its own epochs (capped by its
    max_samples) on this training split; --train-flops gives the budget directly."""
    profile, n = ctx.plan.profile, len(ctx.splits.train) if ctx.splits is not None else 0
    if ctx.plan.flops_match is not None:
        other, other_profile = ctx.plan.flops_match
        samples = n * other_profile.epochs
        if other_profile.max_samples is not None:
            samples = min(samples, other_profile.max_samples)
        profile = profile.replace(train_flops=float(samples * flops_train_of(ctx, other)))
    if profile.train_flops is None or n == 0 or flops_per_sample <= 0:
        return profile
    samples = max(1, int(profile.train_flops // flops_per_sample))
    return dataclasses.replace(profile, epochs=math.ceil(samples / n), max_samples=samples)


def compile_all(ctx: RunContext) -> float:
    """--compile: every graph the run will need, built in a warm-up; returns its seconds."""
    ctx.plan.precision.compiled(ctx.model)
    batches = set(ctx.timing_batches)
    train_shapes, eval_shapes = set(batches), set(batches)
    if ctx.splits is not None:
        dev = len(ctx.splits.dev) if ctx.splits.dev is not None else 0
        train_shapes |= train_batches(len(ctx.splits.train), ctx.plan.profile.batch_size, ctx.world)
        eval_shapes |= eval_batches(len(ctx.splits.test), dev)
    return warm_up(ctx.workload, train_shapes, eval_shapes)


def curve_split(ctx: RunContext) -> tuple[TensorData, str]:
    """The test samples the learning curve is scored on: all, or a seeded subset of curve_limit."""
    assert ctx.splits is not None
    test, limit = ctx.splits.test, ctx.plan.profile.curve_limit
    if limit is None or limit >= len(test):
        return test, "test"
    return test.take(limit, ctx.plan.seed + 2), f"test subset of {limit} of {len(test)} (seed {ctx.plan.seed + 2})"


def fit(ctx: RunContext) -> TrainResult:
    """Stage 2: train on the training split (early stopping on dev where the data has one), scoring the
    learning curve on the test split as it goes."""
    splits, task, plan = ctx.splits, ctx.task, ctx.plan
    assert splits is not None

    def primary(logits: torch.Tensor, y: torch.Tensor) -> float:
        return task.evaluate(logits, y)[task.primary_metric]

    curve_data, _ = curve_split(ctx)
    curve = Curve(lambda model: primary(predict(model, curve_data.x, precision=plan.precision), curve_data.y),
                  plan.profile.curve_points)  # fmt: skip
    score = primary if splits.dev is not None else None
    desc = f"{plan.task}/{plan.model}"
    profile = plan.profile
    loss = partial(task.loss, label_smoothing=profile.label_smoothing) if profile.label_smoothing else task.loss
    augmentation = task.augmentation(profile.augment)
    augment = augmentation.train if augmentation is not None and profile.augment.active else None
    return train(ctx.model, splits.train, loss, profile, plan.seed, plan.progress, desc, dev=splits.dev,
                 score=score, precision=plan.precision, world=ctx.world, curve=curve, augment=augment)  # fmt: skip


def evaluate(ctx: RunContext) -> dict[str, Any]:
    """Stage 3: the task's metrics on the test split (and per reported group), checked equal on every rank."""
    assert ctx.splits is not None
    return score(ctx, ctx.splits.test)


def score(ctx: RunContext, test: TensorData) -> dict[str, Any]:
    """The task's metrics of the context's model on prepared data, per reported group too (the record's metrics)."""
    task = ctx.task
    t0 = time.perf_counter()
    logits = predict(ctx.model, test.x, precision=ctx.plan.precision)
    scores = task.evaluate(logits, test.y)
    same_on_all_ranks(scores[task.primary_metric], ctx.world, ctx.device, f"test {task.primary_metric}")
    augment = ctx.plan.profile.augment
    augmentation = task.augmentation(augment) if augment.tta else None
    if augmentation is not None:  # reported beside the plain score, never instead of it
        averaged = predict_views(ctx.model, test.x, augmentation.views, precision=ctx.plan.precision)
        scores[task.primary_metric + rec.TTA_SUFFIX] = task.evaluate(averaged, test.y)[task.primary_metric]
    by_group = _by_group(task, logits, test)
    for group, variants in task.test_variants(test, ctx.plan.options).items():
        by_group[group] = {
            value: task.evaluate(predict(ctx.model, d.x, precision=ctx.plan.precision), d.y)[task.primary_metric]
            for value, d in variants.items()
        }
    return {"scores": scores, "by_group": by_group, "eval_seconds": time.perf_counter() - t0}


def predict_views(
    model: nn.Module,
    x: torch.Tensor,
    views: Callable[[torch.Tensor], list[tuple[float, torch.Tensor]]],
    batch_size: int = 1024,
    precision: Precision = FP32,
) -> torch.Tensor:
    """Test-time augmentation: per batch, the weighted mean of the model's logits over the batch's views (fp32)."""
    model.eval()
    outs = []
    with torch.inference_mode(), precision.autocast(x.device):
        for start in range(0, len(x), batch_size):
            weighted = [w * model(precision.input(v)).float() for w, v in views(x[start : start + batch_size])]
            outs.append(torch.stack(weighted).sum(0))
    return torch.cat(outs)


def time_kernels(ctx: RunContext, counts: Mapping[str, Any]) -> dict[str, dict[str, dict]]:
    """Stage 4: forward, forward+backward and training step at batch 1 and the throughput batch."""
    profile = ctx.plan.profile
    budget = Budget(warmup=profile.timing_warmup, min_runs=profile.timing_min_runs,
                    min_time_s=profile.timing_min_time_s, max_time_s=profile.timing_max_time_s)  # fmt: skip
    if ctx.plan.progress:  # the timer is silent for up to phases x batches x max_time_s: say so first
        most = len(ctx.timing_batches) * 3 * profile.timing_max_time_s
        print(f"  timing forward, backward and training step at batch {', '.join(map(str, ctx.timing_batches))} "
              f"(at most {most:.0f} s)", flush=True)  # fmt: skip
    timing = time_phases(ctx.workload, ctx.timing_batches, budget)
    peak = matmul_peak(_ceiling_summary(ctx.device), ctx.plan.precision.amp, ctx.device.type)
    add_efficiency(timing, counts, peak)
    return timing


def save_checkpoint(ctx: RunContext, record: rec.Record, record_path: Path, file: Path) -> None:
    """--save: the trained model with its build context and where it was trained (the record at record_path),
    written to `file` (a temporary file that run_and_write renames to the --save path)."""
    plan = ctx.plan
    assert plan.save_to is not None and plan.dataset is not None
    trained = checkpoint.Trained(
        dataset=plan.dataset, profile_name=plan.profile_name, profile=plan.profile, split_seed=plan.split_seed,
        seed=plan.seed, source=record.dataset.source, test_dataset=plan.test_dataset,
        test_where=dict(plan.test_where), experiment=plan.experiment, fold=plan.fold, amp=plan.precision.amp,
        channels_last=plan.precision.channels_last, record=str(record_path),
    )  # fmt: skip
    state = ctx.model.state_dict()
    factory = ctx.task.model_spec(plan.model).factory
    checkpoint.write(file, checkpoint.Checkpoint(plan.model, ctx.build, state, trained, factory))


def run_one(
    task: Task, plan: RunPlan, device: torch.device, splits: Splits | None, world: World = SINGLE
) -> rec.Record:
    """Do one run and return its record (not yet written); with several processes, on every rank."""
    return _run(task, plan, device, splits, world)[1]


def _run(
    task: Task, plan: RunPlan, device: torch.device, splits: Splits | None, world: World
) -> tuple[RunContext, rec.Record]:
    ctx = build(task, plan, device, splits, world)
    metrics = count(ctx)
    if splits is not None:
        ctx.plan = dataclasses.replace(plan, profile=compute_budget(ctx, metrics["flops_train"]))
    if plan.precision.compile:
        metrics["compile_seconds"] = compile_all(ctx)
        graphs_after_warm_up = graphs_compiled()
    training = None
    if splits is not None:
        result = fit(ctx)
        metrics |= evaluate(ctx)
        if plan.precision.compile:  # a graph built during training counts as training time: expect 0 (all ranks)
            late = graphs_compiled() - graphs_after_warm_up
            metrics["graphs_compiled_in_training"] = round(mean_over_ranks(late, world, device) * world.size)
        metrics["train_seconds"] = result.train_seconds
        metrics["train_samples_per_second"] = result.samples_per_second
        tta = metrics["scores"].get(ctx.task.primary_metric + rec.TTA_SUFFIX)
        training = _training(ctx, result, metrics["flops_train"], tta)
    timing = time_kernels(ctx, metrics) if ctx.timing_batches else None
    return ctx, make_record(ctx, metrics, training, timing)


def _training(ctx: RunContext, result: TrainResult, flops_per_sample: int, tta: float | None) -> rec.Training:
    splits, plan = ctx.splits, ctx.plan
    assert splits is not None
    fields = dataclasses.asdict(result)
    if fields["final_loss"] is not None and not math.isfinite(fields["final_loss"]):
        fields["final_loss"] = None  # no step was taken (JSON has no NaN)
    _, split = curve_split(ctx)
    curve = [
        rec.CurvePoint(p.samples, p.epochs, float(p.samples * flops_per_sample), round(p.seconds, 4), p.score, split)
        for p in result.curve or []
    ]
    del fields["curve"]
    return rec.Training(
        **fields,
        train_samples=len(splits.train),
        test_samples=len(splits.test),
        dev_samples=len(splits.dev) if splits.dev is not None else None,
        checkpoint=str(plan.save_to) if plan.save_to is not None else None,
        learning_curve=curve,
        time_to_target=time_to_target(ctx, curve) + tta_targets(ctx, tta, result, flops_per_sample),
    )


def time_to_target(ctx: RunContext, curve: list[rec.CurvePoint]) -> list[rec.TargetTime]:
    """For each of the task's targets on the data set tested: the first curve point at or above it.

    Only a curve scored on the whole test split can reach a target (a subset's score is not the split's)."""
    tested = ctx.plan.test_dataset or ctx.plan.dataset
    out = []
    for target in ctx.task.targets:
        if target.dataset != tested or ctx.plan.test_where:
            continue
        hit = next((p for p in curve if p.split == "test" and p.score >= target.score), None)
        out.append(rec.TargetTime(target.score, target.source, hit is not None,
                                  *((hit.samples, hit.epochs, hit.flops, hit.seconds) if hit else ())))  # fmt: skip
    return out


def tta_targets(ctx: RunContext, tta: float | None, result: TrainResult, flops_per_sample: int) -> list[rec.TargetTime]:
    """The targets judged on the final score with test-time augmentation (the way the fast CIFAR-10 records are
    reported): reached at the end of the run or not at all; the whole run is what it took."""
    if tta is None:
        return []
    out = []
    for plain in time_to_target(ctx, []):
        done = tta >= plain.score
        cost = (result.samples, result.epochs_run, float(result.samples * flops_per_sample), result.train_seconds)
        out.append(rec.TargetTime(plain.score, plain.source, done, *(cost if done else ()), tta=True))
    return out


def make_record(
    ctx: RunContext,
    metrics: dict[str, Any],
    training: rec.Training | None,
    timing: dict[str, dict[str, dict]] | None,
    dataset: rec.Dataset | None = None,
    evaluation: rec.Evaluation | None = None,
) -> rec.Record:
    """Stage 5: the typed record of the run, with machine, versions and commit. dataset: what the data was, when
    not the run's splits (an evaluation of a checkpoint); evaluation: what the checkpoint was and was scored on."""
    plan, splits, device = ctx.plan, ctx.splits, ctx.device
    machine = machine_info(device)
    dataset = dataset or rec.Dataset(
        name=plan.dataset,
        source=splits.train.source if splits else None,
        test=plan.test_dataset if splits else None,
        test_source=splits.test.source if plan.test_dataset and splits else None,
        train_where=dict(plan.train_where),
        test_where=dict(plan.test_where),
        notes=dict(splits.notes) if splits else {},
        fold=plan.fold,
    )
    environment = timing_environment() | ({"gpu_sharers": gpu_sharers()} if device.type == "cuda" else {})
    config = rec.Config(plan.profile, ctx.throughput_batch, ctx.build.input_shape,
                        rec.SpeedOptions(**plan.precision.as_dict()), plan.threads,
                        plan.flops_match[0] if plan.flops_match else None)  # fmt: skip
    primary = ctx.task.primary_metric
    data = {
        "schema_version": rec.SCHEMA_VERSION,
        "task": plan.task,
        "model": plan.model,
        "factory": ctx.task.model_spec(plan.model).factory,
        "experiment": plan.experiment,
        "primary_metric": primary,
        "dataset": rec.plain(dataset),
        "options": {k: v for k, v in plan.options.items() if _changes_results(ctx.task, k)},
        "distributed": describe(ctx.world, plan.profile.batch_size) if ctx.world.active else None,
        "profile": plan.profile_name,
        "config": config.to_json(),
        "seed": plan.seed,
        "device": {"type": device.type, **threads_info()},
        "machine": machine,
        "machine_slug": machine_slug(machine),
        "versions": versions(device),
        "commit": git_commit(),
        "environment": environment,
        "ceiling": _ceiling_summary(device) if timing else None,
        "started_utc": ctx.started_utc,
        "command": plan.command,
        "metrics": rec.Metrics(**metrics).to_json(primary),
        "training": rec.plain(training),
        "timing": timing,
        "evaluation": rec.plain(evaluation),
    }
    # through the reader: what the runner writes is checked by the same code that reads it back
    return rec.Record.from_json(data, f"{plan.label} record")


def add_efficiency(timing: dict[str, dict[str, dict]], metrics: dict[str, Any], peak: float | None) -> None:
    """Achieved GFLOP/s of every timed phase, and its fraction of the matmul ceiling (see matmul_peak)."""
    for phase, per_batch in timing.items():
        flops = metrics["flops_fwd"] if phase == "forward" else metrics["flops_train"]
        for stats in per_batch.values():
            gflops = flops * stats["batch"] / (stats["median_ms"] / 1e3) / 1e9
            stats["gflops"] = round(gflops, 2)
            stats["ceiling_fraction"] = round(gflops / peak, 4) if peak else None


def _by_group(task: Task, logits: torch.Tensor, test: TensorData) -> dict[str, dict[str, float]]:
    """The primary metric per value of each reported group, e.g. sex: {male:…, female:…}."""
    out = {}
    for key in task.report_groups:
        if key not in test.groups:
            continue
        values = test.groups[key]
        out[key] = {
            str(v): task.evaluate(logits[m], test.y[m])[task.primary_metric]
            for v in sorted(set(values.tolist()))
            for m in [torch.from_numpy(values == v).to(logits.device)]
        }
    return out


def _ceiling_summary(device: torch.device) -> dict:
    top = ceiling(device)
    return {k: v["gflops"] for k, v in top.items() if k.startswith("matmul")} | {
        "copy_gb_per_s": top["copy"]["gb_per_s"],
        "cached": top["cached"] is not None,
    }


def record_stem(record: rec.Record) -> str:
    """<utc>_<task>[_<experiment>]_<model>_s<seed>[_f<i>of<k>]_<device>: create_record makes it unique."""
    stamp = record.started_utc.replace(":", "").replace("-", "")
    exp = f"_{record.experiment}" if record.experiment else ""
    if record.evaluation is not None:  # an evaluation of a checkpoint: on which data
        exp += f"_eval-{record.dataset.test}"
    fold = record.dataset.fold
    extra = f"_s{record.seed}" + (f"_f{fold[0]}of{fold[1]}" if fold else "")
    model = re.sub(r"[^\w.-]+", "-", record.model)  # a factory's package.module:function
    return f"{stamp}_{record.task}{exp}_{model}{extra}_{record.device.type}"


def run_and_write(
    task: Task, plan: RunPlan, device: torch.device, splits: Splits | None, out: Path, world: World = SINGLE
) -> Path | None:
    """Run and write the record and (--save) the checkpoint naming it (rank 0 only: other ranks return None).

    The two appear together: the checkpoint is written to a temporary file before the record is created, and
    renamed onto the --save path right after it; an interrupt before the rename removes the record again, so a
    killed run never leaves a record whose checkpoint is missing (nor a partial file: cnnbench.io)."""
    ctx, record = _run(task, plan, device, splits, world)
    if not world.is_main:
        return None
    folder, stem = out / record.machine_slug, record_stem(record)
    if plan.save_to is None:
        return rec.create_record(record, folder, stem)
    created: list[Path] = []
    try:
        with atomic_path(plan.save_to) as tmp:

            def write_checkpoint(record_path: Path) -> None:
                save_checkpoint(ctx, record, record_path, tmp)
                sync(tmp)  # on disk before the record appears

            created.append(rec.create_record(record, folder, stem, write_checkpoint))
    except BaseException:
        for path in created:
            path.unlink(missing_ok=True)
        raise
    return created[0]


def _changes_results(task: Task, option: str) -> bool:
    """Whether an option belongs in the record's options (see TaskOption.changes_results)."""
    spec = task.options.get(option)
    return spec is None or spec.changes_results
