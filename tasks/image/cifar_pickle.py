"""The CIFAR-10 python release (data_batch_1..5, test_batch): pickles read with an unpickler that
builds only what the official batches hold, so no code in a data file ever runs.

An official batch is a dict of bytes keys: b'data' (uint8 array, 10000 x 3072, CHW), b'labels' (list of
int in 0..9), b'batch_label' (bytes) and b'filenames' (list of bytes). Dicts, lists, bytes, str and int
are pickle opcodes; the only globals it names are numpy's array reconstruction and dtype."""

from __future__ import annotations

import codecs
import io
import pickle
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from cnnbench.errors import UsageError, reason

IMAGE_VALUES = 3 * 32 * 32
NUM_CLASSES = 10
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCHES = ("test_batch",)
# an official batch is ~30 MB; anything far larger is not one, and is not read into memory
MAX_BATCH_BYTES = 1 << 30


def _numpy_globals() -> dict[tuple[str, str], Any]:
    """The numpy callables an array pickle names, under numpy 1.x's and 2.x's module names."""
    try:
        from numpy._core import multiarray, numeric
    except ImportError:  # numpy < 2
        from numpy.core import multiarray, numeric  # type: ignore[no-redef]
    allowed: dict[tuple[str, str], Any] = {("numpy", "ndarray"): np.ndarray, ("numpy", "dtype"): np.dtype}
    for package in ("numpy.core", "numpy._core"):
        allowed[(f"{package}.multiarray", "_reconstruct")] = multiarray._reconstruct
        allowed[(f"{package}.numeric", "_frombuffer")] = numeric._frombuffer  # protocol 5
    # Python 3 pickles bytes as _codecs.encode(str, 'latin1') under protocols 0-2
    allowed[("_codecs", "encode")] = codecs.encode
    return allowed


class BatchUnpickler(pickle.Unpickler):
    """An unpickler that refuses every global outside numpy array reconstruction."""

    allowed = _numpy_globals()

    def find_class(self, module: str, name: str) -> Any:
        found = self.allowed.get((module, name))
        if found is None:
            raise pickle.UnpicklingError(
                f"it names {module}.{name}, which a CIFAR-10 batch never holds (refused: loading it could run code)"
            )
        return found


def unpickle_batch(path: Path) -> Any:
    """The object in a CIFAR-10 batch file, built by BatchUnpickler; any failure is one line naming the file."""
    try:
        size = path.stat().st_size
        if size > MAX_BATCH_BYTES:
            raise UsageError(f"{path}: {size} bytes, far larger than a CIFAR-10 batch (about 30 MB)")
        raw = path.read_bytes()
    except OSError as e:
        raise UsageError(f"{path}: cannot read ({e.strerror or reason(e)})") from None
    try:
        with warnings.catch_warnings():  # numpy warns about odd dtype arguments in corrupt files
            warnings.simplefilter("ignore")
            return BatchUnpickler(io.BytesIO(raw), encoding="bytes").load()
    except EOFError:
        raise UsageError(f"{path}: not a readable CIFAR-10 batch (truncated)") from None
    except pickle.UnpicklingError as e:
        raise UsageError(f"{path}: not a readable CIFAR-10 batch ({reason(e)})") from None
    except Exception as e:  # noqa: BLE001 - numpy and pickle raise many types on corrupt bytes
        raise UsageError(f"{path}: not a readable CIFAR-10 batch ({type(e).__name__}: {reason(e)})") from None


def _images(path: Path, data: Any) -> np.ndarray:
    """b'data' checked: a uint8 array of whole 3072-value images, returned as N x 32 x 32 x 3."""
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8:
        kind = f"a {data.dtype} array" if isinstance(data, np.ndarray) else f"a {type(data).__name__}"
        raise UsageError(f"{path}: 'data' is {kind}, expected a uint8 array")
    if data.size == 0 or data.size % IMAGE_VALUES:
        raise UsageError(f"{path}: 'data' holds {data.size} values, not a whole number of {IMAGE_VALUES}-value images")
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)


def _labels(path: Path, labels: Any, rows: int) -> np.ndarray:
    """b'labels' checked: one integer in 0..9 per image."""
    if not isinstance(labels, (list, np.ndarray)):
        raise UsageError(f"{path}: 'labels' is a {type(labels).__name__}, expected a list of integers")
    if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in labels):
        raise UsageError(f"{path}: 'labels' holds a value that is not an integer")
    if len(labels) != rows:
        raise UsageError(f"{path}: {len(labels)} labels for {rows} images")
    out = np.asarray(labels, dtype=np.int64)
    bad = out[(out < 0) | (out >= NUM_CLASSES)]
    if bad.size:
        raise UsageError(f"{path}: label {bad[0]} outside 0..{NUM_CLASSES - 1}")
    return out


def read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Images (N x 32 x 32 x 3, uint8) and labels (N) of one batch file."""
    batch = unpickle_batch(path)
    if not isinstance(batch, dict):
        raise UsageError(f"{path}: holds a {type(batch).__name__}, expected the dict of a CIFAR-10 batch")
    missing = [key.decode() for key in (b"data", b"labels") if key not in batch]
    if missing:
        raise UsageError(f"{path}: lacks the {' and '.join(repr(k) for k in missing)} entry")
    images = _images(path, batch[b"data"])
    return images, _labels(path, batch[b"labels"], len(images))


def read_release(folder: Path) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Images and labels of the train (data_batch_1..5) and test (test_batch) splits."""
    images, labels = {}, {}
    for split, names in (("train", TRAIN_BATCHES), ("test", TEST_BATCHES)):
        parts = [read_batch(folder / name) for name in names]
        images[split] = np.concatenate([x for x, _ in parts])
        labels[split] = np.concatenate([y for _, y in parts])
    return images, labels
