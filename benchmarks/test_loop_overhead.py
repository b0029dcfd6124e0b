"""cnnbench's training loop against a bare hand-written PyTorch loop: same model, data and batch.

The two are interleaved (bare, cnnbench, bare, cnnbench, ...) so that drift on a shared machine
hits both alike; the ratio of median throughputs must be at least 0.9.
"""

from __future__ import annotations

import statistics
import time

import torch

from cnnbench.registry import get_task
from cnnbench.spec import TensorData
from cnnbench.train import train

N, BATCH, ROUNDS = 4096, 128, 5


def _bare_loop(model: torch.nn.Module, data: TensorData, loss_fn, lr: float) -> float:
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    t0 = time.perf_counter()
    perm = torch.randperm(len(data))
    for start in range(0, len(data), BATCH):
        idx = perm[start : start + BATCH]
        opt.zero_grad(set_to_none=True)
        loss_fn(model(data.x[idx]), data.y[idx]).backward()
        opt.step()
    return len(data) / (time.perf_counter() - t0)


def _compare() -> dict[str, float]:
    task = get_task("image")
    profile = task.profile("quick").replace(epochs=1, batch_size=BATCH)
    gen = torch.Generator().manual_seed(0)
    data = TensorData(torch.randn(N, 1, 28, 28, generator=gen), torch.randint(0, 10, (N,), generator=gen), 10, "random")
    torch.manual_seed(0)
    model = task.build("lecture-cnn")
    train(model, data.take(512, 0), task.loss, profile, seed=0, progress=False)  # warm-up both paths
    bare, ours = [], []
    for i in range(ROUNDS):
        bare.append(_bare_loop(model, data, task.loss, profile.lr))
        ours.append(train(model, data, task.loss, profile, seed=i, progress=False).samples_per_second)
    return {"bare_sps": statistics.median(bare), "cnnbench_sps": statistics.median(ours)}


def test_loop_throughput_within_10_percent_of_bare_loop(benchmark) -> None:
    benchmark.group = "runner/loop-overhead"
    result = benchmark.pedantic(_compare, rounds=1, iterations=1)
    ratio = result["cnnbench_sps"] / result["bare_sps"]
    benchmark.extra_info.update(result, ratio=ratio)
    print(
        f"\nloop overhead: bare {result['bare_sps']:.0f} samples/s, cnnbench {result['cnnbench_sps']:.0f}, "
        f"ratio {ratio:.3f}"
    )
    assert ratio >= 0.9, result
