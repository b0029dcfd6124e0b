"""Worker processes of cnnbench.data.workers: answers in order, a failing worker named in the error, workers
stopped when the caller leaves early, ignoring Ctrl-C, and dying with a caller that is killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from cnnbench.data.workers import WorkerPool

WORKER = """
import os, sys, time
from cnnbench.data.workers import serve

def answer(payload):
    if payload == b"fail":
        raise SystemExit(3)
    if payload.startswith(b"sleep"):
        print(os.getpid(), file=open(payload.split()[1], "w"), flush=True)
        time.sleep(60)
    return payload.upper()

sys.exit(serve(answer))
"""


@pytest.fixture
def worker_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    (tmp_path / "echo_worker.py").write_text(WORKER)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]))
    return "echo_worker"


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[1].split()[0] != "Z"
    except OSError:
        return False


def _pid_in(path: Path, timeout: float = 30) -> int:
    deadline = time.monotonic() + timeout
    while not (path.is_file() and path.read_text().strip()) and time.monotonic() < deadline:
        time.sleep(0.01)
    return int(path.read_text())


def test_answers_in_order_and_a_failing_worker_is_named(worker_module: str) -> None:
    with WorkerPool(worker_module, 2, "echo") as pool:
        assert list(pool.map([b"a", b"b", b"c"])) == [b"A", b"B", b"C"]
    with (
        pytest.raises(RuntimeError, match="echo worker exited with code 3"),
        WorkerPool(worker_module, 2, "echo") as pool,
    ):
        list(pool.map([b"a", b"fail"]))


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process states in /proc")
def test_leaving_early_stops_the_workers_that_ignore_ctrl_c(worker_module: str, tmp_path: Path) -> None:
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt), WorkerPool(worker_module, 2, "echo") as pool:
        answers = pool.map([f"sleep {tmp_path / 'pid'}".encode(), b"x", b"y"])
        pid = _pid_in(tmp_path / "pid")
        os.kill(pid, signal.SIGINT)  # ignored: Ctrl-C reaches the workers too, and the caller stops them
        time.sleep(0.2)
        assert _alive(pid)
        raise KeyboardInterrupt
    assert not _alive(pid) and time.monotonic() - started < 30
    del answers


CALLER = """
import sys
from cnnbench.data.workers import WorkerPool
with WorkerPool("echo_worker", 1, "echo") as pool:
    list(pool.map([b"sleep " + sys.argv[1].encode()]))
"""


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process states in /proc")
def test_a_worker_dies_with_a_killed_caller(worker_module: str, tmp_path: Path) -> None:
    caller = subprocess.Popen([sys.executable, "-c", textwrap.dedent(CALLER), str(tmp_path / "pid")])
    try:
        pid = _pid_in(tmp_path / "pid")
        caller.kill()  # SIGKILL: no clean-up code runs in the caller
        caller.wait()
        deadline = time.monotonic() + 10
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(pid)
    finally:
        caller.kill()
