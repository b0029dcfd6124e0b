"""Shared fixtures: an isolated data cache, a tiny MNIST in the real IDX format, run records, and the fuzzing
of parsers of outside files."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cnnbench.errors import UsageError
from cnnbench.results.record import Record
from cnnbench_tasks.image.idx import write_idx


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test reads or fills the user's real cache."""
    cache = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("CNNBENCH_DATA", str(cache))
    return cache


def make_digits(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Learnable 28x28 images: each class a bright bar at its own position, plus noise."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n).astype(np.uint8)
    images = rng.integers(0, 40, (n, 28, 28)).astype(np.uint8)
    for i, k in enumerate(labels):
        images[i, 2 + 2 * k : 4 + 2 * k, 4:24] = 250
    return images, labels


@pytest.fixture
def mnist_dir(tmp_path: Path) -> Path:
    """A tiny MNIST folder: the four files with the official names, 600 train and 200 test samples."""
    folder = tmp_path / "mnist"
    folder.mkdir()
    tr_x, tr_y = make_digits(600, 1)
    te_x, te_y = make_digits(200, 2)
    write_idx(folder / "train-images-idx3-ubyte", tr_x)
    write_idx(folder / "train-labels-idx1-ubyte", tr_y)
    write_idx(folder / "t10k-images-idx3-ubyte.gz", te_x)  # mixed plain and gz, as users have them
    write_idx(folder / "t10k-labels-idx1-ubyte.gz", te_y)
    return folder


# --- run records for the tests of tables, comparisons, publishing and task summaries ---

_RECORD: dict[str, Any] = {
    "schema_version": 2,
    "task": "image",
    "model": "lecture-cnn",
    "experiment": None,
    "primary_metric": "accuracy",
    "dataset": {"name": "mnist", "source": "test"},
    "options": {},
    "profile": "default",
    "config": {
        "epochs": 12, "batch_size": 128, "lr": 1e-3, "optimizer": "adam", "momentum": 0.9, "weight_decay": 0.0,
        "schedule": "cosine", "time_budget_s": None, "train_limit": None, "test_limit": None,
        "throughput_batch": 64, "input_shape": [1, 28, 28],
        "precision": {"amp": None, "channels_last": False, "compile": False},
    },
    "seed": 0,
    "device": {"type": "cpu"},
    "machine": {"cpu": "test cpu", "arch": "x86_64", "cores": 2, "memory_gb": 24.0, "os": "Linux"},
    "machine_slug": "test-machine",
    "versions": {"python": "3.11", "torch": "2.14.1"},
    "commit": {"sha": "abcdef1234567", "dirty": False},
    "started_utc": "2026-01-01T00:00:00Z",
    "command": "cnnbench run --task image",
    "metrics": {"params": 10, "flops_fwd": 2_000_000, "macs_fwd": 1_000_000, "flops_train": 6_000_000,
                "accuracy": 0.9, "train_seconds": 5.0},
    "training": None,
    "timing": None,
}  # fmt: skip

# what a part that is None in _RECORD becomes when a test gives some of its fields
_PARTS: dict[str, dict[str, Any]] = {
    "training": {"epochs_run": 12.0, "steps": 100, "samples": 6000, "train_seconds": 5.0, "samples_per_second": 1200.0,
                 "final_loss": 0.1, "stopped_by": "epochs", "train_samples": 500, "test_samples": 100},
    "distributed": {"world_size": 2, "backend": "gloo", "launcher": "cnnbench", "global_batch": 128,
                    "per_rank_batch": 64, "nodes": 1},
    "ceiling": {"copy_gb_per_s": 10.0, "cached": True},
}  # fmt: skip


def _stats(batch: int, given: float | dict[str, Any]) -> dict[str, Any]:
    """A whole PhaseStats object from a median (ms) or some of its fields."""
    given = {"median_ms": given} if isinstance(given, (int, float)) else given
    ms = given.get("median_ms", 1.0)
    base = {"batch": batch, "median_ms": ms, "iqr_ms": 0.0, "min_ms": ms, "mean_ms": ms, "n": 10,
            "per_second": 1e3 * batch / ms, "noisy": False, "clock": "perf_counter"}  # fmt: skip
    return base | given


def _merged(base: Any, override: Any) -> Any:
    if isinstance(base, dict) and isinstance(override, dict):
        return {k: _merged(v, override[k]) if k in override else v for k, v in base.items()} | {
            k: v for k, v in override.items() if k not in base
        }
    return override


def record_json(**overrides: Any) -> dict[str, Any]:
    """A complete version-2 record in its JSON form, with the given top-level fields merged in (objects are
    merged key by key; None replaces). timing is given short: {phase: {batch: median_ms or stats fields}}."""
    out = dict(_RECORD)
    for key, value in overrides.items():
        if key == "timing" and value is not None:
            value = {phase: {f"b{b}": _stats(int(b), s) for b, s in per.items()} for phase, per in value.items()}
        base = out.get(key)
        if base is None and isinstance(value, dict):
            base = _PARTS.get(key)
        out[key] = _merged(base, value)
    return out


def _make_record(**overrides: Any) -> Record:
    return Record.from_json(record_json(**overrides), "test record")


@pytest.fixture
def make_record() -> Callable[..., Record]:
    """make_record(**overrides): a typed Record from a complete version-2 record (see record_json)."""
    return _make_record


# --- fuzzing the parsers of outside files ---


def _mutated(good: bytes, edits: list[tuple[int, int]], cut: int) -> bytes:
    out = bytearray(good)
    for at, value in edits:
        out[at % len(out)] = value
    return bytes(out[: max(0, len(out) - cut)])


def mutations(good: bytes, cut: int = 40) -> st.SearchStrategy[bytes]:
    """Arbitrary short bytes, and `good` with up to 4 bytes changed and up to `cut` bytes cut off its end."""
    edits = st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=4)
    return st.one_of(st.binary(max_size=200), st.builds(_mutated, st.just(good), edits, st.integers(0, cut)))


