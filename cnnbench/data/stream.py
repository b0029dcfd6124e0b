"""Inputs too large to hold in memory: read in batches, decoded in worker processes, through a bounded queue.

A split's `x` is either a tensor or a StreamedInputs. A StreamedInputs holds no samples, only which samples of
its reader it stands for; a task supplies the reader (how one batch of samples is read and decoded, e.g. JPEG
files) and the transform that turns a stored batch into model inputs on the device (e.g. uint8 pixels ->
normalised floats). Samples stay in their stored form (uint8) until that transform, so a batch crosses from
the workers and to the device at a quarter of the float size.

The order is the caller's: `batches(index_batches)` yields the inputs of the given index batches in the
given order, so a training loop draws its seeded permutation the same way whether its data is a tensor or
a stream (see `feed`). Worker processes (torch's DataLoader) read ahead at most `prefetch` batches each.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
import torch

from cnnbench.errors import UsageError


@runtime_checkable
class BatchReader(Protocol):
    """Reads samples by position; picklable (it is sent to the worker processes, which read with it)."""

    sample_shape: tuple[int, ...]  # one stored sample (e.g. (3, 32, 32) uint8)

    def __len__(self) -> int: ...

    def read(self, positions: np.ndarray) -> torch.Tensor:
        """The stored samples at these positions, stacked: (len(positions), *sample_shape)."""
        ...


Transform = Callable[[torch.Tensor], torch.Tensor]  # a stored batch on the device -> model inputs


def _as_is(batch: torch.Tensor) -> torch.Tensor:
    return batch


class _Batches(torch.utils.data.Dataset):
    """What each worker process runs: one index batch in, one stored batch out."""

    def __init__(self, reader: BatchReader, positions: np.ndarray) -> None:
        self.reader, self.positions = reader, positions

    def __getitem__(self, idx: np.ndarray) -> torch.Tensor | UsageError:
        try:
            return self.reader.read(self.positions[idx])
        except UsageError as e:  # handed back as it is: torch would re-raise it with the worker's traceback
            return e

    def __len__(self) -> int:  # not used: the sampler gives the batches
        return 0


@dataclass(frozen=True)
class StreamedInputs:
    """The inputs of a split, read from a reader batch by batch instead of held in memory.

    positions: which of the reader's samples, in the split's order (a subset keeps its own). workers: decoding
    processes (0: in this process); prefetch: batches each worker reads ahead (the bounded queue holds at most
    workers * prefetch batches)."""

    reader: BatchReader
    positions: np.ndarray
    transform: Transform = _as_is
    device: torch.device = torch.device("cpu")
    workers: int = 0
    prefetch: int = 2
    input_shape: tuple[int, ...] | None = None  # one model input, when the transform changes the stored shape

    def __len__(self) -> int:
        return len(self.positions)

    @property
    def shape(self) -> tuple[int, ...]:
        return (len(self), *(self.input_shape or self.reader.sample_shape))

    @property
    def stored_bytes(self) -> int:
        """What the samples would take in memory in their stored form."""
        return len(self) * int(np.prod(self.reader.sample_shape))

    def to(self, device: torch.device) -> StreamedInputs:
        return dataclasses.replace(self, device=torch.device(device))

    def subset(self, idx: np.ndarray | torch.Tensor) -> StreamedInputs:
        """The samples at these indices of this split (a view: nothing is read)."""
        idx_np = np.asarray(idx.cpu() if isinstance(idx, torch.Tensor) else idx, dtype=np.int64)
        return dataclasses.replace(self, positions=self.positions[idx_np])

    def __getitem__(self, key: slice | np.ndarray | torch.Tensor) -> torch.Tensor:
        """The model inputs of some samples, read now in this process (a tensor's indexing, for a few samples)."""
        idx = np.arange(len(self))[key] if isinstance(key, slice) else np.asarray(
            key.cpu() if isinstance(key, torch.Tensor) else key, dtype=np.int64)  # fmt: skip
        return self._ready(self.reader.read(self.positions[idx]))

    def _ready(self, stored: torch.Tensor) -> torch.Tensor:
        return self.transform(stored.to(self.device, non_blocking=True))

    def batches(self, index_batches: Sequence[torch.Tensor | np.ndarray]) -> Iterator[torch.Tensor]:
        """The model inputs of each index batch, in order, read ahead by the workers."""
        index_batches = [np.asarray(b.cpu() if isinstance(b, torch.Tensor) else b, dtype=np.int64)
                         for b in index_batches]  # fmt: skip
        if self.workers == 0:
            for idx in index_batches:
                yield self._ready(self.reader.read(self.positions[idx]))
            return
        loader = torch.utils.data.DataLoader(
            _Batches(self.reader, self.positions),
            batch_size=None,  # the sampler yields whole index batches
            sampler=index_batches,
            num_workers=min(self.workers, max(1, len(index_batches))),
            prefetch_factor=self.prefetch,
            pin_memory=self.device.type == "cuda",
            # its own generator: seeding the workers must not draw from the global one (dropout masks, ...),
            # or a streamed run would train differently from the same run in memory
            generator=torch.Generator().manual_seed(0),
        )
        it = iter(loader)
        try:
            for stored in it:
                if isinstance(stored, UsageError):
                    raise stored
                yield self._ready(stored)
        finally:
            del it  # shuts the workers down when the consumer stops early (a budget)


def feed(x: torch.Tensor | StreamedInputs, index_batches: Sequence[torch.Tensor]) -> Iterator[torch.Tensor]:
    """The inputs of each index batch, in order, from a tensor or a stream: the one way the loops read data."""
    if isinstance(x, StreamedInputs):
        yield from x.batches(index_batches)
    else:
        for idx in index_batches:
            yield x[idx]


def in_batches(x: torch.Tensor | StreamedInputs, batch_size: int) -> Iterator[torch.Tensor]:
    """All of x, in order, batch by batch."""
    if isinstance(x, StreamedInputs):
        yield from x.batches([np.arange(s, min(s + batch_size, len(x))) for s in range(0, len(x), batch_size)])
    else:
        for start in range(0, len(x), batch_size):
            yield x[start : start + batch_size]
