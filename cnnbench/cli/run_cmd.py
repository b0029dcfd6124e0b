"""`cnnbench run`: train, evaluate and time models of a task; one run record per model."""

from __future__ import annotations

import argparse
import dataclasses
import shlex
from pathlib import Path

import torch

from cnnbench.errors import RunFailed, UsageError
from cnnbench.machine.device import CHOICES, resolve_device
from cnnbench.measure.precision import FP32, Precision
from cnnbench.registry import get_task
from cnnbench.results.record import read_record
from cnnbench.results.table import format_run_table
from cnnbench.run import distributed
from cnnbench.run.runner import DataCache, RunConfig, check_profile, prepare_splits, run_and_write
from cnnbench.spec import PROFILES, ModelSpec, Task


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--task", required=True, help="task name (see `cnnbench list`)")
    p.add_argument("--model", action="append", help="model name, repeatable (default: the task's defaults)")
    p.add_argument("--dataset", help="data set name (default: the model's own)")
    p.add_argument("--data-dir", type=Path, help="folder (or archive) holding the data set")
    p.add_argument("--data", action="append", metavar="NAME=PATH", help="folder of a named data set (repeatable)")
    p.add_argument("--experiment", action="append", help="run only this experiment of the task (repeatable)")
    p.add_argument("--profile", choices=PROFILES, help="hyper-parameter profile (default: default)")
    p.add_argument("--quick", action="store_true", help="same as --profile quick: a smoke run")
    p.add_argument("--device", default="auto", choices=CHOICES)
    p.add_argument("--seed", type=int, default=0, help="seed of the data split and the first run (default: 0)")
    p.add_argument(
        "--seeds",
        help="run every configuration with several seeds: a count N (seed .. seed+N-1) or a list like 0,1,2; "
        "the data split stays that of --seed",
    )
    p.add_argument("--cv", type=int, metavar="K", help="K-fold cross-validation: one run per held-out fold")
    p.add_argument("--option", action="append", metavar="KEY=VALUE", help="a task option (see `cnnbench list`)")
    p.add_argument("--epochs", type=int, help="override the profile's epochs")
    p.add_argument("--time-budget", type=float, help="stop training after this many seconds")
    p.add_argument("--batch-size", type=int, help="override the profile's training batch size")
    p.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    p.add_argument(
        "--timing-batch", type=int, metavar="N", help="time batch 1 and N (default: the model's throughput batch)"
    )
    p.add_argument("--timing-only", action="store_true", help="skip training; only count and time")
    p.add_argument("--no-timing", action="store_true", help="skip the kernel timings")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument(
        "--amp", choices=("bf16", "fp16"), help="mixed precision (autocast; fp16 with a grad scaler, GPU only)"
    )
    p.add_argument(
        "--channels-last",
        action=argparse.BooleanOptionalAction,
        help="NHWC layout for image models and their inputs (default: the model's own choice for the device, "
        "channels_last where it was measured to win; see `cnnbench list`)",
    )
    p.add_argument(
        "--compile", action="store_true", help="torch.compile the model; compile time is recorded on its own"
    )
    p.add_argument(
        "--nproc",
        type=int,
        metavar="N",
        help="data-parallel training in N processes on this machine, started with torchrun (DDP; one per GPU, "
        "or CPU processes with gloo); under torchrun itself (multi-node) this is not needed",
    )
    p.add_argument("--backend", choices=distributed.BACKENDS, help="torch.distributed backend (default: nccl on "
                   "GPUs, gloo on CPU)")  # fmt: skip
    p.add_argument("--save", type=Path, metavar="PATH", help="save the trained model (one run only) as a checkpoint")
    p.add_argument("--out", type=Path, default=Path("results/runs"), help="record folder (default: %(default)s)")


def _data_dirs(args: argparse.Namespace, task: Task, default_dataset: str | None) -> dict[str, Path]:
    dirs: dict[str, Path] = {}
    for item in args.data or []:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise UsageError(f"--data expects NAME=PATH, got {item!r}")
        task.data_spec(name)
        dirs[name] = Path(path)
    if args.data_dir is not None:
        if args.dataset is None and task.experiments() and not args.timing_only:
            raise UsageError(f"task {task.name!r} runs experiments over several data sets; use --data NAME=PATH")
        target = args.dataset or default_dataset
        if target is None:
            raise UsageError("--data-dir needs --dataset here (the models have no default data set)")
        dirs[target] = args.data_dir
    for name, path in dirs.items():
        if not path.exists():
            raise UsageError(f"{path}: data directory for {name!r} does not exist")
    return dirs


