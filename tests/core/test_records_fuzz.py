"""Run records from outside, fuzzed: any bytes, and any field of a complete record replaced by a value of
another kind (null, a string, NaN, a huge number, an empty list or object) or removed, give either one
line of UsageError when read, or a record that compare, the tables, the CSV and the claims all handle."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cnnbench.errors import UsageError
from cnnbench.results.compare import compare, environments_differ, format_changes, latest_by_key
from cnnbench.results.publish import Section, render_csv, render_markdown
from cnnbench.results.record import Record, parse_record, read_record, record_text

_CURVE = [
    {"samples": 500 * i, "epochs": i / 2, "flops": 3e9 * i, "seconds": 2.0 * i, "score": 0.5 + 0.1 * i, "split": "test"}
    for i in range(1, 4)
]
_TARGETS = [
    {"score": 0.7, "source": "a paper", "reached": True, "samples": 1000, "epochs": 1.0, "flops": 6e9, "seconds": 4.0},
    {"score": 0.99, "source": "a paper", "reached": False},
]


@pytest.fixture
def full_record(make_record: Callable[..., Record]) -> dict[str, Any]:
    """A trained and timed record with every optional part: its JSON form, as read back from a file (to_json keeps
    tuples such as the profile's lr_points, which a file holds as lists)."""
    record = make_record(
        experiment="digits", metrics={"accuracy": 0.8, "accuracy_by_sex": {"male": 0.7, "female": 0.9}},
        training={"learning_curve": _CURVE, "time_to_target": _TARGETS, "dev_scores": [0.5, 0.6]},
        timing={"forward": {1: 1.0, 64: 20.0}, "train_step": {64: 60.0}}, distributed={},
        environment={"governor": "performance", "clock_ghz": 2.5}, ceiling={},
    )  # fmt: skip
    return json.loads(json.dumps(record.to_json()))


def _paths(value: Any, at: tuple = ()) -> Iterator[tuple]:
    """Every place in a JSON tree, the root excluded."""
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return
    for key, inner in items:
        yield (*at, key)
        yield from _paths(inner, (*at, key))


_REMOVE = object()
# any value in place of any field: mostly refused by the reader
_ANY_VALUE = st.one_of(
    st.none(),
    st.booleans(),
    st.sampled_from([0, -1, 1, 2**63, 10**400, 1e308, float("nan"), float("inf"), -0.0]),
    st.text(max_size=4),
    st.sampled_from([[], {}, [None], {"x": None}, "b1", _REMOVE]),
)
# a value of the field's own kind, odd but well typed: what the reader accepts and every table must handle
_SAME_KIND: dict[type, list[Any]] = {
    bool: [True, False],
    int: [0, -1, 1, 2**62],
    float: [0.0, -1.0, 1e-300, 1e300, 0.5],
    str: ["", "x", "time_budget", "b0", "accuracy"],
    list: [[]],
    dict: [{}],
    type(None): [None, 0, ""],
}
_PLACES = st.integers(0, 10**6)  # a place in the record, modulo the number of places
# half the examples put odd values of the right kind only (most reach the tables), half put anything
_EDITS = st.one_of(
    st.lists(st.tuples(_PLACES, st.integers(0, 4).map(lambda i: ("same kind", i))), min_size=1, max_size=4),
    st.lists(st.tuples(_PLACES, _ANY_VALUE), min_size=1, max_size=2),
)


def _replacement(old: Any, value: Any) -> Any:
    if isinstance(value, tuple) and value[:1] == ("same kind",):
        choices = _SAME_KIND[type(old)]
        return choices[value[1] % len(choices)]
    return copy.deepcopy(value)


def _mutate(record: dict[str, Any], edits: list[tuple[int, Any]]) -> dict[str, Any]:
    out = copy.deepcopy(record)
    for index, value in edits:
        paths = list(_paths(out))
        if not paths:
            break
        *parents, key = paths[index % len(paths)]
        holder = out
        for p in parents:
            holder = holder[p]
        if value is _REMOVE:
            del holder[key]
        else:
            holder[key] = _replacement(holder[key], value)
    return out


def _use(records: list[Record]) -> None:
    """Everything that reads records: compare both ways, the tables, the CSV, the claims."""
    latest = latest_by_key(records)
    environments_differ(records[:1], records[1:])
    key = "a -> b"
    for old, new in ((records[0], records[-1]), (records[-1], records[0])):
        format_changes(compare({key: old}, {key: new}, 0.1, {key: key}))
    format_changes(compare(latest.records, latest.records, 0.1))
    paths = [(Path(f"runs/r{i}.json"), r) for i, r in enumerate(records)]
    section = Section(records[0].machine_slug, records[0].task, paths)
    render_markdown([section], Path("runs"), None)
    render_csv(records)
    for r in records:
        record_text(r)


@given(edits=_EDITS)
def test_fuzz_any_field_of_a_record(full_record: dict[str, Any], edits: list[tuple[int, Any]]) -> None:
    good = Record.from_json(full_record, "good.json")
    data = _mutate(full_record, edits)
    try:
        mutated = parse_record(json.dumps(data), "bad.json")
    except UsageError as e:
        assert str(e).startswith("bad.json") and "\n" not in str(e), str(e)
        return
    _use([good, mutated])


def test_fuzz_record_bytes(fuzz_file: Callable[..., None], full_record: dict[str, Any]) -> None:
    fuzz_file("record.json", json.dumps(full_record).encode(), read_record, cut=400)
