"""`cnnbench machine`: this machine's ceiling (matmul GFLOP/s, bandwidth) and timing environment."""

from __future__ import annotations

import argparse

from cnnbench.machine.ceiling import ceiling
from cnnbench.machine.device import CHOICES, resolve_device
from cnnbench.machine.environment import machine_info, timing_environment


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--device", default="auto", choices=CHOICES)
    p.add_argument("--refresh", action="store_true", help="measure again even when cached")


def main(args: argparse.Namespace) -> int:
    device = resolve_device(args.device)
    m = machine_info(device)
    env = timing_environment()
    c = ceiling(device, refresh=args.refresh)
    print(f"machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB" + (f", GPU {m['gpu']}" if m["gpu"] else ""))
    print(
        f"clock: {env['clock_ghz']} GHz measured ({env['clock_method']}), nominal {env['nominal_mhz']} MHz, "
        f"governor {env['governor']}"
    )
    print(
        f"threads: torch {env['torch_threads']}, OMP_NUM_THREADS={env['OMP_NUM_THREADS']}, "
        f"MKL_NUM_THREADS={env['MKL_NUM_THREADS']}, OPENBLAS_CORETYPE set: {env['OPENBLAS_CORETYPE_set']}"
    )
    print(f"matmul fp32 {2048}x{2048}: {c['matmul_fp32']['gflops']} GFLOP/s")
    if "matmul_bf16" in c:
        print(f"matmul bf16 2048x2048: {c['matmul_bf16']['gflops']} GFLOP/s")
    print(f"copy bandwidth: {c['copy']['gb_per_s']} GB/s")
    print(f"cached in {c['cached']}" if c["cached"] else "not cached: other processes interfered; run again when quiet")
    return 0
