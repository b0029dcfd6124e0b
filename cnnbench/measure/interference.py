"""Noticing other work on the machine while we time: CPU time used by other processes, GPU sharers."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

from cnnbench.errors import reason

OTHER_LOAD_THRESHOLD = 0.15  # cores busy with other processes during a measurement: above this, re-measure

_BUSY_FIELDS = (0, 1, 2, 5, 6, 7)  # user nice system irq softirq steal; idle and iowait are not busy


def _clock_ticks() -> int:
    try:
        return os.sysconf("SC_CLK_TCK")
    except (ValueError, OSError, AttributeError):
        return 100


def _machine_busy_ticks() -> int | None:
    try:
        first = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    except OSError:
        return None
    if not first or first[0] != "cpu":
        return None
    values = [int(v) for v in first[1:]]
    return sum(values[i] for i in _BUSY_FIELDS if i < len(values))


def _own_ticks() -> int | None:
    """utime + stime of this process, all its threads (fields 14 and 15 of /proc/self/stat)."""
    try:
        stat = Path("/proc/self/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()  # the command name may contain spaces
    return int(fields[11]) + int(fields[12])


class CpuLoadMeter:
    """Measures, between start() and stop(), how many cores other processes kept busy (Linux /proc)."""

    def __init__(self) -> None:
        self._t0 = 0.0
        self._busy0: int | None = None
        self._own0: int | None = None

    @staticmethod
    def available() -> bool:
        return _machine_busy_ticks() is not None and _own_ticks() is not None

    def start(self) -> None:
        self._t0 = time.perf_counter()
        self._busy0, self._own0 = _machine_busy_ticks(), _own_ticks()

    def stop(self) -> float | None:
        """Average number of cores used by other processes since start(); None where /proc is missing."""
        wall = time.perf_counter() - self._t0
        busy, own = _machine_busy_ticks(), _own_ticks()
        if None in (busy, own, self._busy0, self._own0) or wall <= 0:
            return None
        other_ticks = (busy - self._busy0) - (own - self._own0)
        # tick counters are coarse (10 ms): over short windows the estimate can dip below zero
        return max(0.0, other_ticks / _clock_ticks() / wall)


def gpu_sharers() -> dict:
    """Other processes holding the GPU, from nvidia-smi when it exists; 'unknown' otherwise."""
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return {"other_processes": None, "note": "unknown: nvidia-smi not found"}
    try:
        out = subprocess.run(
            [exe, "--query-compute-apps=pid,used_memory", "--format=csv,noheader,nounits"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError) as e:
        return {"other_processes": None, "note": f"unknown: nvidia-smi failed ({reason(e)})"}
    pids = [int(line.split(",")[0]) for line in out.strip().splitlines() if line.strip()]
    others = [p for p in pids if p != os.getpid()]
    return {"other_processes": len(others), "note": "from nvidia-smi --query-compute-apps"}
