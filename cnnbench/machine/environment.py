"""What produced a record: the machine (no host name), library versions and the git commit."""

from __future__ import annotations

import os
import platform
import re
import subprocess
import time
from pathlib import Path

import torch


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024**2, 1)
    except OSError:
        pass
    return None


def machine_info(device: torch.device) -> dict:
    info: dict = {
        "cpu": _cpu_model(),
        "arch": platform.machine(),
        "cores": os.cpu_count(),
        "memory_gb": _memory_gb(),
        "os": f"{platform.system()} {platform.release()}",
        "gpu": None,
        "gpu_memory_gb": None,
    }
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        info["gpu"] = props.name
        info["gpu_memory_gb"] = round(props.total_memory / 1024**3, 1)
    return info


def machine_slug(machine: dict) -> str:
    """A short, stable folder name for a machine: its GPU or CPU model and core count."""
    base = machine.get("gpu") or machine.get("cpu") or "unknown"
    base = re.sub(r"\((r|tm)\)", "", base, flags=re.IGNORECASE)
    slug = re.sub(r"[^a-z0-9]+", "-", base.lower()).strip("-")
    slug = re.sub(r"-(processor|cpu|with-radeon-graphics)$", "", slug)
    return f"{slug}-{machine.get('cores')}c" if not machine.get("gpu") else slug


def versions(device: torch.device) -> dict:
    import numpy
    import torchvision

    cuda = device.type == "cuda"
    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "numpy": numpy.__version__,
        "cuda": torch.version.cuda if cuda else None,
        "cudnn": torch.backends.cudnn.version() if cuda else None,
    }


def git_commit(path: Path | None = None) -> dict:
    """The commit of the checkout holding cnnbench (sha and dirty flag), or nulls outside git."""
    where = path or Path(__file__).resolve().parent
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=where, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=where,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return {"sha": None, "dirty": None}
    return {"sha": sha, "dirty": bool(status.strip())}


def threads_info() -> dict:
    return {
        "torch_threads": torch.get_num_threads(),
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
        "MKL_NUM_THREADS": os.environ.get("MKL_NUM_THREADS"),
    }


def _governor() -> str:
    try:
        return Path("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor").read_text().strip()
    except OSError:
        return "unavailable (no cpufreq in /sys)"


_load: list[float | None] = []


def load_at_start(seconds: float = 0.5) -> float | None:
    """Cores other processes keep busy, measured once per process (at the start of a run); None without /proc."""
    if not _load:
        from cnnbench.measure.interference import CpuLoadMeter

        meter = CpuLoadMeter()
        meter.start()
        time.sleep(seconds)
        other = meter.stop()
        _load.append(None if other is None else round(other, 2))
    return _load[0]


def busy_machine_warning(load: float | None, threads: int) -> str | None:
    """One line when other processes keep at least half a core busy: torch's threads will fight them."""
    if load is None or load < 0.5:
        return None
    return (f"note: other processes keep {load:.1f} of {os.cpu_count()} cores busy; accuracy does not depend on it "
            f"(budgets are epochs and samples), times do. With {threads} torch threads they compete: "
            "--threads 1 is often faster on a busy machine")  # fmt: skip


def timing_environment() -> dict:
    """What decides a CPU timing besides the code: clock, governor, threads, BLAS settings, the load at start."""
    from cnnbench.machine.clock import measured_clock_ghz, nominal_mhz

    clock = measured_clock_ghz()
    return {
        "other_cpu_cores_at_start": load_at_start(),
        "governor": _governor(),
        "clock_ghz": clock["ghz"],
        "clock_method": clock["method"],
        "nominal_mhz": nominal_mhz(),
        **threads_info(),
        "OPENBLAS_CORETYPE_set": "OPENBLAS_CORETYPE" in os.environ,
    }
