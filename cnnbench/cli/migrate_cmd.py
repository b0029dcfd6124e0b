"""`cnnbench migrate`: rewrite run records of an older schema version at the current one, in place."""

from __future__ import annotations

import argparse
from pathlib import Path

from cnnbench.errors import UsageError
from cnnbench.results.record import SCHEMA_VERSION, migrate_file


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="*", type=Path, default=[Path("results/runs")],
                   help="record files or folders (default: results/runs)")  # fmt: skip


def main(args: argparse.Namespace) -> int:
    files = []
    for path in args.paths:
        if path.is_dir():
            files += sorted(path.rglob("*.json"))
        elif path.is_file():
            files.append(path)
        else:
            raise UsageError(f"{path}: no such record file or folder")
    # read every file first: one bad record stops the migration before any file changes
    changed = [f for f in files if migrate_file(f, dry_run=True)]
    for f in changed:
        migrate_file(f)
    print(f"{len(changed)} of {len(files)} records rewritten at schema version {SCHEMA_VERSION}")
    return 0
