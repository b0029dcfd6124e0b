"""The machine's ceiling: matmul GFLOP/s and memory bandwidth, measured once and cached."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import torch

from cnnbench.data.cache import CacheEntry, CorruptEntry, cache_root, cached
from cnnbench.io import atomic_write_text
from cnnbench.machine.environment import machine_info, machine_slug
from cnnbench.measure.timing import Budget, measure

MATMUL_N = 2048
COPY_BYTES = 256 * 2**20
BUDGET = Budget(warmup=2, min_runs=5, min_time_s=0.3, max_time_s=10.0)


def _path(device: torch.device) -> Path:
    slug = machine_slug(machine_info(device))
    return cache_root() / "machine" / f"{slug}_{device.type}_torch{torch.__version__}_t{torch.get_num_threads()}.json"


def _matmul_gflops(device: torch.device, dtype: torch.dtype) -> dict:
    a = torch.randn(MATMUL_N, MATMUL_N, device=device, dtype=dtype)
    b = torch.randn(MATMUL_N, MATMUL_N, device=device, dtype=dtype)
    stats = measure(lambda: torch.mm(a, b), 1, BUDGET, device)
    return {"gflops": round(2 * MATMUL_N**3 / (stats.median_ms / 1e3) / 1e9, 1), "timing": stats.as_dict()}


def _bandwidth_gbs(device: torch.device) -> dict:
    src = torch.ones(COPY_BYTES // 4, device=device)
    dst = torch.empty_like(src)
    stats = measure(lambda: dst.copy_(src), 1, BUDGET, device)
    return {"gb_per_s": round(2 * COPY_BYTES / (stats.median_ms / 1e3) / 1e9, 1), "timing": stats.as_dict()}


def measure_ceiling(device: torch.device) -> dict:
    """fp32 matmul (and bf16 on GPU) GFLOP/s and copy bandwidth (bytes read + written per second)."""
    result = {
        "device": device.type,
        "threads": torch.get_num_threads(),
        "matmul_fp32": _matmul_gflops(device, torch.float32),
        "copy": _bandwidth_gbs(device),
    }
    if device.type == "cuda":
        result["matmul_bf16"] = _matmul_gflops(device, torch.bfloat16)
    return result


_memo: dict[Path, dict] = {}


def ceiling(device: torch.device, refresh: bool = False) -> dict:
    """The cached ceiling for this machine, device, torch version and thread count; measured if missing.

    Measured at most once per process (also when it could not be kept in the cache).
    """
    path = _path(device)
    if path in _memo and not refresh:
        return _memo[path]
    _memo[path] = _ceiling(device, path, refresh)
    return _memo[path]


class _Interfered(Exception):
    """A ceiling measured under load: used once, never cached."""

    def __init__(self, result: dict) -> None:
        self.result = result


def _ceiling(device: torch.device, path: Path, refresh: bool) -> dict:
    """From the cache (a sealed entry, cnnbench.data.cache: a truncated or damaged file is measured again), or
    measured now and cached unless other processes disturbed the measurement."""
    entry = CacheEntry((path,))

    def measure_and_keep() -> dict:
        result = measure_ceiling(device)
        timings = [v["timing"] for v in result.values() if isinstance(v, dict) and "timing" in v]
        if any(t["interfered"] for t in timings):
            raise _Interfered(result)
        atomic_write_text(path, json.dumps(result, indent=2) + "\n")
        return result

    try:
        if refresh:
            entry.marker.unlink(missing_ok=True)  # the old file, kept if the new measurement is disturbed
            result = measure_and_keep()
            entry.seal()
        else:
            result = cached(entry, lambda: _read(path), measure_and_keep, "machine ceiling")
    except _Interfered as e:
        return e.result | {"cached": None}
    return result | {"cached": str(path)}


def _read(path: Path) -> dict:
    """A cached ceiling, checked: positive finite GFLOP/s and GB/s where the tables read them (CorruptEntry)."""
    result = json.loads(path.read_text())
    wanted = [("matmul_fp32", "gflops"), ("copy", "gb_per_s")]
    if "matmul_bf16" in result:
        wanted.append(("matmul_bf16", "gflops"))
    for key, unit in wanted:
        section = result.get(key)
        value = section.get(unit) if isinstance(section, dict) else None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < math.inf:
            raise CorruptEntry(f"{key}.{unit} is {value!r}, not a positive number")
    return result


def matmul_peak(ceiling: dict[str, Any], amp: str | None, device_type: str) -> float | None:
    """The matmul GFLOP/s ceiling (a record's flat `ceiling` summary) that a run's FLOPs compare with:
    bf16 for --amp runs, fp32 otherwise; none for fp32 on CUDA, where cuDNN runs its convolutions in
    TF32, a ceiling not measured (the fp32 matmul ceiling would overstate the fraction)."""
    if amp:
        return ceiling.get("matmul_bf16")  # fp16 and bf16 tensor-core peaks are equal on the GPUs measured
    return None if device_type == "cuda" else ceiling.get("matmul_fp32")
