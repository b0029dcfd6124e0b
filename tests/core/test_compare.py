import copy
import json
from pathlib import Path

import pytest

from cnnbench.cli.main import main
from cnnbench.results.record import SCHEMA_VERSION, write_record


def _record(
    median: float, iqr: float, slug: str = "m1", acc: float = 0.9, started: str = "2026-01-01T00:00:00Z"
) -> dict:
    return {
        "schema_version": SCHEMA_VERSION,
        "task": "image",
        "model": "lecture-cnn",
        "experiment": None,
        "primary_metric": "accuracy",
        "dataset": {"name": "mnist"},
        "device": {"type": "cpu"},
        "options": {},
        "seed": 0,
        "machine": {},
        "machine_slug": slug,
        "versions": {"torch": "2.14.1"},
        "commit": {},
        "started_utc": started,
        "metrics": {"params": 10, "flops_fwd": 100, "accuracy": acc, "train_seconds": 5.0},
        "timing": {"forward": {"b1": {"batch": 1, "median_ms": median, "iqr_ms": iqr}}},
    }


def _write(folder: Path, *records: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i, r in enumerate(records):
        write_record(r, folder / f"r{i}.json")
    return folder


@pytest.mark.parametrize(
    "old, new, code",
    [
        ((1.0, 0.01), (1.5, 0.01), 1),  # 50% slower, far beyond the spread: regression
        ((1.0, 0.01), (1.05, 0.01), 0),  # within the 10% threshold
        ((1.0, 0.60), (1.5, 0.60), 0),  # beyond 10% but within the measurements' spread
        ((1.0, 0.01), (0.5, 0.01), 0),  # faster
    ],
)
def test_exit_code_on_regression(tmp_path: Path, capsys: pytest.CaptureFixture, old, new, code: int) -> None:
    a = _write(tmp_path / "old", _record(*old))
    b = _write(tmp_path / "new", _record(*new))
    assert main(["compare", str(a), str(b)]) == code
    out = capsys.readouterr().out
    assert "forward@b1 ms" in out and ("REGRESSION" in out) == (code == 1)


def test_latest_record_of_a_configuration_is_used(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    a = _write(tmp_path / "old", _record(1.0, 0.01))
    b = _write(tmp_path / "new", _record(9.0, 0.01, started="2026-01-01"), _record(1.0, 0.01, started="2026-02-01"))
    assert main(["compare", str(a), str(b)]) == 0


def test_different_machines_need_force(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    a = _write(tmp_path / "old", _record(1.0, 0.01))
    b = _write(tmp_path / "new", _record(1.0, 0.01, slug="m2"))
    assert main(["compare", str(a), str(b)]) == 2
    assert "different machines or versions" in capsys.readouterr().err
    assert main(["compare", str(a), str(b), "--force"]) == 0
    assert "compared across machines or versions (--force)" in capsys.readouterr().out


def test_two_files_and_only_on_one_side(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    other = copy.deepcopy(_record(1.0, 0.01))
    other["model"] = "dnn"
    a = _write(tmp_path / "old", _record(1.0, 0.01), other)
    b = _write(tmp_path / "new", _record(1.0, 0.01, acc=0.95))
    assert main(["compare", str(a), str(b)]) == 0
    out = capsys.readouterr().out
    assert "only in old: image - dnn mnist cpu seed0" in out and "+5.6%" in out
    assert main(["compare", str(a / "r0.json"), str(b / "r0.json")]) == 0


def test_bad_inputs_are_named(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "empty").mkdir()
    good = _write(tmp_path / "old", _record(1.0, 0.01))
    assert main(["compare", str(tmp_path / "empty"), str(good)]) == 2
    assert "empty: no run records" in capsys.readouterr().err
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "x.json").write_text(json.dumps({"schema_version": 99}))
    assert main(["compare", str(bad), str(good)]) == 2
    assert "x.json: unsupported schema_version 99" in capsys.readouterr().err
