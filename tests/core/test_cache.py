"""Cache entries: sealed by a marker written last, verified before use, rebuilt with one line on stderr
when damaged; temporary files of killed processes removed by the next run."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from cnnbench import io
from cnnbench.data.cache import CacheEntry, CorruptEntry, cached, remove_stale_temporaries
from cnnbench.io import TEMP_PREFIX


class Builder:
    """Writes two files of an entry and counts its calls; reads them back (CorruptEntry when the text is bad)."""

    def __init__(self, folder: Path) -> None:
        self.entry = CacheEntry((folder / "a.bin", folder / "b.bin"))
        self.builds = 0

    def build(self) -> str:
        self.builds += 1
        for p in self.entry.files:
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(f"content of {p.name}")
        return "built"

    def read(self) -> str:
        text = self.entry.files[0].read_text()
        if text != "content of a.bin":
            raise CorruptEntry(f"unexpected text {text!r}")
        return "read"

    def get(self) -> str:
        return cached(self.entry, self.read, self.build, "test data")


def test_built_once_then_read(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    b = Builder(tmp_path)
    assert b.get() == "built" and b.get() == "read" and b.builds == 1
    assert b.entry.marker.is_file() and capsys.readouterr().err == ""  # absent is not damaged: no warning


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda e: e.files[0].write_text("content of a.bi"), r"a.bin is 15 bytes, 16 when written \(truncated\?\)"),
        (lambda e: e.files[1].unlink(), r"b.bin missing"),
        (lambda e: e.marker.write_text("{"), r"unreadable completeness marker"),
        (lambda e: (e.marker.unlink(), e.files[0].write_text("garbage!garbage!")), r"unreadable: unexpected text"),
    ],
)
def test_a_damaged_entry_is_rebuilt_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture, damage: Callable[[CacheEntry], object], reason: str
) -> None:
    b = Builder(tmp_path)
    b.get()
    damage(b.entry)
    assert b.get() == "built" and b.builds == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and re.search(rf"a.bin: cached test data unusable \({reason}", err), err
    assert b.get() == "read" and b.builds == 2


def test_an_entry_from_before_markers_is_sealed_when_it_reads_well(tmp_path: Path) -> None:
    b = Builder(tmp_path)
    b.build()
    assert not b.entry.marker.exists()
    assert b.get() == "read" and b.builds == 1 and b.entry.marker.is_file()


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _aged(path: Path, seconds: float = 3600) -> Path:
    path.write_bytes(b"partial")
    old = time.time() - seconds
    os.utime(path, (old, old))
    return path


def test_stale_temporaries_are_removed(tmp_path: Path) -> None:
    dead = _dead_pid()
    stale = _aged(tmp_path / f"{TEMP_PREFIX}{dead}.positions-ab.npy.npy")
    legacy = _aged(tmp_path / f".positions-ab.npy.{dead}.tmp.npy")
    live = _aged(tmp_path / f"{TEMP_PREFIX}{os.getppid()}.x.npz")  # its writer still runs
    own = _aged(tmp_path / f"{TEMP_PREFIX}{os.getpid()}.x.npz")
    young = tmp_path / f"{TEMP_PREFIX}{dead}.y.npz"  # written after this process started: left to the next run
    young.write_bytes(b"partial")
    other = _aged(tmp_path / "positions-ab.npy")
    pattern = re.compile(r"^\.positions-[0-9a-f]+\.npy\.(\d+)\.tmp\.npy$")
    assert sorted(remove_stale_temporaries(tmp_path, [pattern])) == sorted([stale, legacy])
    assert all(p.exists() for p in (live, own, young, other))


def test_a_write_killed_midway_leaves_a_temporary_the_next_run_removes(tmp_path: Path) -> None:
    """SIGKILL inside atomic_path: no cleanup code runs, the temporary stays; the next cached() removes it."""
    script = (
        "import os, signal, sys; from pathlib import Path; from cnnbench.io import atomic_path\n"
        "with atomic_path(Path(sys.argv[1]) / 'a.bin') as tmp:\n"
        "    tmp.write_bytes(b'half'); os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path)])
    assert done.returncode == -9
    left = [p for p in tmp_path.iterdir() if p.name.startswith(TEMP_PREFIX)]
    assert len(left) == 1 and not (tmp_path / "a.bin").exists()
    os.utime(left[0], (io._STARTED - 10, io._STARTED - 10))  # the killed run started before this one
    assert Builder(tmp_path).get() == "built"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.bin", "a.bin.complete", "b.bin"]
