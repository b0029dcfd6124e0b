"""Results of the interleaved benchmarks under benchmarks/ (a ratio of two ways of doing the same work, with its
bootstrap interval), as JSON files with machine, versions and commit, for `cnnbench publish`.

A benchmark writes one when CNNBENCH_BENCH_OUT names a folder (e.g. results/benchmarks):
<folder>/<machine_slug>/<name>.json, replaced by the next measurement of the same name on the same machine.
Its `values` hold the benchmark's numbers by name; `headline` names the ratio the results table shows, and
`<headline>_ci` its interval."""

from __future__ import annotations

import json
import math
import sys
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch

from cnnbench.errors import UsageError, reason
from cnnbench.io import atomic_write_text

BENCH_VERSION = 1


@dataclass(frozen=True)
class BenchResult:
    name: str
    description: str
    headline: str  # the key in values of the ratio shown, with values[headline + "_ci"] its interval
    values: dict[str, Any]
    machine_slug: str
    machine: dict[str, Any]
    versions: dict[str, Any]
    commit: dict[str, Any]
    started_utc: str
    command: str
    other_cpu_cores: float | None = None  # load other processes put on the machine meanwhile
    version: int = BENCH_VERSION

    @property
    def ratio(self) -> float:
        return self.values[self.headline]

    @property
    def interval(self) -> tuple[float, float]:
        low, high = self.values[self.headline + "_ci"]
        return low, high


def write_bench(out: Path, name: str, description: str, headline: str, values: dict[str, Any],
                other_cpu_cores: float | None = None) -> Path:  # fmt: skip
    """Write a benchmark's result for this machine; returns the file."""
    from cnnbench.machine.environment import git_commit, machine_info, machine_slug, versions

    device = torch.device("cpu")
    machine = machine_info(device)
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    result = BenchResult(name, description, headline, values, machine_slug(machine), machine, versions(device),
                         git_commit(), now, " ".join(sys.argv), other_cpu_cores)  # fmt: skip
    _check(asdict(result), f"benchmark {name}")  # what is written reads back
    path = out / result.machine_slug / f"{name}.json"
    atomic_write_text(path, json.dumps(asdict(result), indent=1, sort_keys=True) + "\n")
    return path


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


_FIELDS = {
    "name": lambda v: isinstance(v, str) and v != "",
    "description": lambda v: isinstance(v, str),
    "headline": lambda v: isinstance(v, str),
    "values": lambda v: isinstance(v, dict),
    "machine_slug": lambda v: isinstance(v, str) and v != "" and "/" not in v,
    "machine": lambda v: isinstance(v, dict),
    "versions": lambda v: isinstance(v, dict),
    "commit": lambda v: isinstance(v, dict),
    "started_utc": lambda v: isinstance(v, str),
    "command": lambda v: isinstance(v, str),
    "other_cpu_cores": lambda v: v is None or _number(v),
    "version": lambda v: v == BENCH_VERSION,
}


def _check(data: Any, where: str) -> BenchResult:
    if not isinstance(data, dict):
        raise UsageError(f"{where}: expected a JSON object")
    unknown = sorted(set(data) - set(_FIELDS))
    if unknown:
        raise UsageError(f"{where}: unknown field {unknown[0]!r}")
    for key, ok in _FIELDS.items():
        if key not in data:
            raise UsageError(f"{where}: field {key!r} missing")
        if not ok(data[key]):
            raise UsageError(f"{where}.{key}: unexpected value {str(data[key])[:60]!r}")
    headline, values = data["headline"], data["values"]
    interval = values.get(headline + "_ci")
    if not _number(values.get(headline)) or not (
        isinstance(interval, list) and len(interval) == 2 and all(_number(v) for v in interval)
    ):
        raise UsageError(f"{where}.values: needs the number {headline!r} and its interval {headline + '_ci'!r}")
    return BenchResult(**data)


def read_bench(folder: Path) -> list[tuple[Path, BenchResult]]:
    """Every benchmark result under folder (none when it does not exist), checked field by field."""
    if not folder.is_dir():
        return []
    out = []
    for path in sorted(folder.rglob("*.json")):
        try:
            data = json.loads(path.read_text())
        except (OSError, UnicodeDecodeError, ValueError) as e:
            raise UsageError(f"{path}: not a readable benchmark result ({reason(e)})") from None
        out.append((path, _check(data, str(path))))
    return out


def bench_section(results: list[tuple[Path, BenchResult]], root: Path) -> list[str]:
    """The results table's section on the interleaved benchmarks."""
    if not results:
        return []
    lines = [
        "## Benchmarks",
        "",
        "Interleaved measurements from `benchmarks/` (the two sides alternate, so a shared machine's drift hits "
        "both alike): the median of the paired ratios with its 95% percentile-bootstrap interval. Written with "
        "`CNNBENCH_BENCH_OUT=results/benchmarks pytest benchmarks/FILE --benchmark-only`.",
        "",
        "| machine | benchmark | ratio (95% CI) | what | other cores busy | commit | file |",
        "|---|---|---|---|---|---|---|",
    ]
    for path, r in results:
        low, high = r.interval
        busy = "-" if r.other_cpu_cores is None else f"{r.other_cpu_cores:.2f}"
        sha = (r.commit.get("sha") or "unknown")[:10] + (" (dirty)" if r.commit.get("dirty") else "")
        cells = (r.machine_slug, r.name, f"{r.ratio:.3f} ({low:.3f}-{high:.3f})", r.description, busy, sha,
                 f"`{path.relative_to(root)}`")  # fmt: skip
        lines.append("| " + " | ".join(str(c).replace("|", "/") for c in cells) + " |")
    return [*lines, ""]
