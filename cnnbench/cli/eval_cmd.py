"""`cnnbench eval CHECKPOINT`: score a trained model on any data set its task can load; one run record."""

from __future__ import annotations

import argparse
from pathlib import Path

from cnnbench.errors import UsageError
from cnnbench.io import check_writable_folder
from cnnbench.machine.device import CHOICES, resolve_device
from cnnbench.results.record import create_record
from cnnbench.run import checkpoint
from cnnbench.run.evaluate import SPLITS, EvalRequest, evaluate_checkpoint
from cnnbench.run.plan import parse_pairs
from cnnbench.run.runner import record_stem
from cnnbench.spec import PROFILES


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("checkpoint", type=Path, help="from `cnnbench run ... --save PATH`")
    p.add_argument("--dataset", help="data set of the checkpoint's task (default: the one its run tested on)")
    p.add_argument("--data-dir", type=Path, help="folder (or archive) holding the data set")
    p.add_argument("--data", metavar="NAME=PATH", help="a named data set in a folder: the same as --dataset NAME "
                   "--data-dir PATH")  # fmt: skip
    p.add_argument("--split", choices=SPLITS, default="test", help="test: the test split as `run` scores it "
                   "(the training run's split seed, profile and test limit); all: every sample (default: test)")
    p.add_argument("--profile", choices=PROFILES, help="size of data sets that size themselves by profile (Go games, "
                   "generated speech; default: the training run's)")  # fmt: skip
    p.add_argument("--device", default="auto", choices=CHOICES)
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--out", type=Path, default=Path("results/runs"), help="record folder (default: %(default)s)")


def main(args: argparse.Namespace) -> int:
    dataset, data_dir = args.dataset, args.data_dir
    if args.data is not None:
        ((name, path),) = parse_pairs([args.data], "--data", "NAME=PATH").items()
        if dataset not in (None, name) or data_dir is not None:
            raise UsageError("--data NAME=PATH names the data set and its folder: drop --dataset and --data-dir")
        dataset, data_dir = name, Path(path)
    if data_dir is not None and not data_dir.exists():
        raise UsageError(f"{data_dir}: data directory does not exist")
    ck = checkpoint.load(args.checkpoint)  # a bad checkpoint, task or data set fails before any work
    if dataset is not None:
        from cnnbench.registry import get_task

        get_task(ck.task).data_spec(dataset)
    check_writable_folder(args.out, f"--out {args.out}")
    request = EvalRequest(args.checkpoint, dataset, data_dir, args.split, args.profile, resolve_device(args.device),
                          not args.no_progress, args.command_line)  # fmt: skip
    record = evaluate_checkpoint(request)
    path = create_record(record, args.out / record.machine_slug, record_stem(record))
    trained = ck.trained
    print(f"{record.task}/{record.model}, trained on {trained.dataset} ({trained.profile_name} profile, seed "
          f"{trained.seed}{', experiment ' + trained.experiment if trained.experiment else ''}), scored on "
          f"{record.dataset.test} ({args.split}: {record.evaluation.samples:,} samples)")  # fmt: skip
    for metric, value in record.metrics.scores.items():
        primary = " (primary)" if metric == record.primary_metric else ""
        print(f"  {metric}: {100 * value:.2f}%{primary}")
    for group, values in record.metrics.by_group.items():
        print(f"  {record.primary_metric} by {group}: " + ", ".join(f"{k} {100 * v:.2f}%" for k, v in values.items()))
    print(f"  record: {path}")
    return 0
