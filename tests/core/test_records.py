import json
from pathlib import Path

import pytest

from cnnbench import io as atomic
from cnnbench.errors import UsageError
from cnnbench.results.record import SCHEMA_VERSION, read_record, write_record


def minimal() -> dict:
    return {
        "schema_version": SCHEMA_VERSION,
        "task": "image",
        "model": "m",
        "dataset": {"name": None},
        "metrics": {"params": 1},
        "machine": {},
        "versions": {},
        "commit": {},
    }


def test_roundtrip(tmp_path: Path) -> None:
    p = write_record(minimal(), tmp_path / "a" / "r.json")
    assert read_record(p) == minimal()
    assert [x.name for x in p.parent.iterdir()] == ["r.json"]  # no temporary file left


def test_failure_mid_write_keeps_old_record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = write_record(minimal(), tmp_path / "r.json")
    old = p.read_text()

    def boom(fd: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(atomic.os, "fsync", boom)
    with pytest.raises(OSError, match="disk full"):
        write_record(minimal() | {"model": "new"}, p)
    assert p.read_text() == old
    assert [x.name for x in tmp_path.iterdir()] == ["r.json"]


def test_failure_mid_write_leaves_no_new_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(atomic.os, "fsync", lambda fd: (_ for _ in ()).throw(OSError("boom")))
    with pytest.raises(OSError):
        write_record(minimal(), tmp_path / "r.json")
    assert list(tmp_path.iterdir()) == []


def test_unserialisable_record_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        write_record(minimal() | {"metrics": {"x": float("nan")}}, tmp_path / "r.json")
    assert list(tmp_path.iterdir()) == []


def test_unknown_schema_version(tmp_path: Path) -> None:
    p = tmp_path / "r.json"
    p.write_text(json.dumps(minimal() | {"schema_version": 99}))
    with pytest.raises(UsageError, match=r"r.json: unsupported schema_version 99"):
        read_record(p)


def test_not_json(tmp_path: Path) -> None:
    p = tmp_path / "r.json"
    p.write_text("{not json")
    with pytest.raises(UsageError, match=r"r.json: not a readable JSON run record"):
        read_record(p)


def test_missing_keys(tmp_path: Path) -> None:
    p = tmp_path / "r.json"
    rec = minimal()
    del rec["commit"]
    p.write_text(json.dumps(rec))
    with pytest.raises(UsageError, match="lacks commit"):
        read_record(p)


def test_record_without_newer_timing_fields_still_loads_and_renders(tmp_path: Path) -> None:
    """Records written before interference detection (no other_cpu_cores, gflops, environment) still work."""
    from cnnbench.results.table import format_run_table

    old = minimal() | {
        "device": {"type": "cpu"},
        "metrics": {"params": 10, "flops_fwd": 100, "accuracy": 0.5},
        "timing": {
            "forward": {
                "b1": {
                    "batch": 1,
                    "median_ms": 1.0,
                    "iqr_ms": 0.0,
                    "min_ms": 1.0,
                    "mean_ms": 1.0,
                    "n": 5,
                    "per_second": 1000.0,
                    "noisy": False,
                    "clock": "perf_counter",
                }
            }
        },
    }
    p = write_record(old, tmp_path / "old.json")
    table = format_run_table([read_record(p)])
    assert "50.00" in table and "1.00" in table
