import gzip
from pathlib import Path

import numpy as np
import pytest

from cnnbench.errors import UsageError
from cnnbench_tasks.image.idx import read_idx, write_idx


@pytest.mark.parametrize("name", ["a-idx3-ubyte", "a-idx3-ubyte.gz"])
def test_roundtrip(tmp_path: Path, name: str) -> None:
    arr = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    write_idx(tmp_path / name, arr)
    out = read_idx(tmp_path / name, expect_ndim=3)
    assert out.shape == (2, 3, 4)
    np.testing.assert_array_equal(out, arr)


def test_truncated_file_names_file(tmp_path: Path) -> None:
    p = tmp_path / "train-images-idx3-ubyte"
    write_idx(p, np.zeros((5, 28, 28), np.uint8))
    p.write_bytes(p.read_bytes()[:-10])
    with pytest.raises(UsageError, match=r"train-images-idx3-ubyte.*truncated or corrupt"):
        read_idx(p)


def test_bad_magic(tmp_path: Path) -> None:
    p = tmp_path / "x"
    p.write_bytes(b"\x12\x34\x08\x03" + b"\x00" * 20)
    with pytest.raises(UsageError, match=r"x: bad IDX magic"):
        read_idx(p)


def test_wrong_ndim(tmp_path: Path) -> None:
    p = tmp_path / "labels"
    write_idx(p, np.zeros(5, np.uint8))
    with pytest.raises(UsageError, match="expected 3 dimensions"):
        read_idx(p, expect_ndim=3)


def test_corrupt_gzip(tmp_path: Path) -> None:
    p = tmp_path / "t10k-images-idx3-ubyte.gz"
    p.write_bytes(b"not gzip at all")
    with pytest.raises(UsageError, match=r"t10k-images-idx3-ubyte.gz: cannot read"):
        read_idx(p)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="file not found"):
        read_idx(tmp_path / "nope")


def test_fuzz_idx_gives_an_array_or_one_line(tmp_path: Path, fuzz_file) -> None:
    write_idx(tmp_path / "good", np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4))
    good = (tmp_path / "good").read_bytes()
    fuzz_file("t10k-images-idx3-ubyte", good, lambda p: read_idx(p, expect_ndim=3), lambda a: a.shape[0] >= 0)
    fuzz_file("t10k-images-idx3-ubyte.gz", gzip.compress(good), read_idx)
