"""Streamed inputs (cnnbench.data.stream) in the training loop: the same seeded order and the same training as
the same samples held in a tensor, read ahead by worker processes, bad samples reported in one line."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from cnnbench.data.stream import StreamedInputs, in_batches
from cnnbench.errors import UsageError
from cnnbench.run.train import predict, train
from cnnbench.spec import Profile, TensorData

N = 50


class ArrayReader:
    """A reader over a uint8 array; position `bad` raises as a corrupt file would."""

    def __init__(self, data: np.ndarray, bad: int | None = None) -> None:
        self.data, self.bad, self.sample_shape = data, bad, data.shape[1:]

    def __len__(self) -> int:
        return len(self.data)

    def read(self, positions: np.ndarray) -> torch.Tensor:
        if self.bad is not None and self.bad in positions:
            raise UsageError(f"sample-{self.bad}.bin: not readable")
        return torch.from_numpy(self.data[positions])


def scale(batch: torch.Tensor) -> torch.Tensor:
    return batch.float().div_(255)


class Recorder(nn.Module):
    """A small net that keeps every training batch it sees."""

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Dropout(0.3), nn.Linear(12, 3))
        self.seen: list[torch.Tensor] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            self.seen.append(x.clone())
        return self.net(x)


def data(workers: int) -> tuple[TensorData, TensorData]:
    rng = np.random.default_rng(0)
    raw = rng.integers(0, 255, (N, 3, 2, 2), dtype=np.uint8)
    y = torch.from_numpy(rng.integers(0, 3, N))
    streamed = StreamedInputs(ArrayReader(raw), np.arange(N), scale, workers=workers, prefetch=1)
    return TensorData(scale(torch.from_numpy(raw)), y, 3, "tensor"), TensorData(streamed, y, 3, "stream")


def run(split: TensorData) -> tuple[Recorder, list[float]]:
    torch.manual_seed(0)
    model = Recorder()
    profile = Profile(epochs=3, batch_size=8, lr=0.05, optimizer="sgd")
    result = train(model, split, nn.functional.cross_entropy, profile, seed=7, progress=False)
    return model, [result.final_loss]


@pytest.mark.parametrize("workers", [0, 2])
def test_streamed_training_sees_the_tensor_order_and_trains_alike(workers: int) -> None:
    in_memory, streamed = data(workers)
    a, loss_a = run(in_memory)
    b, loss_b = run(streamed)
    assert len(a.seen) == len(b.seen) == 3 * 7  # 3 epochs of ceil(50 / 8) batches
    assert all(torch.equal(x, z) for x, z in zip(a.seen, b.seen, strict=True))
    assert loss_a == loss_b  # dropout draws too: reading ahead takes nothing from the global generator
    assert torch.equal(predict(a, in_memory.x, batch_size=16), predict(b, streamed.x, batch_size=16))


def test_subset_and_indexing_read_only_what_is_asked() -> None:
    in_memory, streamed = data(0)
    part = streamed.select(np.array([4, 1, 9])).take(2, seed=0)
    assert isinstance(part.x, StreamedInputs) and len(part.x) == 2
    assert torch.equal(part.x[:], in_memory.select(np.array([4, 1, 9])).take(2, seed=0).x)
    assert streamed.x.shape == (N, 3, 2, 2) and streamed.x.stored_bytes == N * 12
    assert torch.equal(torch.cat(list(in_batches(streamed.x, 7))), in_memory.x)


@pytest.mark.parametrize("workers", [0, 2])
def test_a_bad_sample_is_one_line_from_a_worker_too(workers: int) -> None:
    raw = np.zeros((N, 3, 2, 2), dtype=np.uint8)
    x = StreamedInputs(ArrayReader(raw, bad=17), np.arange(N), scale, workers=workers)
    with pytest.raises(UsageError, match=r"^sample-17.bin: not readable$"):
        list(in_batches(x, 8))


def test_stopping_early_shuts_the_workers_down() -> None:
    _, streamed = data(2)
    assert isinstance(streamed.x, StreamedInputs)
    batches = streamed.x.batches([np.arange(i, i + 5) for i in range(0, N, 5)])
    next(batches)
    batches.close()  # a budget stops training mid-epoch: no worker left behind
    import multiprocessing

    assert not [p for p in multiprocessing.active_children() if p.is_alive()]
