"""cnnbench's training loop against a bare hand-written PyTorch loop: same model, data and batch.

The two are interleaved (cnnbench.measure.interleave) so that drift on a shared machine hits both alike;
cnnbench's throughput must be at least 90% of the bare loop's (time ratio at most 1/0.9); a ratio
beyond that is re-measured once and the second measurement decides, unless other processes kept more
than 0.15 core busy during it: then the test is skipped and says so (a busy machine proves nothing).
"""

from __future__ import annotations

import pytest
import torch

from cnnbench.measure.interference import OTHER_LOAD_THRESHOLD, CpuLoadMeter
from cnnbench.measure.interleave import interleaved_ratio
from cnnbench.registry import get_task
from cnnbench.run.train import train
from cnnbench.spec import TensorData

N, BATCH = 4096, 128


def test_loop_throughput_within_10_percent_of_bare_loop(benchmark) -> None:
    task = get_task("image")
    profile = task.profile("quick").replace(epochs=1, batch_size=BATCH)
    gen = torch.Generator().manual_seed(0)
    data = TensorData(torch.randn(N, 1, 28, 28, generator=gen), torch.randint(0, 10, (N,), generator=gen), 10, "random")
    torch.manual_seed(0)
    model = task.build("lecture-cnn")

    def bare() -> None:
        opt = torch.optim.Adam(model.parameters(), lr=profile.lr)
        model.train()
        perm = torch.randperm(N)
        for start in range(0, N, BATCH):
            idx = perm[start : start + BATCH]
            opt.zero_grad(set_to_none=True)
            task.loss(model(data.x[idx]), data.y[idx]).backward()
            opt.step()

    def ours() -> None:
        train(model, data, task.loss, profile, seed=0, progress=False)

    benchmark.group = "runner/loop-overhead"
    r = benchmark.pedantic(lambda: interleaved_ratio(bare, ours, rounds=6, reps=1), rounds=1, iterations=1)
    first = r.ratio
    load = None
    if r.ratio > 1 / 0.9:  # one re-measurement on a noisy machine; the second decides
        meter = CpuLoadMeter()
        meter.start()
        r = interleaved_ratio(bare, ours, rounds=8, reps=1)
        load = meter.stop()
    benchmark.extra_info.update(r.as_dict(), a="bare loop", b="cnnbench.run.train", first_ratio=first)
    print(
        f"\nloop overhead: bare {N / r.a_median_ms * 1e3:.0f} samples/s, cnnbench {N / r.b_median_ms * 1e3:.0f}; "
        f"time ratio cnnbench/bare = {r.ratio:.3f} (95% CI {r.ci_low:.3f}-{r.ci_high:.3f})"
    )
    if r.ratio > 1 / 0.9 and load is not None and load > OTHER_LOAD_THRESHOLD:
        pytest.skip(f"other processes used {load:.2f} cores during the re-measurement (ratio {r.ratio:.2f})")
    assert r.ratio <= 1 / 0.9, r