# A shell that starts a command in the background without job control (`cmd &` in a script, `nohup`) starts it
# with SIGINT ignored, and every process it starts inherits that, so Python in them never raises
# KeyboardInterrupt. The tests that interrupt a run (a worker pool's Ctrl-C, the fault tests) send SIGINT to
# processes they start: give those the default disposition, as a terminal would.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

# every hypothesis test: no deadline (a busy machine is slow), no example database in the checkout, and
# $CNNBENCH_FUZZ_EXAMPLES examples (default 200) for a longer search; the fixtures fuzz tests use are only
# read, never changed by an example
settings.register_profile(
    "cnnbench",
    max_examples=int(os.environ.get("CNNBENCH_FUZZ_EXAMPLES", 200)),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.load_profile("cnnbench")


FuzzFile = Callable[..., None]


@pytest.fixture
def fuzz_file(tmp_path_factory: pytest.TempPathFactory) -> FuzzFile:
    """fuzz_file(name, good, parse, check=None, cut=40): writes mutations of the bytes `good`
    to a file called `name` and asserts that parse(path) either returns a result (which check(result)
    accepts) or raises one line of UsageError naming the file; any other exception fails the test."""

    def run(
        name: str,
        good: bytes,
        parse: Callable[[Path], Any],
        check: Callable[[Any], None] | None = None,
        cut: int = 40,
    ) -> None:
        @given(raw=mutations(good, cut))
        def parses_or_refuses_in_one_line(raw: bytes) -> None:
            path = tmp_path_factory.mktemp("fuzz") / name
            path.write_bytes(raw)
            try:
                result = parse(path)
            except UsageError as e:
                assert name in str(e) and "\n" not in str(e), str(e)
            else:
                if check is not None:
                    check(result)

        parses_or_refuses_in_one_line()

    return run


@pytest.fixture
def committed_runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The run records git tracks under results/runs, in a folder of their own with the same layout: the records
    `make run` or a user's own runs add to the checkout beside them (the README's set-up runs `make run` before
    `make test`) are not the committed ones. Outside a git checkout, the folder as it is."""
    runs = Path(__file__).resolve().parents[1] / "results" / "runs"
    try:
        listed = subprocess.run(["git", "ls-files", "-z", "--", "."], cwd=runs, capture_output=True, check=True,
                                timeout=60).stdout.decode().split("\0")  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return runs
    tracked = [name for name in listed if name]
    if not tracked:
        return runs
    out = tmp_path_factory.mktemp("committed") / "runs"
    for name in tracked:
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(runs / name, out / name)
    return out
