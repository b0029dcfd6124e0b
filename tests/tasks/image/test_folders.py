import io
import pickle
import tarfile
from pathlib import Path

import numpy as np
import pytest

from cnnbench.errors import UsageError
from cnnbench_tasks.image import folders


@pytest.fixture
def cifar_jpeg(tmp_path: Path, write_jpegs) -> Path:
    root = tmp_path / "jpeg"
    write_jpegs(root, {"train": 4, "test": 2})
    return root


def test_imagefolder_dir(cifar_jpeg: Path) -> None:
    splits = folders.load_cifar10(cifar_jpeg)
    assert splits.train.x.shape == (12, 3, 32, 32)
    assert splits.test.x.shape == (6, 3, 32, 32)
    assert splits.notes["classes"] == ["airplane", "cat", "ship"]
    assert abs(float(splits.train.x.mean())) < 1e-4  # normalised with the training split's statistics


def test_tar_gz_like_the_shared_archive(cifar_jpeg: Path, tmp_path: Path) -> None:
    archive_dir = tmp_path / "cifar10"
    archive_dir.mkdir()
    with tarfile.open(archive_dir / "cifar10-jpeg.tar.gz", "w:gz") as tar:
        tar.add(cifar_jpeg / "train", arcname="train")
        tar.add(cifar_jpeg / "test", arcname="test")
    from_tar = folders.load_cifar10(archive_dir)
    from_dir = folders.load_cifar10(cifar_jpeg)
    assert from_tar.train.x.shape == from_dir.train.x.shape
    assert sorted(from_tar.train.y.tolist()) == sorted(from_dir.train.y.tolist())


def test_pickle_release(tmp_path: Path) -> None:
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {b"data": rng.integers(0, 255, (3, 3072), dtype=np.uint8), b"labels": [0, 5, 9]}
        (folder / name).write_bytes(pickle.dumps(batch))
    splits = folders.load_cifar10(tmp_path)
    assert splits.train.x.shape == (15, 3, 32, 32)
    assert splits.test.y.tolist() == [0, 5, 9]


def test_corrupt_image_is_named(cifar_jpeg: Path) -> None:
    bad = cifar_jpeg / "train" / "cat" / "0001.jpg"
    bad.write_bytes(b"garbage")
    with pytest.raises(UsageError, match=r"cat/0001.jpg: not a readable image \(not an image format") as e:
        folders.load_cifar10(cifar_jpeg)
    assert "BytesIO" not in str(e.value)


def test_missing_test_split(tmp_path: Path, write_jpegs) -> None:
    write_jpegs(tmp_path / "only", {"train": 1})
    with pytest.raises(UsageError, match=r"expected train/<class>/<image> and test/"):
        folders.load_imagefolder(tmp_path / "only", (32, 32))


def test_imagefolder_resizes(tmp_path: Path, write_jpegs) -> None:
    write_jpegs(tmp_path / "big", {"train": 1, "val": 1}, size=50)
    splits = folders.load_imagefolder(tmp_path / "big", (24, 24))
    assert splits.train.x.shape == (3, 3, 24, 24)
    assert splits.test.x.shape == (3, 3, 24, 24)


def test_truncated_pickle(tmp_path: Path) -> None:
    (tmp_path / "data_batch_1").write_bytes(io.BytesIO(b"\x80\x04trunc").getvalue())
    with pytest.raises(UsageError, match="data_batch_1: not a readable CIFAR-10 batch"):
        folders.load_cifar10(tmp_path)
