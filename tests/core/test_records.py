"""The typed run record: JSON round trip, atomic and unique writes, clear errors, and migration of version 1."""

import copy
import dataclasses
import json
import multiprocessing
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from cnnbench import io as atomic
from cnnbench.cli.main import main
from cnnbench.errors import UsageError
from cnnbench.results.record import (
    SCHEMA_VERSION,
    Record,
    config_key,
    create_record,
    read_record,
    read_records,
    run_key,
    write_record,
)

MakeRecord = Callable[..., Record]
MakeJson = Callable[..., dict]


@pytest.fixture
def record_json(make_record: MakeRecord) -> Callable[..., dict]:
    """record_json(**changes): a complete version-2 record of a trained and timed run, as JSON, changed."""
    full = make_record(
        profile="quick",
        config={"epochs": 1, "input_shape": [1, 4, 4]},
        metrics={"accuracy": 0.5, "accuracy_by_sex": {"male": 0.4, "female": 0.6}},
        training={},
        timing={"forward": {1: 1.0}},
    ).to_json()
    return lambda **changes: copy.deepcopy(full) | changes


@pytest.fixture
def record(record_json: MakeJson) -> Callable[..., Record]:
    return lambda **changes: Record.from_json(record_json(**changes))


def test_json_round_trip_is_lossless(tmp_path: Path, record: MakeRecord) -> None:
    r = record()
    assert r.score == 0.5 and r.metrics.by_group == {"sex": {"male": 0.4, "female": 0.6}}
    assert r.config.profile.epochs == 1 and r.config.input_shape == (1, 4, 4)
    assert r.timing["forward"]["b1"].median_ms == 1.0
    p = write_record(r, tmp_path / "a" / "r.json")
    assert read_record(p) == r
    assert json.loads(p.read_text())["metrics"]["accuracy_by_sex"] == {"male": 0.4, "female": 0.6}
    assert [x.name for x in p.parent.iterdir()] == ["r.json"]  # no temporary file left


def test_failure_mid_write_keeps_old_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, record: MakeRecord
) -> None:
    p = write_record(record(), tmp_path / "r.json")
    old = p.read_text()
    monkeypatch.setattr(atomic.os, "fsync", lambda fd: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError, match="disk full"):
        write_record(record(model="new"), p)
    assert p.read_text() == old
    assert [x.name for x in tmp_path.iterdir()] == ["r.json"]


def test_unserialisable_record_writes_nothing(tmp_path: Path, record_json: MakeJson) -> None:
    good = Record.from_json(record_json())
    bad = dataclasses.replace(good, metrics=dataclasses.replace(good.metrics, scores={"accuracy": float("nan")}))
    with pytest.raises(ValueError):
        write_record(bad, tmp_path / "r.json")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"schema_version": 99}, "unsupported schema_version 99"),
        ({"commit": None}, "lacks commit"),
        ({"colour": "red"}, "unknown field 'colour'"),
        ({"seed": "zero"}, r"\.seed: expected a number"),
        ({"metrics": {"params": 1, "flops_fwd": 1, "macs_fwd": 1, "flops_train": 1, "accuracy": "high"}},
         r"metrics\.accuracy: expected a number, got \"high\""),
        ({"metrics": {"params": 1, "flops_fwd": 1, "macs_fwd": 1, "flops_train": 1, "accuracy": None}},
         r"metrics\.accuracy: expected a number, got null"),
        ({"metrics": {"params": None, "flops_fwd": 1, "macs_fwd": 1, "flops_train": 1}},
         r"metrics\.params: expected a number, got null"),
        ({"metrics": {"params": 1, "flops_fwd": 1, "macs_fwd": 1, "flops_train": 1, "accuracy_by_sex": None}},
         r"metrics\.accuracy_by_sex: expected an object"),
        ({"metrics": None}, "lacks metrics"),
        ({"seed": 2**70}, r"\.seed: 1180591620717411303424 is out of range"),
        ({"seed": 1.5}, r"\.seed: expected a whole number, got 1.5"),
        ({"timing": {"forward": {"b1": {"batch": 1}}}}, r"timing\.forward\.b1: lacks median_ms"),
        ({"machine": []}, r"\.machine: expected an object"),
        ({"primary_metric": None}, "primary_metric must be a string"),
    ],
)
def test_bad_records_name_the_file_and_field(tmp_path: Path, change: dict, message: str, record_json: MakeJson) -> None:
    p = tmp_path / "r.json"
    p.write_text(json.dumps(record_json(**change)))
    with pytest.raises(UsageError, match=message) as info:
        read_record(p)
    assert str(p) in str(info.value)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"throughput_batch": None}, r"config\.throughput_batch: expected a number, got null"),
        ({"input_shape": [1, None]}, r"config\.input_shape\[1\]: expected a number, got null"),
        ({"threads": "two"}, r"config\.threads: expected a number, got \"two\""),
    ],
)
def test_bad_config_fields_are_named(config: dict, message: str, record_json: MakeJson) -> None:
    data = record_json()
    data["config"] |= config
    with pytest.raises(UsageError, match=message):
        Record.from_json(data)


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_refused(tmp_path: Path, constant: str, record_json: MakeJson) -> None:
    p = tmp_path / "r.json"
    p.write_text(json.dumps(record_json()).replace('"accuracy": 0.5', f'"accuracy": {constant}'))
    with pytest.raises(UsageError, match=f"r.json: not a readable JSON run record \\({constant} is not a JSON number"):
        read_record(p)


