"""The CIFAR-10 python batches: a restricted unpickler (no code runs from a data file), checked contents,
and a fuzz test: any bytes give a batch or one UsageError naming the file."""

from __future__ import annotations

import hashlib
import os
import pickle
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cnnbench.errors import UsageError
from cnnbench_tasks.image import cifar_pickle, folders
from cnnbench_tasks.image.task import ImageTask


def _short(s: bytes) -> bytes:
    return b"U" + bytes([len(s)]) + s  # SHORT_BINSTRING: a Python 2 str


def python2_batch(data: np.ndarray, labels: list[int]) -> bytes:
    """A batch byte for byte as Python 2's cPickle (protocol 2) wrote the official files: str opcodes and
    numpy.core.multiarray._reconstruct, not Python 3's _codecs.encode or numpy._core."""
    dtype = b"cnumpy\ndtype\n" + _short(b"u1") + b"K\x00K\x01\x87R" + b"(K\x03" + _short(b"|")
    dtype += b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb"
    rows, cols = data.shape
    array = b"cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85" + _short(b"b") + b"\x87R"
    array += b"(K\x01" + b"M" + struct.pack("<H", rows) + b"M" + struct.pack("<H", cols) + b"\x86" + dtype
    array += b"\x89T" + struct.pack("<I", data.size) + data.tobytes() + b"tb"
    label_list = b"](" + b"".join(b"K" + bytes([v]) for v in labels) + b"e"
    return b"\x80\x02}(" + _short(b"data") + array + _short(b"labels") + label_list + b"u."


def write_release(folder: Path, batch: bytes) -> Path:
    folder.mkdir(exist_ok=True)
    for name in cifar_pickle.TRAIN_BATCHES + cifar_pickle.TEST_BATCHES:
        (folder / name).write_bytes(batch)
    return folder


def tiny_batch(overrides: dict[bytes, Any] | None = None) -> dict[bytes, Any]:
    """A batch of three images with every entry of an official one; an override of None removes the entry."""
    rng = np.random.default_rng(0)
    batch: dict[bytes, Any] = {
        b"batch_label": b"training batch 1 of 5",
        b"labels": [0, 5, 9],
        b"data": rng.integers(0, 255, (3, 3072), dtype=np.uint8),
        b"filenames": [b"a.png", b"b.png", b"c.png"],
    }
    return {k: v for k, v in (batch | (overrides or {})).items() if v is not None}


def test_python2_layout_loads(tmp_path: Path) -> None:
    data = np.arange(2 * 3072, dtype=np.uint32).astype(np.uint8).reshape(2, 3072)
    raw = python2_batch(data, [3, 7])
    np.testing.assert_array_equal(pickle.loads(raw, encoding="bytes")[b"data"], data)  # the fixture is a real pickle
    (tmp_path / "b").write_bytes(raw)
    images, labels = cifar_pickle.read_batch(tmp_path / "b")
    assert images.shape == (2, 32, 32, 3)
    assert labels.tolist() == [3, 7]
    np.testing.assert_array_equal(images[0, :, :, 0].ravel(), data[0, :1024])  # CHW -> HWC


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_python3_pickles_load(tmp_path: Path, protocol: int) -> None:
    write_release(tmp_path / "release", pickle.dumps(tiny_batch(), protocol=protocol))
    splits = folders.load_cifar10(tmp_path / "release")
    assert splits.train.x.shape == (15, 3, 32, 32)
    assert splits.test.y.tolist() == [0, 5, 9]


class _Payload:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return os.system, (f"touch {self.marker}",)


class _Writer:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return Path.write_text, (self.marker, "ran")


@pytest.mark.parametrize("payload", [_Payload, _Writer])
def test_code_in_a_batch_never_runs(tmp_path: Path, payload: type) -> None:
    marker = tmp_path / "marker"
    write_release(tmp_path / "release", pickle.dumps(tiny_batch({b"filenames": payload(marker)})))
    with pytest.raises(UsageError, match=r"data_batch_1: not a readable CIFAR-10 batch \(it names .*refused"):
        folders.load_cifar10(tmp_path / "release")
    assert not marker.exists()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({b"data": None}, r"lacks the 'data' entry"),
        ({b"labels": None, b"data": None}, r"lacks the 'data' and 'labels' entry"),
        ({b"data": [1, 2, 3]}, r"'data' is a list, expected a uint8 array"),
        ({b"data": np.zeros((3, 3072), np.float32)}, r"'data' is a float32 array, expected a uint8 array"),
        ({b"data": np.zeros((3, 3000), np.uint8)}, r"'data' holds 9000 values, not a whole number of 3072"),
        ({b"labels": [0, 10, 1]}, r"label 10 outside 0..9"),
        ({b"labels": [0, -1, 1]}, r"label -1 outside 0..9"),
        ({b"labels": [0, 1]}, r"2 labels for 3 images"),
        ({b"labels": [0, "x", 1]}, r"'labels' holds a value that is not an integer"),
        ({b"labels": b"abc"}, r"'labels' is a bytes, expected a list of integers"),
    ],
)
def test_wrong_contents_are_one_line(tmp_path: Path, overrides: dict, message: str) -> None:
    write_release(tmp_path / "release", pickle.dumps(tiny_batch(overrides)))
    with pytest.raises(UsageError, match=r"data_batch_1: " + message) as e:
        folders.load_cifar10(tmp_path / "release")
    assert "\n" not in str(e.value)


