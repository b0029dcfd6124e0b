"""One benchmark run: load data, train, evaluate, count, time, and write the run record."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch

from cnnbench.counting import count_flops, count_params
from cnnbench.data.cache import cache_root
from cnnbench.environment import git_commit, machine_info, machine_slug, threads_info, versions
from cnnbench.errors import UsageError
from cnnbench.phases import time_phases
from cnnbench.records import SCHEMA_VERSION, write_record
from cnnbench.spec import DataRequest, Profile, Splits, Task
from cnnbench.timing import Budget
from cnnbench.train import predict, seed_everything, train


@dataclass(frozen=True)
class RunConfig:
    task: str
    model: str
    dataset: str | None  # None: timing only
    profile_name: str
    profile: Profile
    seed: int = 0
    device: str = "auto"
    data_dir: Path | None = None
    timing: bool = True
    progress: bool = True


def check_profile(profile: Profile) -> None:
    """Budgets a user can set must be positive; say which one is not."""
    if profile.epochs <= 0:
        raise UsageError(f"epochs must be positive, got {profile.epochs}")
    if profile.time_budget_s is not None and profile.time_budget_s <= 0:
        raise UsageError(f"time budget must be positive, got {profile.time_budget_s} s")
    if profile.batch_size <= 0:
        raise UsageError(f"batch size must be positive, got {profile.batch_size}")


def load_splits(task: Task, cfg: RunConfig, device: torch.device) -> Splits:
    assert cfg.dataset is not None
    spec = task.data_spec(cfg.dataset)
    if spec.needs_dir and cfg.data_dir is None:
        raise UsageError(f"data set {cfg.dataset!r} has no default source; pass --data-dir PATH")
    request = DataRequest(
        dataset=cfg.dataset,
        data_dir=cfg.data_dir,
        cache_dir=cache_root(),
        input_shape=task.model_spec(cfg.model).input_shape,
        seed=cfg.seed,
    )
    splits = task.load(request)
    return Splits(
        train=splits.train.take(cfg.profile.train_limit, cfg.seed).to(device),
        test=splits.test.take(cfg.profile.test_limit, cfg.seed + 1).to(device),
        notes=splits.notes,
    )


def run_one(task: Task, cfg: RunConfig, device: torch.device, splits: Splits | None) -> dict[str, Any]:
    """Do one run and return its record (not yet written)."""
    started = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    spec = task.model_spec(cfg.model)
    seed_everything(cfg.seed)
    num_classes = splits.train.num_classes if splits else spec.num_classes
    model = task.build(cfg.model, num_classes).to(device)
    metrics: dict[str, Any] = {"params": count_params(model)}
    metrics.update(count_flops(model, task.example_input(cfg.model, 1).to(device)))
    training: dict[str, Any] | None = None
    if splits is not None:
        result = train(model, splits.train, task.loss, cfg.profile, cfg.seed, cfg.progress, f"{cfg.task}/{cfg.model}")
        t0 = time.perf_counter()
        logits = predict(model, splits.test.x)
        metrics.update(task.evaluate(logits, splits.test.y))
        metrics["eval_seconds"] = time.perf_counter() - t0
        metrics["train_seconds"] = result.train_seconds
        metrics["train_samples_per_second"] = result.samples_per_second
        training = dataclasses.asdict(result) | {
            "train_samples": len(splits.train),
            "test_samples": len(splits.test),
        }
    timing = None
    if cfg.timing:
        budget = Budget(
            warmup=cfg.profile.timing_warmup,
            min_runs=cfg.profile.timing_min_runs,
            min_time_s=cfg.profile.timing_min_time_s,
            max_time_s=cfg.profile.timing_max_time_s,
        )
        batches = tuple(sorted({1, spec.throughput_batch}))
        timing = time_phases(
            model,
            lambda b: task.example_input(cfg.model, b),
            num_classes,
            task.loss,
            batches,
            budget,
            device,
        )
    machine = machine_info(device)
    return {
        "schema_version": SCHEMA_VERSION,
        "task": cfg.task,
        "model": cfg.model,
        "dataset": {
            "name": cfg.dataset,
            "source": splits.train.source if splits else None,
            **({"notes": splits.notes} if splits and splits.notes else {}),
        },
        "profile": cfg.profile_name,
        "config": dataclasses.asdict(cfg.profile) | {"throughput_batch": spec.throughput_batch},
        "seed": cfg.seed,
        "device": {"type": device.type, **threads_info()},
        "machine": machine,
        "machine_slug": machine_slug(machine),
        "versions": versions(device),
        "commit": git_commit(),
        "started_utc": started,
        "metrics": metrics,
        "training": training,
        "timing": timing,
    }


def record_path(out_dir: Path, record: dict[str, Any]) -> Path:
    stamp = record["started_utc"].replace(":", "").replace("-", "")
    name = f"{stamp}_{record['task']}_{record['model']}_{record['device']['type']}.json"
    return out_dir / record["machine_slug"] / name


def run_and_write(task: Task, cfg: RunConfig, device: torch.device, splits: Splits | None, out: Path) -> Path:
    record = run_one(task, cfg, device, splits)
    return write_record(record, record_path(out, record))
