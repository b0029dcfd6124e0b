"""The core clock as it runs, measured by a chain of dependent integer adds (one add per cycle).

The nominal MHz in /proc/cpuinfo can be far from the running clock (2.45 GHz nominal, 3.18 GHz
measured on one machine here). Python cannot issue a dependent add per cycle, so a ten-line C
function is compiled once with the system C compiler into the cache; without a compiler, or on an
architecture not listed below, the clock is reported as unavailable, with the reason.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import platform
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from cnnbench.data.cache import CacheEntry, cache_root, cached
from cnnbench.io import TEMP_PREFIX

# register + register: recent cores fold add-immediate chains at rename, which would overstate the clock
_ADD = {"x86_64": "add %0, %0", "amd64": "add %0, %0", "aarch64": "add %0, %0, %0", "arm64": "add %0, %0, %0"}
ADDS_PER_ITERATION = 8  # the loop counter's own chain runs in parallel, hidden behind these 8
_SOURCE = """
long cnnbench_spin(long n) {{
    long x = n;
    for (long i = 0; i < n; i++) {{
        __asm__ volatile("{adds}" : "+r"(x));
    }}
    return x;
}}
"""


def _library() -> tuple[ctypes.CDLL | None, str]:
    arch = platform.machine().lower()
    if arch not in _ADD:
        return None, f"unavailable: no dependent-add loop for {arch}"
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if cc is None:
        return None, "unavailable: no C compiler to build the dependent-add loop"
    source = _SOURCE.format(adds="\\n\\t".join([_ADD[arch]] * ADDS_PER_ITERATION))
    folder = cache_root() / "clock"
    lib = folder / f"spin-{hashlib.sha256((source + arch).encode()).hexdigest()[:12]}.so"
    folder.mkdir(parents=True, exist_ok=True)
    try:  # a sealed cache entry (cnnbench.data.cache): a library that is truncated or does not load is built again
        return cached(CacheEntry((lib,)), lambda: ctypes.CDLL(str(lib)), lambda: _build(cc, source, lib),
                      "dependent-add loop"), "dependent-add loop"  # fmt: skip
    except _CompileFailed as e:
        return None, f"unavailable: compiling the dependent-add loop failed ({e})"


class _CompileFailed(Exception):
    """The compiler's error: the clock is unavailable (nothing is cached)."""


def _build(cc: str, source: str, lib: Path) -> ctypes.CDLL:
    """Compile source into lib and load it; _CompileFailed with the compiler's error.

    Several processes may build at once (the ranks of an --nproc run on a cold cache): each works in
    its own folder (a temporary one that the next run removes if this one is killed), loads its library
    from there and renames it, complete, onto lib, so no process loads a partial file.
    """
    with tempfile.TemporaryDirectory(dir=lib.parent, prefix=f"{TEMP_PREFIX}{os.getpid()}.build-") as work:
        src, out = Path(work) / "spin.c", Path(work) / lib.name
        src.write_text(source)
        proc = subprocess.run([cc, "-O1", "-shared", "-fPIC", "-o", str(out), str(src)], capture_output=True, text=True)
        if proc.returncode != 0:
            raise _CompileFailed(proc.stderr.strip()[:200])
        library = ctypes.CDLL(str(out))
        os.replace(out, lib)
    return library


def measured_clock_ghz(iterations: int = 20_000_000, repeats: int = 5) -> dict:
    """The best of a few runs of the add chain, in GHz (best: other load only ever slows it down)."""
    lib, method = _library()
    if lib is None:
        return {"ghz": None, "method": method}
    spin = lib.cnnbench_spin
    spin.restype = ctypes.c_long
    spin.argtypes = [ctypes.c_long]
    spin(iterations // 10)
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        spin(iterations)
        best = min(best, time.perf_counter() - t0)
    return {"ghz": round(iterations * ADDS_PER_ITERATION / best / 1e9, 3), "method": method}


def nominal_mhz() -> float | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("cpu MHz"):
                return float(line.split(":", 1)[1])
    except (OSError, ValueError):
        pass
    return None