def test_not_a_dict(tmp_path: Path) -> None:
    write_release(tmp_path / "release", pickle.dumps([1, 2, 3]))
    with pytest.raises(UsageError, match=r"data_batch_1: holds a list, expected the dict"):
        folders.load_cifar10(tmp_path / "release")


def _valid(batch: tuple[np.ndarray, np.ndarray]) -> None:
    images, labels = batch
    assert images.dtype == np.uint8 and images.shape[1:] == (32, 32, 3) and len(labels) == len(images)


def test_fuzz_any_bytes_give_a_batch_or_one_line(fuzz_file: Callable[..., None]) -> None:
    one_image = {b"data": np.zeros((1, 3072), np.uint8), b"labels": [1], b"filenames": None}
    for protocol in (2, 5):
        good = pickle.dumps(tiny_batch(one_image), protocol=protocol)
        fuzz_file("data_batch_1", good, cifar_pickle.read_batch, _valid)


TINY_FILE = b"tiny batch"
TINY_MD5 = hashlib.md5(TINY_FILE).hexdigest()


class FakeDownload:
    """torchvision's CIFAR10 offline: writes the release's files (a tiny batch each) or, told to fail, only the
    first batch before the connection drops; its published checksums are those of the tiny files."""

    base_folder = "cifar-10-batches-py"
    train_list = [[f"data_batch_{i}", TINY_MD5] for i in range(1, 6)]
    test_list = [["test_batch", TINY_MD5]]
    meta = {"filename": "batches.meta", "key": "label_names", "md5": TINY_MD5}
    fail = False
    calls = 0

    def __init__(self, root: str, download: bool) -> None:
        type(self).calls += 1
        folder = Path(root) / self.base_folder
        folder.mkdir(parents=True, exist_ok=True)
        for name, _ in [*self.train_list, *self.test_list, [self.meta["filename"], ""]]:
            (folder / name).write_bytes(TINY_FILE)
            if self.fail:
                raise RuntimeError("connection reset by peer")


@pytest.fixture
def fake_download(monkeypatch: pytest.MonkeyPatch) -> type[FakeDownload]:
    import torchvision.datasets

    monkeypatch.setattr(torchvision.datasets, "CIFAR10", FakeDownload)
    monkeypatch.setattr(FakeDownload, "calls", 0)
    return FakeDownload


def test_a_partial_cifar_download_is_fetched_again_never_read(
    tmp_path: Path, fake_download: type[FakeDownload], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    cifar_cache = ImageTask._cifar_cache
    monkeypatch.setattr(fake_download, "fail", True)
    with pytest.raises(UsageError, match="CIFAR-10 is not in .* could not be downloaded \\(connection reset by peer"):
        cifar_cache(tmp_path)
    assert (tmp_path / "cifar10" / "cifar-10-batches-py" / "data_batch_1").is_file()  # what the old check took
    monkeypatch.setattr(fake_download, "fail", False)
    assert cifar_cache(tmp_path) == tmp_path / "cifar10" and fake_download.calls == 2
    assert "cached CIFAR-10 unusable (data_batch_2, data_batch_3" in capsys.readouterr().err
    assert cifar_cache(tmp_path) == tmp_path / "cifar10" and fake_download.calls == 2  # sealed: read as it is
    (tmp_path / "cifar10" / "cifar-10-batches-py" / "test_batch").write_bytes(b"tiny")  # truncated
    assert cifar_cache(tmp_path) == tmp_path / "cifar10" and fake_download.calls == 3


def test_a_cifar_cache_from_before_markers_is_checked_against_the_published_checksums(
    tmp_path: Path, fake_download: type[FakeDownload]
) -> None:
    batches = tmp_path / "cifar10" / "cifar-10-batches-py"
    batches.mkdir(parents=True)
    names = [n for n, _ in [*fake_download.train_list, *fake_download.test_list]] + ["batches.meta"]
    for name in names:
        (batches / name).write_bytes(TINY_FILE)
    ImageTask._cifar_cache(tmp_path)
    assert fake_download.calls == 0 and (batches / "data_batch_1.complete").is_file()
    (batches / "data_batch_1.complete").unlink()
    (batches / "data_batch_4").write_bytes(b"other batch")  # same size, other bytes
    ImageTask._cifar_cache(tmp_path)
    assert fake_download.calls == 1
