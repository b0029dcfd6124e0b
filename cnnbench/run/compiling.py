"""--compile: compile every graph a run will need up front, so that its cost is recorded on its own."""

from __future__ import annotations

import time
from collections.abc import Iterable

import torch

from cnnbench.measure.phases import Workload, restoring
from cnnbench.run.distributed import SINGLE, World

EVAL_BATCH = 1024  # train.predict's batch size


def eval_batches(*sizes: int) -> set[int]:
    """The batch shapes train.predict will feed for data sets of these sizes."""
    out = set()
    for n in sizes:
        if n > 0:
            out.add(min(EVAL_BATCH, n))
            if n > EVAL_BATCH and n % EVAL_BATCH:
                out.add(n % EVAL_BATCH)
    return out


def train_batches(n: int, batch_size: int, world: World = SINGLE) -> set[int]:
    """The batch shapes the training loop will feed this rank: its share of full batches and of the last one.

    A rank's share of a global batch of g samples is every size-th sample from its rank on (see
    distributed.shard); an empty share is left out (it compiles during training, at most once).
    """
    bs = min(batch_size, n)
    global_shapes = {bs} | ({n % bs} if n % bs else set())
    shares = {len(range(world.rank, g, world.size)) for g in global_shapes}
    return shares - {0}


def graphs_compiled() -> int:
    """Graphs Dynamo has compiled in this process so far (for the record: none should follow the warm-up)."""
    from torch._dynamo.utils import counters

    return counters["stats"]["unique_graphs"]


def warm_up(work: Workload, train_shapes: Iterable[int], eval_shapes: Iterable[int]) -> float:
    """Run a compiled model once per (mode, batch shape); returns the seconds this took (synchronised).

    Forward+backward in training mode and an inference-mode forward in evaluation mode; the weights,
    buffers (e.g. batch-norm statistics) and gradients are restored, so the run itself is unchanged.
    """
    model, device, precision = work.model, work.device, work.precision
    gen = torch.Generator().manual_seed(0)
    with restoring(model):
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        t0 = time.perf_counter()
        model.train()
        for b in sorted(set(train_shapes)):
            x, y = work.batch(b, gen)
            with precision.autocast(device):
                loss = work.loss_fn(model(precision.input(x)), y)
            loss.backward()
        model.eval()
        for b in sorted(set(eval_shapes)):
            # made outside inference mode, as the evaluation's inputs are: Dynamo guards on the tensor kind
            x = precision.input(work.example(b).to(device))
            with torch.inference_mode(), precision.autocast(device):
                model(x)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        return time.perf_counter() - t0
