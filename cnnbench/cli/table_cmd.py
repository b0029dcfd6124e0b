"""`cnnbench table`: only results/README.md from the raw run records (`cnnbench publish` writes everything)."""

from __future__ import annotations

import argparse
from pathlib import Path

from cnnbench.io import atomic_write_text, check_writable_file
from cnnbench.results.publish import collect, render_markdown


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--runs", type=Path, default=Path("results/runs"), help="record folder (default: %(default)s)")
    p.add_argument("--out", type=Path, default=Path("results/README.md"), help="output (default: %(default)s)")


def main(args: argparse.Namespace) -> int:
    sections = collect(args.runs)
    check_writable_file(args.out, f"--out {args.out}", "README.md")
    atomic_write_text(args.out, render_markdown(sections, args.runs, None))
    print(f"wrote {args.out}")
    return 0