def _seeds(args: argparse.Namespace, task: Task) -> list[int]:
    if args.seeds is None:
        return list(range(args.seed, args.seed + task.profile(args.profile_name).seeds))
    try:
        if "," in args.seeds:
            seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
        else:
            seeds = list(range(args.seed, args.seed + int(args.seeds)))
    except ValueError:
        raise UsageError(f"--seeds expects a count or a comma-separated list of integers, got {args.seeds!r}") from None
    if not seeds or len(set(seeds)) != len(seeds):
        raise UsageError(f"--seeds needs at least one seed and no repeats, got {args.seeds!r}")
    return seeds


def _folds(args: argparse.Namespace, task: Task) -> list[tuple[int, int] | None]:
    if args.cv is None:
        return [None]
    if not task.supports_cv:
        raise UsageError(f"task {task.name!r} does not support --cv (its data sets come with a fixed split)")
    if args.cv < 2:
        raise UsageError(f"--cv needs at least 2 folds, got {args.cv}")
    return [(i, args.cv) for i in range(args.cv)]


def _options(args: argparse.Namespace) -> dict[str, str]:
    given = {}
    for item in args.option or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--option expects KEY=VALUE, got {item!r}")
        given[key] = value
    return given


def _plans(args: argparse.Namespace, task: Task, models: list[str], profiles: dict) -> list[RunConfig]:
    """One RunConfig per run: each fold, seed and experiment (or each model on its data set)."""
    plans = []
    for fold in _folds(args, task):
        for i, seed in enumerate(_seeds(args, task)):
            for cfg in _plans_one_seed(args, task, models, profiles):
                # kernel timings do not depend on the seed: time the first seed's runs only
                first = i == 0 and (fold is None or fold[0] == 0)
                plans.append(dataclasses.replace(cfg, seed=seed, fold=fold, timing=cfg.timing and first))
    return plans


def _plans_one_seed(args: argparse.Namespace, task: Task, models: list[str], profiles: dict) -> list[RunConfig]:
    """One RunConfig per run: the task's experiments, or each model on its data set."""
    given = _options(args)
    common = dict(
        task=task.name,
        profile_name=args.profile_name,
        seed=args.seed,
        device=args.device,
        timing=not args.no_timing,
        progress=not args.no_progress,
        command=args.command_line,
        timing_batch=args.timing_batch,
        threads=args.threads,
    )
    experiments = task.experiments()
    if args.experiment:
        known = {e.name: e for e in experiments}
        missing = [n for n in args.experiment if n not in known]
        if missing:
            valid = ", ".join(known) or "(this task has none)"
            raise UsageError(f"unknown experiment {missing[0]!r} of task {task.name!r}; valid: {valid}")
        experiments = [known[n] for n in args.experiment]
    elif args.dataset or args.timing_only or not experiments:
        experiments = []
    if not experiments:
        plans = []
        for m in models:
            spec = task.model_spec(m)
            dataset = None if args.timing_only else (args.dataset or spec.default_dataset)
            if dataset is not None and spec.datasets and dataset not in spec.datasets:
                raise UsageError(f"model {m!r} does not train on {dataset!r}; it takes: {', '.join(spec.datasets)}")
            plans.append(
                RunConfig(model=m, dataset=dataset, profile=profiles[m], options=task.resolve_options(given), **common)
            )
        return plans
    plans = []
    timed: set[tuple[str, str]] = set()  # (model, data set): one timing per input shape is enough
    for exp in experiments:
        clash = {k for k, v in given.items() if exp.options.get(k, v) != v}
        if clash:
            key = sorted(clash)[0]
            raise UsageError(
                f"experiment {exp.name!r} sets {key}={exp.options[key]}; --option {key}={given[key]} contradicts it "
                "(name a --dataset to run without the task's experiments)"
            )
        for m in args.model or exp.models or task.default_models:
            spec = task.model_spec(m)
            if spec.datasets and not {exp.train, exp.test or exp.train} <= set(spec.datasets):
                continue
            plans.append(
                RunConfig(
                    model=m,
                    dataset=exp.train,
                    profile=profiles[m],
                    test_dataset=exp.test,
                    train_where=exp.train_where,
                    test_where=exp.test_where,
                    experiment=exp.name,
                    options=task.resolve_options({**exp.options, **given}),
                    **common | {"timing": common["timing"] and exp.timed and (m, exp.train) not in timed},
                )
            )
            if plans[-1].timing:
                timed.add((m, exp.train))
    return plans


