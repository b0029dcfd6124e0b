import json
from collections.abc import Callable
from pathlib import Path

import pytest

from cnnbench.cli.main import main
from cnnbench.results.compare import compare, latest_by_key
from cnnbench.results.record import Record, write_record


@pytest.fixture
def rec(make_record: Callable[..., Record]) -> Callable[..., Record]:
    """lecture-cnn on MNIST, timed at batch 1 with the given median and IQR."""

    def make(median: float, iqr: float, slug: str = "m1", acc: float = 0.9, started: str = "2026-01-01T00:00:00Z",
             **overrides) -> Record:  # fmt: skip
        return make_record(
            machine_slug=slug, started_utc=started, metrics={"params": 10, "flops_fwd": 100, "accuracy": acc},
            timing={"forward": {1: {"median_ms": median, "iqr_ms": iqr}}}, **overrides,
        )  # fmt: skip

    return make


def _write(folder: Path, *records: Record) -> Path:
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
def test_exit_code_on_regression(tmp_path: Path, capsys: pytest.CaptureFixture, rec, old, new, code: int) -> None:
    a = _write(tmp_path / "old", rec(*old))
    b = _write(tmp_path / "new", rec(*new))
    assert main(["compare", str(a), str(b)]) == code
    out = capsys.readouterr().out
    assert "forward@b1 ms" in out and ("REGRESSION" in out) == (code == 1)
    assert "set aside" not in out


def test_latest_record_of_a_configuration_is_used(tmp_path: Path, capsys: pytest.CaptureFixture, rec) -> None:
    a = _write(tmp_path / "old", rec(1.0, 0.01))
    b = _write(tmp_path / "new", rec(9.0, 0.01, started="2026-01-01"), rec(1.0, 0.01, started="2026-02-01"))
    assert main(["compare", str(a), str(b)]) == 0
    assert "set aside older runs of the same configuration, seed and fold" in capsys.readouterr().out
    latest = latest_by_key([rec(9.0, 0.01, started="2026-01-01"), rec(1.0, 0.01, started="2026-02-01")])
    assert latest.set_aside == 1 and [r.started_utc for r in latest.records.values()] == ["2026-02-01"]


def test_different_machines_need_force(tmp_path: Path, capsys: pytest.CaptureFixture, rec) -> None:
    a = _write(tmp_path / "old", rec(1.0, 0.01))
    b = _write(tmp_path / "new", rec(1.0, 0.01, slug="m2"))
    assert main(["compare", str(a), str(b)]) == 2
    assert "different machines or versions" in capsys.readouterr().err
    assert main(["compare", str(a), str(b), "--force"]) == 0
    out = capsys.readouterr().out
    assert "compared across machines or versions (--force)" in out and "forward@b1 ms" in out  # paired anyway


def test_two_files_and_only_on_one_side(tmp_path: Path, capsys: pytest.CaptureFixture, rec) -> None:
    a = _write(tmp_path / "old", rec(1.0, 0.01), rec(1.0, 0.01, model="dnn"))
    b = _write(tmp_path / "new", rec(1.0, 0.01, acc=0.95))
    assert main(["compare", str(a), str(b)]) == 0
    out = capsys.readouterr().out
    assert "only in old: image - dnn mnist default cpu seed0" in out and "+5.6%" in out
    assert main(["compare", str(a / "r1.json"), str(b / "r0.json")]) == 0  # two files: paired whatever their keys
    assert "r1.json -> r0.json" in capsys.readouterr().out


def test_other_profiles_and_training_settings_are_never_paired(
    tmp_path: Path, capsys: pytest.CaptureFixture, rec
) -> None:
    default = rec(1.0, 0.01)
    quick = rec(9.0, 0.01, acc=0.5, profile="quick")  # same model and seed, only the profile differs
    longer = rec(9.0, 0.01, acc=0.99, config={"epochs": 24})  # only the epochs differ
    for other in (quick, longer):
        old, new = latest_by_key([default]).records, latest_by_key([other]).records
        assert old.keys().isdisjoint(new.keys())
        assert compare(old, new, 0.1) == []  # no Change lines: nothing paired
    both = latest_by_key([default, quick, longer])
    assert len(both.records) == 3 and both.set_aside == 0  # none is set aside as an older duplicate of another
    a, b = _write(tmp_path / "old", default), _write(tmp_path / "new", quick)
    assert main(["compare", str(a), str(b)]) == 0
    out = capsys.readouterr().out
    assert "forward@b1" not in out and "accuracy" not in out  # a 9x slower quick run is no regression of default
    assert "only in old: image - lecture-cnn mnist default cpu seed0" in out
    assert "only in new: image - lecture-cnn mnist quick cpu seed0" in out


def test_bad_inputs_are_named(tmp_path: Path, capsys: pytest.CaptureFixture, rec) -> None:
    (tmp_path / "empty").mkdir()
    good = _write(tmp_path / "old", rec(1.0, 0.01))
    assert main(["compare", str(tmp_path / "empty"), str(good)]) == 2
    assert "empty: no run records" in capsys.readouterr().err
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "x.json").write_text(json.dumps({"schema_version": 99}))
    assert main(["compare", str(bad), str(good)]) == 2
    assert "x.json: unsupported schema_version 99" in capsys.readouterr().err
