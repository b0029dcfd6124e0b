"""The running clock measured by a dependent-add loop compiled into the cache."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cnnbench.machine.clock import measured_clock_ghz

needs_cc = pytest.mark.skipif(not any(shutil.which(c) for c in ("cc", "gcc", "clang")), reason="no C compiler")


@needs_cc
def test_clock_is_measured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CNNBENCH_DATA", str(tmp_path))
    got = measured_clock_ghz(iterations=2_000_000, repeats=2)
    assert got["method"] == "dependent-add loop" and 0.2 < got["ghz"] < 10
    assert [p.name for p in (tmp_path / "clock").iterdir()] == [p.name for p in (tmp_path / "clock").glob("spin-*.so")]


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
        assert float(out) > 0.2
