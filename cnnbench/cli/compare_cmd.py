"""`cnnbench compare OLD NEW`: line up two records or folders of records; exit 1 on a timing regression."""

from __future__ import annotations

import argparse
from pathlib import Path

from cnnbench.errors import UsageError
from cnnbench.results.compare import (
    DEFAULT_THRESHOLD,
    compare,
    environments_differ,
    format_changes,
    label,
    latest_by_key,
)
from cnnbench.results.record import Record, read_record, read_records


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("old", type=Path, help="a record (.json) or a folder of records")
    p.add_argument("new", type=Path, help="a record (.json) or a folder of records")
    p.add_argument(
        "--threshold",
        type=float,
        default=DEFAULT_THRESHOLD,
        help="relative slow-down that counts as a regression when it also exceeds the spread (default: %(default)s)",
    )
    p.add_argument("--force", action="store_true", help="compare records from different machines or versions")


def _load(path: Path) -> list[Record]:
    if path.is_dir():
        found = [r for _, r in read_records(path)]
        if not found:
            raise UsageError(f"{path}: no run records (*.json) found")
        return found
    return [read_record(path)]


def main(args: argparse.Namespace) -> int:
    if args.threshold < 0:
        raise UsageError(f"--threshold must not be negative, got {args.threshold}")
    old_records, new_records = _load(args.old), _load(args.new)
    differ = environments_differ(old_records, new_records)
    if differ and not args.force:
        raise UsageError("records come from different machines or versions (" + "; ".join(differ) + "); use --force")
    latest_old, latest_new = latest_by_key(old_records), latest_by_key(new_records)
    old, new = latest_old.records, latest_new.records
    labels = None
    if args.old.is_file() and args.new.is_file():  # two files: compare them whatever their keys
        key = f"{args.old.name} -> {args.new.name}"
        old, new, labels = {key: old_records[0]}, {key: new_records[0]}, {key: key}
    changes = compare(old, new, args.threshold, labels)
    if differ:
        print("compared across machines or versions (--force): " + "; ".join(differ))
    if latest_old.set_aside or latest_new.set_aside:
        print(
            f"set aside older runs of the same configuration, seed and fold (the newest is compared): "
            f"{latest_old.set_aside} in old, {latest_new.set_aside} in new"
        )
    print(format_changes(changes))
    for side, only in (("old", old.keys() - new.keys()), ("new", new.keys() - old.keys())):
        records = old if side == "old" else new
        for name in sorted(label(records[k]) for k in only):
            print(f"only in {side}: {name}")
    regressions = [c for c in changes if c.regression]
    print(f"{len(regressions)} timing regression(s) beyond {100 * args.threshold:.0f}% and the spread")
    return 1 if regressions else 0
