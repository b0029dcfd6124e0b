"""`cnnbench publish`: results/README.md, one CSV per task and device, and the HTML report."""

from __future__ import annotations

import argparse
from pathlib import Path

from cnnbench.io import atomic_write_text, check_writable_file, check_writable_folder
from cnnbench.results import report as report_html
from cnnbench.results.bench import bench_section, read_bench
from cnnbench.results.publish import collect, render_markdown, write_csvs


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--runs", type=Path, default=Path("results/runs"), help="record folder (default: %(default)s)")
    p.add_argument("--out", type=Path, default=Path("results"), help="output folder (default: %(default)s)")


def check_outputs(out: Path) -> None:
    """The folders and the README publish writes, checked before it writes any of them."""
    check_writable_folder(out, f"--out {out}", inside=("csv", "report", "report/img"))
    check_writable_file(out / "README.md", f"--out {out}: {out / 'README.md'}", "README.md")


def main(args: argparse.Namespace) -> int:
    sections = collect(args.runs)  # reads and checks every record before anything is written
    benches = read_bench(args.out / "benchmarks")  # results/benchmarks/<machine>/<name>.json, likewise
    check_outputs(args.out)
    n = sum(len(s.records) for s in sections)
    pictures = sorted((args.out / "explain").glob("*.png"))
    page = report_html.render(sections, args.out / "report", pictures)
    csvs = write_csvs(sections, args.out / "csv")
    readme = args.out / "README.md"
    links = [p.relative_to(args.out).as_posix() for p in pictures]
    atomic_write_text(readme, render_markdown(sections, args.runs, page.relative_to(args.out).as_posix(), links,
                                              bench_section(benches, args.out)))  # fmt: skip
    print(f"used {n} records from {args.runs}" + (f" and {len(benches)} benchmark results" if benches else ""))
    for p in [readme, *csvs, page]:
        print(f"wrote {p}")
    return 0
