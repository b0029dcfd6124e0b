"""--nproc: data-parallel runs with torch.distributed under torchrun (DDP; gloo on CPU, nccl on GPUs).

`cnnbench run ... --nproc N` starts `torchrun --standalone --nproc-per-node N` on this command; a
`cnnbench` started by torchrun itself (multi-node: torchrun's own --nnodes/--rdzv-* flags) finds the
environment torchrun sets and joins the process group.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import torch
import torch.distributed as dist

from cnnbench.errors import UsageError

BACKENDS = ("gloo", "nccl")
TIMEOUT_S = 120  # a collective waiting longer than this for a peer fails the run instead of hanging
ARGV_ENV = "CNNBENCH_RANK_ARGV"  # read by cli/main.py (RANK_ARGV_ENV)
KILL_ENV = "CNNBENCH_TEST_KILL_RANK"  # fault injection for tests: this rank kills itself after its first step


@dataclass(frozen=True)
class World:
    rank: int = 0
    size: int = 1
    local_rank: int = 0
    backend: str | None = None

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def active(self) -> bool:
        return self.size > 1


SINGLE = World()


def under_torchrun() -> bool:
    return "TORCHELASTIC_RUN_ID" in os.environ or all(k in os.environ for k in ("RANK", "WORLD_SIZE", "MASTER_ADDR"))


def check_backend(backend: str | None, device: torch.device) -> str:
    """The backend for this device (nccl on GPUs, gloo on CPU), or one clear error."""
    name = backend or ("nccl" if device.type == "cuda" else "gloo")
    if name not in BACKENDS:
        raise UsageError(f"--backend {name}: valid: {', '.join(BACKENDS)}")
    available = dist.is_available() and (dist.is_nccl_available() if name == "nccl" else dist.is_gloo_available())
    if not available:
        raise UsageError(f"--backend {name} is not available in this PyTorch build")
    if name == "nccl" and device.type != "cuda":
        raise UsageError("--backend nccl needs CUDA GPUs; use gloo on the CPU")
    return name


def check_nproc(nproc: int, device: torch.device) -> None:
    if nproc < 1:
        raise UsageError(f"--nproc must be positive, got {nproc}")
    if device.type == "cuda" and nproc > torch.cuda.device_count():
        raise UsageError(f"--nproc {nproc} asks for more processes than the {torch.cuda.device_count()} GPU(s) here")
    if device.type == "cpu" and nproc > (os.cpu_count() or 1):
        raise UsageError(f"--nproc {nproc} asks for more processes than the {os.cpu_count()} CPU core(s) here")


def launch(argv: Sequence[str], nproc: int) -> int:
    """Run this cnnbench command again under torchrun with nproc local processes; its exit code.

    The command reaches the processes through ARGV_ENV: after `-m module`, torchrun's own parser would
    still take a cnnbench option for an abbreviation of one of its own (--nproc for --nproc-per-node).
    """
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nnodes=1", f"--nproc-per-node={nproc}",
           "--max-restarts=0", "--monitor-interval=0.5", "-m", "cnnbench.cli.main"]  # fmt: skip
    threads = os.environ.get("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // nproc)))
    env = os.environ | {ARGV_ENV: json.dumps(list(argv)), "OMP_NUM_THREADS": threads}
    return subprocess.run(cmd, env=env).returncode


def rank_argv() -> list[str] | None:
    """The command a launched process runs (see launch), if it is one."""
    text = os.environ.get(ARGV_ENV)
    return json.loads(text) if text is not None and under_torchrun() else None


def init(device: torch.device, backend: str | None) -> tuple[World, torch.device]:
    """Join the process group torchrun prepared; the world and this rank's device."""
    rank, size = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    local = int(os.environ.get("LOCAL_RANK", "0"))
    name = check_backend(backend, device)
    if device.type == "cuda":
        device = torch.device("cuda", local)
        torch.cuda.set_device(device)
    dist.init_process_group(name, timeout=timedelta(seconds=TIMEOUT_S))
    return World(rank, size, local, name), device


def finish(world: World) -> None:
    """Leave the group together: a rank that tears down its connections while another still uses them makes
    gloo abort that other rank (seen as exit -6 of rank 0)."""
    if world.active and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def any_rank(flag: bool, world: World, device: torch.device) -> bool:
    """True on every rank if it is True on any (so that all ranks stop at the same step)."""
    if not world.active:
        return flag
    t = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item() > 0)


def mean_over_ranks(value: float, world: World, device: torch.device) -> float:
    if not world.active:
        return value
    t = torch.tensor([value], dtype=torch.float64, device=device)
    dist.all_reduce(t)
    return float(t.item() / world.size)


def same_on_all_ranks(value: float, world: World, device: torch.device, what: str) -> None:
    """Every rank evaluates the whole test set with the same weights: a disagreement is a bug, not noise."""
    if not world.active:
        return
    lo = torch.tensor([value], dtype=torch.float64, device=device)
    hi = lo.clone()
    dist.all_reduce(lo, op=dist.ReduceOp.MIN)
    dist.all_reduce(hi, op=dist.ReduceOp.MAX)
    if hi.item() - lo.item() > 1e-9:
        raise RuntimeError(f"ranks disagree on {what}: {lo.item()} vs {hi.item()}")


def maybe_kill_self(world: World) -> None:
    """Fault injection for the test of a dying rank (see KILL_ENV)."""
    if world.active and os.environ.get(KILL_ENV) == str(world.rank):
        os.kill(os.getpid(), signal.SIGKILL)


def shard(idx: torch.Tensor, world: World) -> tuple[torch.Tensor, float]:
    """This rank's share of a global batch and the weight of its mean loss.

    DistributedDataParallel averages gradients over ranks; weighting each rank's mean loss by
    size * share / batch makes that average the gradient of the global batch's mean loss, also for a
    last batch that does not split evenly (a rank may get nothing).
    """
    if not world.active:
        return idx, 1.0
    mine = idx[world.rank :: world.size]
    return mine, len(mine) * world.size / len(idx)


def describe(world: World, global_batch: int) -> dict:
    return {
        "world_size": world.size,
        "backend": world.backend,
        "launcher": "torchrun",
        "global_batch": global_batch,
        "per_rank_batch": -(-global_batch // world.size),
        "nodes": int(os.environ.get("GROUP_WORLD_SIZE", "1")),
    }