def _precision(args: argparse.Namespace, spec: ModelSpec, device: torch.device) -> Precision:
    """The run's speed options: as asked, the layout defaulting to the model's choice for the device."""
    layout = args.channels_last if args.channels_last is not None else device.type in spec.channels_last_on
    precision = Precision(args.amp, layout, args.compile)
    if precision != FP32:
        precision.check(device, spec.input_shape)
    return precision


def main(args: argparse.Namespace) -> int:
    device = resolve_device(args.device)
    if args.nproc is not None and not distributed.under_torchrun():
        distributed.check_nproc(args.nproc, device)
        distributed.check_backend(args.backend, device)
        if args.nproc > 1 and args.timing_only:
            raise UsageError("--nproc with --timing-only: kernel timings are single-process; drop --nproc")
        if args.nproc > 1:
            get_task(args.task)  # an unknown task fails here, once, not in every process
            rc = distributed.launch(shlex.split(args.command_line)[1:], args.nproc)
            if rc != 0:
                raise RunFailed(f"the --nproc {args.nproc} run failed: a process exited with code {rc} (torchrun's "
                                "report above); no record was written for the unfinished run")  # fmt: skip
            return 0
    world = distributed.SINGLE
    if distributed.under_torchrun():
        world, device = distributed.init(device, args.backend)  # on GPUs: this rank's own GPU
    try:
        return _main(args, world, device)
    finally:
        distributed.finish(world)


def _main(args: argparse.Namespace, world: distributed.World, device: torch.device) -> int:
    task = get_task(args.task)
    if not world.is_main:
        args.no_progress = True
    models = args.model or list(task.default_models)
    for m in models:
        task.model_spec(m)  # unknown names fail here, before any work
    if args.quick and args.profile not in (None, "quick"):
        raise UsageError(f"--quick contradicts --profile {args.profile}")
    args.profile_name = "quick" if args.quick else (args.profile or "default")
    overrides = {"epochs": args.epochs, "time_budget_s": args.time_budget, "batch_size": args.batch_size}
    all_models = set(models) | {m for e in task.experiments() for m in (e.models or ())}
    profiles = {m: task.profile(args.profile_name, m).replace(**overrides) for m in all_models}
    for profile in profiles.values():
        check_profile(profile)
    if args.threads is not None:
        if args.threads <= 0:
            raise UsageError(f"--threads must be positive, got {args.threads}")
        torch.set_num_threads(args.threads)
    if args.timing_batch is not None and args.timing_batch <= 0:
        raise UsageError(f"--timing-batch must be positive, got {args.timing_batch}")
    if args.timing_only and args.no_timing:
        raise UsageError("--timing-only and --no-timing together leave nothing to do")
    if args.dataset is not None:
        task.data_spec(args.dataset)
    dirs = _data_dirs(args, task, task.model_spec(models[0]).default_dataset)
    plans = _plans(args, task, models, profiles)
    plans = [dataclasses.replace(cfg, precision=_precision(args, task.model_spec(cfg.model), device)) for cfg in plans]
    if args.save is not None:
        if len(plans) != 1 or plans[0].dataset is None:
            raise UsageError(f"--save needs exactly one trained run; this command plans {len(plans)} "
                             "(name one --model and a --dataset or --experiment)")  # fmt: skip
        plans = [dataclasses.replace(plans[0], save_to=args.save)]
    data = DataCache(task, dirs, args.seed, device, progress=not args.no_progress, profile=args.profile_name)
    say = print if world.is_main else (lambda *a, **k: None)

    paths, skipped = [], []
    for cfg in plans:
        needed = [d for d in (cfg.dataset, cfg.test_dataset) if d is not None and not data.available(d)]
        label = f"{task.name}/{cfg.experiment + '/' if cfg.experiment else ''}{cfg.model}"
        if needed:
            skipped.append(f"{label}: skipped, needs --data {needed[0]}=PATH")
            say(f"[{label}] {skipped[-1].split(': ', 1)[1]}", flush=True)
            continue
        splits = prepare_splits(task, cfg, data, device) if cfg.dataset else None
        test = f" -> {cfg.test_dataset}" if cfg.test_dataset else ""
        what = f"{cfg.dataset}{test}, {cfg.profile_name} profile" if cfg.dataset else "timing only, no data set"
        say(f"[{label}] {what}, device {device.type}", flush=True)
        path = run_and_write(task, cfg, device, splits, args.out, world)
        if path is None:
            continue
        paths.append(path)
        say(f"  record: {path}", flush=True)
    say()
    records = [read_record(p) for p in paths]
    say(format_run_table(records))
    for line in task.summarize(records):
        say(line)
    for line in skipped:
        say(f"SKIPPED {line}")
    return 0
