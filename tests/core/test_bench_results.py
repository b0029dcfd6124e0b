"""Benchmark results (cnnbench.results.bench): written with machine, versions and commit, read back field by
field, shown by `cnnbench publish`; a bad file is one line naming it."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from cnnbench.cli.main import main
from cnnbench.errors import UsageError
from cnnbench.results.bench import read_bench, write_bench
from cnnbench.results.record import Record, write_record

VALUES = {"throughput_ratio": 1.9, "throughput_ratio_ci": [1.7, 2.1], "images": 10000}


def test_written_results_read_back_and_are_published(tmp_path: Path, make_record: Callable[..., Record]) -> None:
    out = tmp_path / "results"
    path = write_bench(out / "benchmarks", "decode", "ours over theirs", "throughput_ratio", VALUES, 0.25)
    ((read_path, result),) = read_bench(out / "benchmarks")
    assert read_path == path and path.parent.name == result.machine_slug
    assert result.ratio == 1.9 and result.interval == (1.7, 2.1) and result.values["images"] == 10000
    assert result.versions["torch"] and "sha" in result.commit and result.other_cpu_cores == 0.25
    write_record(make_record(), out / "runs" / "m" / "r.json")
    assert main(["publish", "--runs", str(out / "runs"), "--out", str(out)]) == 0
    readme = (out / "README.md").read_text()
    assert "## Benchmarks" in readme and "| decode | 1.900 (1.700-2.100) | ours over theirs | 0.25 |" in readme


@pytest.mark.parametrize(
    "change,message",
    [
        ({"values": {"throughput_ratio": 1.0}}, "needs the number 'throughput_ratio' and its interval"),
        ({"values": {"throughput_ratio": None, "throughput_ratio_ci": [1, 2]}}, "needs the number"),
        ({"version": 99}, r"\.version: unexpected value"),
        ({"extra": 1}, "unknown field 'extra'"),
    ],
)
def test_a_bad_result_is_one_line_naming_the_file(tmp_path: Path, change: dict, message: str) -> None:
    path = write_bench(tmp_path, "decode", "d", "throughput_ratio", VALUES)
    path.write_text(json.dumps(json.loads(path.read_text()) | change))
    with pytest.raises(UsageError, match=message) as e:
        read_bench(tmp_path)
    assert str(path) in str(e.value) and "\n" not in str(e.value)


def test_fuzzed_results_read_or_refuse_in_one_line(tmp_path: Path, fuzz_file) -> None:
    good = write_bench(tmp_path / "good", "decode", "d", "throughput_ratio", VALUES).read_bytes()
    fuzz_file("decode.json", good, lambda p: read_bench(p.parent))
