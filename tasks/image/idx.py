"""Reading the IDX format of MNIST (LeCun et al.): big-endian header, magic, dims, then raw data."""

from __future__ import annotations

import gzip
import math
import struct
import zlib
from pathlib import Path

import numpy as np

from cnnbench.errors import UsageError, reason

MAX_BYTES = 1 << 30  # MNIST's largest file is 47 MB
_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def _contents(path: Path) -> bytes:
    """The file's bytes, decompressed when it ends in .gz; at most MAX_BYTES (a decompression bomb or a
    file far larger than MNIST's is refused before it fills the memory)."""
    try:
        with gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb") as f:
            raw = f.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise UsageError(f"{path}: file not found") from None
    except OSError as e:  # gzip.BadGzipFile is an OSError
        raise UsageError(f"{path}: cannot read ({e.strerror or reason(e)})") from None
    except (EOFError, zlib.error) as e:
        raise UsageError(f"{path}: corrupt gzip data ({reason(e)})") from None
    if len(raw) > MAX_BYTES:
        raise UsageError(f"{path}: more than {MAX_BYTES:,} bytes{' when decompressed' * (path.suffix == '.gz')}")
    return raw


def read_idx(path: Path, expect_ndim: int | None = None) -> np.ndarray:
    """Parse an IDX file (optionally gzip-compressed); every inconsistency names the file."""
    path = Path(path)
    raw = _contents(path)
    if len(raw) < 4:
        raise UsageError(f"{path}: too short for an IDX header ({len(raw)} bytes)")
    zero, dtype_code, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype_code not in _DTYPES or ndim == 0:
        raise UsageError(f"{path}: bad IDX magic number 0x{raw[:4].hex()} (not an IDX file?)")
    if expect_ndim is not None and ndim != expect_ndim:
        raise UsageError(f"{path}: expected {expect_ndim} dimensions, the header says {ndim}")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise UsageError(f"{path}: truncated header")
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    dtype = np.dtype(_DTYPES[dtype_code])
    expected = header + math.prod(dims) * dtype.itemsize
    if len(raw) != expected:
        raise UsageError(
            f"{path}: size {len(raw)} bytes does not match its header {dims} "
            f"({expected} bytes expected; truncated or corrupt)"
        )
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(dims)


def write_idx(path: Path, array: np.ndarray) -> None:
    """Write a uint8 array as IDX (used by tests to make fixtures in the real format)."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    data = header + array.tobytes()
    Path(path).write_bytes(gzip.compress(data) if str(path).endswith(".gz") else data)
