"""One benchmark run: load data, train, evaluate, count, time, and write the run record."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch

from cnnbench.data.cache import cache_root
from cnnbench.errors import UsageError
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
from cnnbench.measure.phases import time_phases
from cnnbench.measure.precision import FP32, Precision
from cnnbench.measure.timing import Budget
from cnnbench.results.record import SCHEMA_VERSION, write_record
from cnnbench.run import checkpoint
from cnnbench.run.compiling import eval_batches, graphs_compiled, train_batches, warm_up
from cnnbench.run.distributed import SINGLE, World, describe, mean_over_ranks, same_on_all_ranks
from cnnbench.run.train import predict, seed_everything, train
from cnnbench.spec import DataRequest, Profile, Splits, Task, TensorData


@dataclass(frozen=True)
class RunConfig:
    task: str
    model: str
    dataset: str | None  # data set trained on; None: timing only
    profile_name: str
    profile: Profile
    seed: int = 0
    device: str = "auto"
    timing: bool = True
    progress: bool = True
    test_dataset: str | None = None  # evaluated on this data set's test split (default: dataset's)
    train_where: Mapping[str, str] = field(default_factory=dict)
    test_where: Mapping[str, str] = field(default_factory=dict)
    experiment: str | None = None
    command: str | None = None  # the command line that asked for the run, for the record
    options: Mapping[str, str] = field(default_factory=dict)  # the task's options, defaults filled in
    fold: tuple[int, int] | None = None  # (index, count) of a cross-validation run
    save_to: Path | None = None  # write a checkpoint of the trained model here
    precision: Precision = FP32  # --amp / --channels-last / --compile
    timing_batch: int | None = None  # --timing-batch: the throughput batch instead of the model's own
    threads: int | None = None  # --threads, when given (the threads used are in the record's device)


def check_profile(profile: Profile) -> None:
    """Budgets a user can set must be positive; say which one is not."""
    if profile.epochs <= 0:
        raise UsageError(f"epochs must be positive, got {profile.epochs}")
    if profile.time_budget_s is not None and profile.time_budget_s <= 0:
        raise UsageError(f"time budget must be positive, got {profile.time_budget_s} s")
    if profile.batch_size <= 0:
        raise UsageError(f"batch size must be positive, got {profile.batch_size}")


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
    ) -> Splits:
        if not self.available(dataset):
            raise UsageError(f"data set {dataset!r} has no default source; pass --data {dataset}=PATH")
        options = dict(options or {})
        key = (dataset, input_shape, tuple(sorted(options.items())), fold)
        if key not in self._loaded:
            request = DataRequest(
                dataset,
                self.data_dirs.get(dataset),
                cache_root(),
                input_shape,
                self.seed,
                self.device,
                self.progress,
                self.profile,
                options,
                fold,
            )
            self._loaded[key] = self.task.load(request)
        return self._loaded[key]


def prepare_splits(task: Task, cfg: RunConfig, data: DataCache, device: torch.device) -> Splits:
    """Train and test data of one run: filtered, limited, normalised on the training data, on device."""
    assert cfg.dataset is not None
    shape = task.model_spec(cfg.model).input_shape
    source = data.get(cfg.dataset, shape, cfg.options, cfg.fold)
    test_source = data.get(cfg.test_dataset, shape, cfg.options, cfg.fold) if cfg.test_dataset else source
    train_part = source.train.where(cfg.train_where).take(cfg.profile.train_limit, cfg.seed)
    test_part = test_source.test.where(cfg.test_where).take(cfg.profile.test_limit, cfg.seed + 1)
    for part, name, where in ((train_part, cfg.dataset, cfg.train_where), (test_part, "test", cfg.test_where)):
        if len(part) == 0:
            raise UsageError(f"no samples left in {name} data after filtering on {dict(where)}")
    norm = task.normalizer(train_part)
    dev = norm(source.dev).to(device) if source.dev is not None else None
    return Splits(norm(train_part).to(device), norm(test_part).to(device), source.notes, dev, source.resources)


def run_one(
    task: Task, cfg: RunConfig, device: torch.device, splits: Splits | None, world: World = SINGLE
) -> dict[str, Any]:
    """Do one run and return its record (not yet written); with several processes, on every rank."""
    started = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    spec = task.model_spec(cfg.model)
    seed_everything(cfg.seed)
    num_classes = splits.train.num_classes if splits else spec.num_classes
    input_shape = tuple(splits.train.x.shape[1:]) if splits else spec.input_shape
    resources = {"options": dict(cfg.options), **(splits.resources if splits else {})}
    model = cfg.precision.layout(task.build(cfg.model, num_classes, input_shape, resources).to(device))
    metrics: dict[str, Any] = {"params": count_params(model), "params_trainable": count_params(model, True)}
    metrics.update(count_flops(model, task.example_input(cfg.model, 1, input_shape, resources).to(device)))
    throughput_batch = cfg.timing_batch or spec.throughput_batch
    # kernel timings are single-process: --nproc runs record training only
    timed = cfg.timing and not world.active
    batches = tuple(sorted({1, throughput_batch})) if timed else ()
    if cfg.precision.compile:
        cfg.precision.compiled(model)
        train_shapes, eval_shapes = set(batches), set(batches)
        if splits is not None:
            train_shapes |= train_batches(len(splits.train), cfg.profile.batch_size, world)
            eval_shapes |= eval_batches(len(splits.test), len(splits.dev) if splits.dev is not None else 0)
        metrics["compile_seconds"] = warm_up(
            model,
            lambda b: task.example_input(cfg.model, b, input_shape, resources),
            num_classes,
            task.loss,
            train_shapes,
            eval_shapes,
            device,
            cfg.precision,
        )
        graphs_after_warm_up = graphs_compiled()
    training: dict[str, Any] | None = None
    if splits is not None:
        result = train(
            model,
            splits.train,
            task.loss,
            cfg.profile,
            cfg.seed,
            cfg.progress,
            f"{cfg.task}/{cfg.model}",
            dev=splits.dev,
            score=(lambda lg, y: task.evaluate(lg, y)[task.primary_metric]) if splits.dev is not None else None,
            precision=cfg.precision,
            world=world,
        )
        t0 = time.perf_counter()
        logits = predict(model, splits.test.x, precision=cfg.precision)
        metrics.update(task.evaluate(logits, splits.test.y))
        same_on_all_ranks(metrics[task.primary_metric], world, device, f"test {task.primary_metric}")
        metrics.update(_by_group(task, logits, splits.test))
        metrics["eval_seconds"] = time.perf_counter() - t0
        if cfg.precision.compile:  # a graph built during training counts as training time: expect 0 (all ranks)
            late = graphs_compiled() - graphs_after_warm_up
            metrics["graphs_compiled_in_training"] = round(mean_over_ranks(late, world, device) * world.size)
        metrics["train_seconds"] = result.train_seconds
        metrics["train_samples_per_second"] = result.samples_per_second
        if cfg.save_to is not None and world.is_main:
            extra = {k: v for k, v in splits.resources.items() if k != "options"}
            checkpoint.save(cfg.save_to, model, cfg.task, cfg.model, cfg.dataset, num_classes, input_shape,
                            cfg.options, extra)  # fmt: skip
        training = dataclasses.asdict(result) | {
            "train_samples": len(splits.train),
            "test_samples": len(splits.test),
            **({"dev_samples": len(splits.dev)} if splits.dev is not None else {}),
            **({"checkpoint": str(cfg.save_to)} if cfg.save_to is not None else {}),
        }
    timing = None
    if timed:
        budget = Budget(
            warmup=cfg.profile.timing_warmup,
            min_runs=cfg.profile.timing_min_runs,
            min_time_s=cfg.profile.timing_min_time_s,
            max_time_s=cfg.profile.timing_max_time_s,
        )
        timing = time_phases(
            model,
            lambda b: task.example_input(cfg.model, b, input_shape, resources),
            num_classes,
            task.loss,
            batches,
            budget,
            device,
            cfg.precision,
        )
        add_efficiency(timing, metrics, matmul_peak(_ceiling_summary(device), cfg.precision.amp, device.type))
    machine = machine_info(device)
    return {
        "schema_version": SCHEMA_VERSION,
        "task": cfg.task,
        "model": cfg.model,
        "experiment": cfg.experiment,
        "primary_metric": task.primary_metric,
        "dataset": {
            "name": cfg.dataset,
            "source": splits.train.source if splits else None,
            **({"test": cfg.test_dataset, "test_source": splits.test.source} if cfg.test_dataset and splits else {}),
            **({"train_where": dict(cfg.train_where)} if cfg.train_where else {}),
            **({"test_where": dict(cfg.test_where)} if cfg.test_where else {}),
            **({"notes": splits.notes} if splits and splits.notes else {}),
            **({"fold": list(cfg.fold)} if cfg.fold else {}),
        },
        "options": dict(cfg.options),
        **({"distributed": describe(world, cfg.profile.batch_size)} if world.active else {}),
        "profile": cfg.profile_name,
        "config": dataclasses.asdict(cfg.profile)
        | {"throughput_batch": throughput_batch, "input_shape": list(input_shape)}
        | {"precision": cfg.precision.as_dict()}
        | ({"threads": cfg.threads} if cfg.threads is not None else {}),
        "seed": cfg.seed,
        "device": {"type": device.type, **threads_info()},
        "machine": machine,
        "machine_slug": machine_slug(machine),
        "versions": versions(device),
        "commit": git_commit(),
        "environment": timing_environment() | ({"gpu_sharers": gpu_sharers()} if device.type == "cuda" else {}),
        "ceiling": _ceiling_summary(device) if timing else None,
        "started_utc": started,
        "command": cfg.command,
        "metrics": metrics,
        "training": training,
        "timing": timing,
    }


def add_efficiency(timing: dict[str, dict[str, dict]], metrics: dict[str, Any], peak: float | None) -> None:
    """Achieved GFLOP/s of every timed phase, and its fraction of the matmul ceiling (see matmul_peak)."""
    for phase, per_batch in timing.items():
        flops = metrics["flops_fwd"] if phase == "forward" else metrics["flops_train"]
        for stats in per_batch.values():
            gflops = flops * stats["batch"] / (stats["median_ms"] / 1e3) / 1e9
            stats["gflops"] = round(gflops, 2)
            stats["ceiling_fraction"] = round(gflops / peak, 4) if peak else None


def _by_group(task: Task, logits: torch.Tensor, test: TensorData) -> dict[str, dict[str, float]]:
    """The primary metric per value of each reported group, e.g. accuracy_by_sex: {male:…, female:…}."""
    out = {}
    for key in task.report_groups:
        if key not in test.groups:
            continue
        values = test.groups[key]
        out[f"{task.primary_metric}_by_{key}"] = {
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


def record_path(out_dir: Path, record: dict[str, Any]) -> Path:
    stamp = record["started_utc"].replace(":", "").replace("-", "")
    exp = f"_{record['experiment']}" if record.get("experiment") else ""
    fold = record["dataset"].get("fold")
    extra = f"_s{record['seed']}" + (f"_f{fold[0]}of{fold[1]}" if fold else "")
    name = f"{stamp}_{record['task']}{exp}_{record['model']}{extra}_{record['device']['type']}.json"
    return out_dir / record["machine_slug"] / name


def run_and_write(
    task: Task, cfg: RunConfig, device: torch.device, splits: Splits | None, out: Path, world: World = SINGLE
) -> Path | None:
    """Run and write the record (rank 0 only: other ranks return None)."""
    record = run_one(task, cfg, device, splits, world)
    return write_record(record, record_path(out, record)) if world.is_main else None
