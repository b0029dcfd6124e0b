from pathlib import Path

import numpy as np
import pytest

from cnnbench.errors import UsageError
from cnnbench_tasks.image import mnist
from cnnbench_tasks.image.idx import write_idx


def test_load_fixture(mnist_dir: Path, tmp_path: Path) -> None:
    splits = mnist.load(mnist_dir, tmp_path)
    assert splits.train.x.shape == (600, 1, 28, 28)
    assert splits.test.x.shape == (200, 1, 28, 28)
    assert splits.train.source == f"dir:{mnist_dir}"
    assert splits.train.y.dtype.is_floating_point is False
    assert 0 <= int(splits.train.y.min()) and int(splits.train.y.max()) <= 9


def test_missing_file_is_named(mnist_dir: Path, tmp_path: Path) -> None:
    (mnist_dir / "train-labels-idx1-ubyte").unlink()
    with pytest.raises(UsageError, match="missing MNIST file.*train-labels-idx1-ubyte"):
        mnist.load(mnist_dir, tmp_path)


def test_label_count_mismatch(mnist_dir: Path, tmp_path: Path) -> None:
    write_idx(mnist_dir / "train-labels-idx1-ubyte", np.zeros(599, np.uint8))
    with pytest.raises(UsageError, match="599 labels for 600 images"):
        mnist.load(mnist_dir, tmp_path)


def test_wrong_image_size(mnist_dir: Path, tmp_path: Path) -> None:
    write_idx(mnist_dir / "train-images-idx3-ubyte", np.zeros((600, 32, 32), np.uint8))
    with pytest.raises(UsageError, match="32x32, MNIST's are 28x28"):
        mnist.load(mnist_dir, tmp_path)


def test_sources_tried_in_order_and_cache_verified(
    mnist_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fetchers run in order; a fetched file whose checksum is wrong is refused, never cached."""
    calls = []

    def failing(tmp: Path) -> Path:
        calls.append("first")
        raise RuntimeError("offline")

    def wrong_checksum(tmp: Path) -> Path:
        calls.append("second")
        return mnist_dir  # fixture files do not match the official SHA-256

    monkeypatch.setattr(mnist, "FETCHERS", {"first": failing, "second": wrong_checksum})
    with pytest.raises(UsageError, match=r"first: offline; second: .*SHA-256 does not match"):
        mnist.locate(None, tmp_path / "cache")
    assert calls == ["first", "second"]
    assert not (tmp_path / "cache" / "mnist").exists() or not any((tmp_path / "cache" / "mnist").iterdir())


def test_good_fetch_lands_in_cache(mnist_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    for p in mnist_dir.iterdir():  # fetched files arrive uncompressed
        data = p.read_bytes()
        if p.suffix == ".gz":
            import gzip

            data = gzip.decompress(data)
        (plain / p.name.removesuffix(".gz")).write_bytes(data)
    sums = {p.name: mnist.sha256_file(p) for p in plain.iterdir()}
    monkeypatch.setattr(mnist, "SHA256", sums)
    monkeypatch.setattr(mnist, "FETCHERS", {"fake": lambda tmp: plain})
    files, source = mnist.locate(None, tmp_path / "cache")
    assert source == "fake"
    assert all(p.parent == tmp_path / "cache" / "mnist" for p in files.values())
    files2, source2 = mnist.locate(None, tmp_path / "cache")
    assert source2.startswith("cache:")
