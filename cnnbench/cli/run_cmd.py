"""`cnnbench run`: train, evaluate and time models of a task; one run record per model."""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

import torch

from cnnbench.errors import RunFailed, UsageError
from cnnbench.io import check_writable_file, check_writable_folder
from cnnbench.machine.device import CHOICES, resolve_device
from cnnbench.machine.environment import busy_machine_warning, load_at_start
from cnnbench.registry import get_task
from cnnbench.results.record import read_record
from cnnbench.results.table import format_run_table
from cnnbench.run import distributed
from cnnbench.run.plan import RunRequest, parse_pairs, parse_seeds, plan_runs
from cnnbench.run.runner import DataCache, prepare_splits, run_and_write
from cnnbench.spec import PROFILES, Task


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
        "the data split stays that of --seed, except for data sets whose split follows the seed "
        "(`cnnbench list` marks them), which draw a new split for every seed",
    )
    p.add_argument("--cv", type=int, metavar="K", help="K-fold cross-validation: one run per held-out fold")
    p.add_argument("--option", action="append", metavar="KEY=VALUE", help="a task option (see `cnnbench list`)")
    p.add_argument("--epochs", type=int, help="override the profile's epochs")
    p.add_argument("--time-budget", type=float, help="stop training after this many seconds")
    p.add_argument(
        "--train-flops",
        type=float,
        metavar="FLOPS",
        help="a compute budget: train for this many training FLOPs (forward + backward per sample, e.g. 1e13), "
        "whatever the epochs; the record keeps the epochs it took",
    )
    p.add_argument(
        "--match-flops",
        metavar="MODEL",
        help="a compute budget: train for the training FLOPs that MODEL of the task spends in its profile's "
        "epochs on the same training data (compare models of different cost at equal compute)",
    )
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
    dirs = {name: Path(path) for name, path in parse_pairs(args.data, "--data", "NAME=PATH").items()}
    for name in dirs:
        task.data_spec(name)
    if args.data_dir is not None:
        named = set(args.experiment or ())
        running = [e for e in task.experiments() if (e.name in named if named else e.default)]
        sets = {d for e in running for d in (e.train, e.test) if d}
        if args.dataset is None and len(sets) > 1 and not args.timing_only:
            raise UsageError(f"task {task.name!r} runs experiments over several data sets; use --data NAME=PATH")
        target = args.dataset or (next(iter(sets)) if len(sets) == 1 and not args.timing_only else default_dataset)
        if target is None:
            raise UsageError("--data-dir needs --dataset here (the models have no default data set)")
        dirs[target] = args.data_dir
    for name, path in dirs.items():
        if not path.exists():
            raise UsageError(f"{path}: data directory for {name!r} does not exist")
    return dirs


def check_outputs(out: Path, save: Path | None) -> None:
    """Every place the run will write, checked before any training: a bad path fails now, not after it."""
    check_writable_folder(out, f"--out {out}")
    if save is not None:
        check_writable_file(save, f"--save {save}", "model.pt")


def request_from_args(args: argparse.Namespace, device: torch.device) -> RunRequest:
    """The typed request behind a `cnnbench run` command line."""
    if args.quick and args.profile not in (None, "quick"):
        raise UsageError(f"--quick contradicts --profile {args.profile}")
    return RunRequest(
        task=args.task,
        models=tuple(args.model or ()),
        dataset=args.dataset,
        experiments=tuple(args.experiment or ()),
        profile="quick" if args.quick else (args.profile or "default"),
        epochs=args.epochs,
        time_budget_s=args.time_budget,
        train_flops=args.train_flops,
        match_flops=args.match_flops,
        batch_size=args.batch_size,
        seed=args.seed,
        seeds=parse_seeds(args.seeds, args.seed) if args.seeds is not None else None,
        cv=args.cv,
        options=parse_pairs(args.option, "--option", "KEY=VALUE"),
        timing=not args.no_timing,
        timing_only=args.timing_only,
        timing_batch=args.timing_batch,
        progress=not args.no_progress,
        threads=args.threads,
        amp=args.amp,
        channels_last=args.channels_last,
        compile=args.compile,
        device=device,
        save_to=args.save,
        command=args.command_line,
    )


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
    request = request_from_args(args, device)
    plans = plan_runs(task, request)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    dirs = _data_dirs(args, task, task.model_spec((args.model or task.default_models)[0]).default_dataset)
    if world.is_main:
        check_outputs(args.out, args.save)
    data = DataCache(task, dirs, args.seed, device, progress=request.progress, profile=request.profile)
    say = print if world.is_main else (lambda *a, **k: None)
    warning = busy_machine_warning(load_at_start(), torch.get_num_threads()) if device.type == "cpu" else None
    if warning:
        say(warning, flush=True)

    for plan in plans:  # what the user named explicitly must run: its missing data is an error, not a skip
        needed = [d for d in (plan.dataset, plan.test_dataset) if d is not None and not data.available(d)]
        if needed and (plan.experiment in request.experiments or request.dataset is not None):
            what = f"experiment {plan.experiment!r} needs data set {needed[0]!r}, which" if plan.experiment else (
                f"data set {needed[0]!r}")  # fmt: skip
            raise UsageError(f"{what} has no default source: pass --data {needed[0]}=PATH")
    paths, skipped = [], []
    for plan in plans:
        needed = [d for d in (plan.dataset, plan.test_dataset) if d is not None and not data.available(d)]
        if needed:
            skipped.append(f"{plan.label}: skipped, needs --data {needed[0]}=PATH")
            say(f"[{plan.label}] {skipped[-1].split(': ', 1)[1]}", flush=True)
            continue
        splits = prepare_splits(task, plan, data, device) if plan.dataset else None
        test = f" -> {plan.test_dataset}" if plan.test_dataset else ""
        what = f"{plan.dataset}{test}, {plan.profile_name} profile" if plan.dataset else "timing only, no data set"
        say(f"[{plan.label}] {what}, device {device.type}", flush=True)
        path = run_and_write(task, plan, device, splits, args.out, world)
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
