"""The running clock measured by a dependent-add loop compiled into the cache."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cnnbench import io
from cnnbench.io import TEMP_PREFIX
from cnnbench.machine.clock import measured_clock_ghz

needs_cc = pytest.mark.skipif(not any(shutil.which(c) for c in ("cc", "gcc", "clang")), reason="no C compiler")


@needs_cc
def test_clock_is_measured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CNNBENCH_DATA", str(tmp_path))
    got = measured_clock_ghz(iterations=2_000_000, repeats=2)
    assert got["method"] == "dependent-add loop" and 0.2 < got["ghz"] < 10
    [lib] = (tmp_path / "clock").glob("spin-*.so")
    assert sorted(p.name for p in (tmp_path / "clock").iterdir()) == [lib.name, f"{lib.name}.complete"]


def _damage(lib: Path, content: bytes) -> None:
    """Put a damaged file where the library was, as another writer would: a new file. This process has the old
    one loaded (mapped); truncating that file in place would make the library's exit handler fault (SIGBUS as
    the test process exits, after every test has passed)."""
    lib.unlink()
    lib.write_bytes(content)


@needs_cc
def test_a_damaged_or_half_built_loop_is_built_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The library is a sealed cache entry: a truncated file, or one that does not load, is compiled again (one
    line on stderr), and the build folder of a killed process is removed."""
    monkeypatch.setenv("CNNBENCH_DATA", str(tmp_path))
    measured_clock_ghz(iterations=100_000, repeats=1)
    [lib] = (tmp_path / "clock").glob("spin-*.so")
    _damage(lib, lib.read_bytes()[:100])  # truncated: its marker says otherwise
    assert measured_clock_ghz(iterations=100_000, repeats=1)["ghz"] is not None
    Path(f"{lib}.complete").unlink()
    _damage(lib, b"not a library")  # from before markers, and does not load
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / "clock" / f"{TEMP_PREFIX}{int(dead.stdout)}.build-x1y2"
    stale.mkdir()
    (stale / "spin.c").write_text("half")
    os.utime(stale, (io._STARTED - 10, io._STARTED - 10))
    assert measured_clock_ghz(iterations=100_000, repeats=1)["ghz"] is not None
    assert sorted(p.name for p in (tmp_path / "clock").iterdir()) == [lib.name, f"{lib.name}.complete"]


@needs_cc
def test_processes_building_the_loop_at_once_all_get_it(tmp_path: Path) -> None:
    """The ranks of an --nproc run start on a cold cache together (this raced: 'file too short')."""
    code = "from cnnbench.machine.clock import measured_clock_ghz; print(measured_clock_ghz(1_000_000, 1)['ghz'])"
    env = os.environ | {"CNNBENCH_DATA": str(tmp_path)}
    procs = [subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(6)]  # fmt: skip
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err[-1500:]
        assert float(out) > 0  # the loop ran; six at once on a busy machine say nothing of the clock's speed
