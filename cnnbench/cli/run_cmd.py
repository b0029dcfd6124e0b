"""`cnnbench run`: train, evaluate and time models of a task; one run record per model."""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from cnnbench.device import CHOICES, resolve_device
from cnnbench.errors import UsageError
from cnnbench.records import read_record
from cnnbench.registry import get_task
from cnnbench.runner import RunConfig, check_profile, load_splits, run_and_write
from cnnbench.spec import PROFILES, Splits
from cnnbench.table import format_run_table

HELP = "train, evaluate and time models of a task, writing one JSON run record per model"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--task", required=True, help="task name (see `cnnbench list`)")
    p.add_argument("--model", action="append", help="model name, repeatable (default: the task's defaults)")
    p.add_argument("--dataset", help="data set name (default: the model's own)")
    p.add_argument("--data-dir", type=Path, help="folder (or archive) holding the data set")
    p.add_argument("--profile", choices=PROFILES, help="hyper-parameter profile (default: default)")
    p.add_argument("--quick", action="store_true", help="same as --profile quick: a smoke run")
    p.add_argument("--device", default="auto", choices=CHOICES)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--epochs", type=int, help="override the profile's epochs")
    p.add_argument("--time-budget", type=float, help="stop training after this many seconds")
    p.add_argument("--batch-size", type=int, help="override the profile's training batch size")
    p.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    p.add_argument("--timing-only", action="store_true", help="skip training; only count and time")
    p.add_argument("--no-timing", action="store_true", help="skip the kernel timings")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--out", type=Path, default=Path("results/runs"), help="record folder (default: %(default)s)")


def main(args: argparse.Namespace) -> int:
    task = get_task(args.task)
    models = args.model or list(task.default_models)
    specs = [task.model_spec(m) for m in models]  # unknown names fail here, before any work
    if args.quick and args.profile not in (None, "quick"):
        raise UsageError(f"--quick contradicts --profile {args.profile}")
    profile_name = "quick" if args.quick else (args.profile or "default")
    overrides = {"epochs": args.epochs, "time_budget_s": args.time_budget, "batch_size": args.batch_size}
    profiles = {s.name: task.profile(profile_name, s.name).replace(**overrides) for s in specs}
    for profile in profiles.values():
        check_profile(profile)
    if args.threads is not None:
        if args.threads <= 0:
            raise UsageError(f"--threads must be positive, got {args.threads}")
        torch.set_num_threads(args.threads)
    if args.timing_only and args.no_timing:
        raise UsageError("--timing-only and --no-timing together leave nothing to do")
    if args.data_dir is not None and not args.data_dir.exists():
        raise UsageError(f"{args.data_dir}: data directory does not exist")
    if args.dataset is not None:
        task.data_spec(args.dataset)
    device = resolve_device(args.device)

    plans = []
    for spec in specs:
        dataset = None if args.timing_only else (args.dataset or spec.default_dataset)
        if dataset is not None and spec.datasets and dataset not in spec.datasets:
            raise UsageError(f"model {spec.name!r} does not train on {dataset!r}; it takes: {', '.join(spec.datasets)}")
        plans.append((spec, dataset))

    loaded: dict[tuple, Splits] = {}
    paths = []
    for spec, dataset in plans:
        cfg = RunConfig(
            task=task.name,
            model=spec.name,
            dataset=dataset,
            profile_name=profile_name,
            profile=profiles[spec.name],
            seed=args.seed,
            device=args.device,
            data_dir=args.data_dir,
            timing=not args.no_timing,
            progress=not args.no_progress,
        )
        splits = None
        if dataset is not None:
            key = (dataset, spec.input_shape, cfg.profile.train_limit, cfg.profile.test_limit)
            if key not in loaded:
                loaded[key] = load_splits(task, cfg, device)
            splits = loaded[key]
        what = f"{dataset}, {profile_name} profile" if dataset else "timing only, no data set"
        print(f"[{task.name}/{spec.name}] {what}, device {device.type}", flush=True)
        path = run_and_write(task, cfg, device, splits, args.out)
        paths.append(path)
        print(f"  record: {path}", flush=True)
    print()
    print(format_run_table([read_record(p) for p in paths]))
    return 0