def test_not_json(tmp_path: Path) -> None:
    p = tmp_path / "r.json"
    p.write_text("{not json")
    with pytest.raises(UsageError, match=r"r.json: not a readable JSON run record"):
        read_record(p)


def test_version_1_is_migrated_and_says_what_was_filled(record_json: MakeJson) -> None:
    v1 = record_json(schema_version=1)
    for key in ("primary_metric", "options", "command"):
        del v1[key]
    v1["task"] = "go"
    v1["metrics"] = {"params": 1, "flops_fwd": 1, "macs_fwd": 1, "flops_train": 1, "top1": 0.3, "top5": 0.6}
    r = Record.from_json(v1)
    assert r.schema_version == SCHEMA_VERSION and r.primary_metric == "top1" and r.score == 0.3
    assert r.options == {} and r.command is None
    (m,) = r.migrations
    assert (m.from_version, m.to_version, sorted(m.filled)) == (1, 2, ["command", "options", "primary_metric"])
    assert Record.from_json(r.to_json()) == r


def test_every_committed_record_is_current_and_complete(committed_runs: Path) -> None:
    records = read_records(committed_runs)
    assert len(records) > 50
    for path, r in records:
        assert json.loads(path.read_text())["schema_version"] == SCHEMA_VERSION, path
        assert r.primary_metric in r.metrics.scores or r.training is None, path


def test_migrate_verb_rewrites_old_files_once(
    tmp_path: Path, capsys: pytest.CaptureFixture, record_json: MakeJson, record: MakeRecord
) -> None:
    v1 = record_json(schema_version=1)
    del v1["primary_metric"]
    (tmp_path / "old.json").write_text(json.dumps(v1))
    write_record(record(), tmp_path / "new.json")
    assert main(["migrate", str(tmp_path)]) == 0
    assert "1 of 2 records rewritten" in capsys.readouterr().out
    assert json.loads((tmp_path / "old.json").read_text())["schema_version"] == SCHEMA_VERSION
    assert main(["migrate", str(tmp_path)]) == 0
    assert "0 of 2 records rewritten" in capsys.readouterr().out
    (tmp_path / "bad.json").write_text("[]")
    assert main(["migrate", str(tmp_path)]) == 2  # one bad file: nothing is rewritten, one line


def test_records_created_with_the_same_name_never_overwrite(tmp_path: Path, record: MakeRecord) -> None:
    a = create_record(record(), tmp_path, "stem")
    b = create_record(record(model="other"), tmp_path, "stem")
    assert (a.name, b.name) == ("stem.json", "stem-2.json")
    assert read_record(a).model == "lecture-cnn" and read_record(b).model == "other"


def _create(args: tuple[str, dict]) -> str:
    folder, data = args
    return str(create_record(Record.from_json(data), Path(folder), "same-second"))


def test_runs_started_together_get_their_own_files(tmp_path: Path, record_json: MakeJson) -> None:
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        paths = pool.map(_create, [(str(tmp_path), record_json())] * 8)
    assert len(set(paths)) == 8 and len(list(tmp_path.glob("*.json"))) == 8


def test_one_configuration_key(record: MakeRecord, record_json: MakeJson) -> None:
    base = record()
    assert config_key(record(seed=3)) == config_key(base)  # seeds are runs of one configuration
    assert run_key(record(seed=3)) != run_key(base)
    for other in (record(profile="default"), record(model="x"), record(options={"a": "1"}),
                  record(config=record_json()["config"] | {"epochs": 2}),
                  record(config=record_json()["config"] | {"precision": {"amp": "bf16"}})):  # fmt: skip
        assert config_key(other) != config_key(base)
    amp = record(config=record_json()["config"] | {"precision": {"amp": "bf16"}})
    assert config_key(amp, speed=False) == config_key(base, speed=False)  # the plain twin
    elsewhere = record(machine_slug="other-2c")
    assert config_key(elsewhere) != config_key(base) and config_key(elsewhere, machine=False) == config_key(
        base, machine=False
    )


def test_a_record_appears_whole_or_not_at_all(
    tmp_path: Path, record: MakeRecord, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The record is linked to its name complete (no empty file claimed first), after prepare(path) ran; on a
    file system without hard links the name is claimed and the file renamed onto it. No temporary file stays."""
    seen = []
    a = create_record(record(), tmp_path, "stem", prepare=lambda p: seen.append((p, p.exists())))
    assert seen == [(a, False)] and read_record(a).model == "lecture-cnn"

    def no_links(src: object, dst: object) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    b = create_record(record(model="other"), tmp_path, "stem")
    assert b.name == "stem-2.json" and read_record(b).model == "other"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["stem-2.json", "stem.json"]
