"""Image folders streamed in batches against the same folders in memory: same samples, same training, the
path chosen by the memory cap, bad files named in one line, and the real CIFAR-10 JPEG archive."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from cnnbench.cli.main import main
from cnnbench.data.stream import StreamedInputs, in_batches
from cnnbench.errors import UsageError
from cnnbench.results.record import config_key, read_records
from cnnbench_tasks.image import folders
from cnnbench_tasks.image.folders import Loading

CIFAR_JPEG = Path("/work/shared/data/cifar10/cifar10-jpeg.tar.gz")
MB = 2**20


def tar_gz(root: Path, archive: Path) -> Path:
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(root / "test", arcname="test")  # test first, as in the shared archive
        tar.add(root / "train", arcname="train")
    return archive


@pytest.fixture
def jpeg_folder(tmp_path: Path, write_jpegs) -> Path:
    root = tmp_path / "jpeg"
    write_jpegs(root, {"train": 10, "test": 4})
    return root


@pytest.fixture(params=["folder", "tar.gz"])
def source(request: pytest.FixtureRequest, jpeg_folder: Path, tmp_path: Path) -> Path:
    return jpeg_folder if request.param == "folder" else tar_gz(jpeg_folder, tmp_path / "cifar10-jpeg.tar.gz")


def _all(x: torch.Tensor | StreamedInputs) -> torch.Tensor:
    return torch.cat(list(in_batches(x, 7)))


@pytest.mark.parametrize("workers", [0, 2])
def test_streamed_and_in_memory_give_the_same_samples(source: Path, workers: int) -> None:
    in_memory = folders.load_imagefolder(source, (32, 32), Loading(10**9, workers))
    streamed = folders.load_imagefolder(source, (32, 32), Loading(0, workers))
    assert in_memory.notes["data_path"] == "in-memory" and streamed.notes["data_path"] == "streamed"
    assert isinstance(streamed.train.x, StreamedInputs) and isinstance(in_memory.train.x, torch.Tensor)
    for a, b in ((in_memory.train, streamed.train), (in_memory.test, streamed.test)):
        assert torch.equal(a.y, b.y)
        assert torch.equal(a.x, _all(b.x))  # bitwise: same decoder, same statistics, same arithmetic
    assert streamed.train.x.shape == in_memory.train.x.shape == (30, 3, 32, 32)
    idx = torch.tensor([5, 0, 29])
    assert torch.equal(streamed.train.select(idx).x[:], in_memory.train.select(idx).x)


def test_folder_and_archive_decode_alike(jpeg_folder: Path, tmp_path: Path) -> None:
    from_dir = folders.load_imagefolder(jpeg_folder, (32, 32), Loading(10**9, 0))
    from_tar = folders.load_imagefolder(tar_gz(jpeg_folder, tmp_path / "a.tar.gz"), (32, 32), Loading(10**9, 0))
    order = [np.argsort(np.array(s.train.y) * 1000 + np.arange(30)) for s in (from_dir, from_tar)]
    assert torch.equal(from_dir.train.x[order[0]], from_tar.train.x[order[1]])


def test_a_set_larger_than_the_cap_is_streamed(tmp_path: Path, write_jpegs) -> None:
    root = tmp_path / "big"
    write_jpegs(root, {"train": 8, "test": 2}, size=64)
    needed = folders.memory_needed(30, (64, 64))  # 30 images of 64x64: 1.8 MB held in memory
    assert needed > MB
    splits = folders.load_imagefolder(root, (64, 64), Loading(MB, 1))
    assert splits.notes["data_path"] == "streamed" and splits.notes["memory_cap_mb"] == 1
    x = splits.train.x
    assert isinstance(x, StreamedInputs) and x.positions.nbytes + x.reader.names.nbytes < MB / 10  # only an index
    batches = list(x.batches([np.arange(i, i + 4) for i in range(0, 24, 4)]))
    assert all(b.shape == (4, 3, 64, 64) and b.dtype == torch.float32 for b in batches)
    assert folders.load_imagefolder(root, (64, 64), Loading(2 * MB, 1)).notes["data_path"] == "in-memory"


SMALL_CNN = """
from torch import nn


def small_cnn(ctx):
    return nn.Sequential(nn.Conv2d(ctx.input_shape[0], 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(4), nn.Flatten(),
                         nn.Dropout(0.2), nn.Linear(8 * (ctx.input_shape[1] // 4) ** 2, ctx.num_classes))
"""


def test_a_run_streamed_equals_the_run_in_memory(jpeg_folder: Path, tmp_path: Path, monkeypatch) -> None:
    """Same seed, same samples in the same seeded order: the same learning curve and accuracy, bit for bit."""
    data = tmp_path / "cifar"
    data.mkdir()
    tar_gz(jpeg_folder, data / "cifar10-jpeg.tar.gz")
    (tmp_path / "stream_models.py").write_text(SMALL_CNN)
    monkeypatch.syspath_prepend(str(tmp_path))
    results = {}
    for cap in ("0", "1000"):
        out = tmp_path / f"runs-{cap}"
        argv = ["run", "--task", "image", "--model", "stream_models:small_cnn", "--dataset", "cifar10", "--data-dir",
                str(data), "--quick", "--epochs", "3", "--batch-size", "8", "--no-timing", "--no-progress",
                "--option", f"memory_cap_mb={cap}", "--option", "decode_workers=1", "--out", str(out)]  # fmt: skip
        assert main(argv) == 0
        (record,) = [r for _, r in read_records(out)]
        results[record.dataset.notes["data_path"]] = record
    streamed, in_memory = results["streamed"], results["in-memory"]
    # how the images were read is in the data set's notes, not in the options: both are one configuration
    assert "memory_cap_mb" not in streamed.options and "decode_workers" not in streamed.options
    assert config_key(streamed) == config_key(in_memory)
    assert streamed.score == in_memory.score
    assert [p.score for p in streamed.training.learning_curve] == [p.score for p in in_memory.training.learning_curve]
    assert streamed.training.final_loss == in_memory.training.final_loss


def test_controls_refuse_streamed_images(source: Path) -> None:
    from cnnbench_tasks.image import controls

    splits = folders.load_imagefolder(source, (32, 32), Loading(0, 0))
    with pytest.raises(UsageError, match="need the images in memory"):
        controls.apply(splits, "pixels", 1)


def _corrupt_jpeg(path: Path) -> None:
    good = path.read_bytes()
    path.write_bytes(good[:3] + b"\x00" * 40 + good[200:260])  # a JPEG's magic, then garbage


@pytest.mark.parametrize("workers", [0, 2])
def test_a_bad_image_is_named_in_one_line(jpeg_folder: Path, tmp_path: Path, workers: int) -> None:
    _corrupt_jpeg(jpeg_folder / "train" / "cat" / "0003.jpg")
    for src in (jpeg_folder, tar_gz(jpeg_folder, tmp_path / f"bad{workers}.tar.gz")):
        with pytest.raises(UsageError, match=r"train/cat/0003.jpg: not a readable") as e:
            splits = folders.load_imagefolder(src, (32, 32), Loading(0, workers))
            _all(splits.train.x)
        assert "\n" not in str(e.value) and "Traceback" not in str(e.value)


def test_a_truncated_pack_in_the_cache_is_rebuilt(jpeg_folder: Path, tmp_path: Path, isolated_cache: Path) -> None:
    archive = tar_gz(jpeg_folder, tmp_path / "a.tar.gz")
    first = folders.index_archive(archive)
    assert first.pack is not None and first.pack.is_relative_to(isolated_cache)
    first.pack.write_bytes(first.pack.read_bytes()[:100])
    again = folders.index_archive(archive)
    assert again.pack is not None and again.pack.stat().st_size > 100
    assert torch.equal(again.reader((32, 32)).read(np.arange(3)), first.reader((32, 32)).read(np.arange(3)))


def _tar_bytes(jpeg_folder: Path, mode: str) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as tar:
        for path in sorted(p for p in jpeg_folder.rglob("*.jpg") if p.parent.name != "ship"):
            if int(path.stem) < 2:
                tar.add(path, arcname=str(path.relative_to(jpeg_folder)))
    return buf.getvalue()


@pytest.mark.parametrize("name,mode", [("images.tar", "w"), ("images.tar.gz", "w:gz")])
def test_fuzzed_archives_read_or_refuse_in_one_line(fuzz_file, jpeg_folder: Path, name: str, mode: str) -> None:
    def parse(path: Path) -> tuple[torch.Tensor, torch.Tensor]:
        splits = folders.load_imagefolder(path, (32, 32), Loading(0, 0))
        return _all(splits.train.x), _all(splits.test.x)

    def check(result: tuple[torch.Tensor, torch.Tensor]) -> None:
        assert all(x.shape[1:] == (3, 32, 32) and torch.isfinite(x).all() for x in result)

    fuzz_file(name, _tar_bytes(jpeg_folder, mode), parse, check)


@pytest.mark.skipif(not CIFAR_JPEG.is_file(), reason=f"{CIFAR_JPEG} absent")
def test_the_cifar10_jpeg_archive_streams() -> None:
    """The first batches of the real archive, read through its pack, decode as PIL decodes them."""
    index = folders.index_archive(CIFAR_JPEG)
    assert len(index.classes) == 10 and int((~index.is_test).sum()) == 50000 and int(index.is_test.sum()) == 10000
    train = StreamedInputs(index.reader((32, 32)), np.flatnonzero(~index.is_test), workers=2)
    order = torch.randperm(len(train), generator=torch.Generator().manual_seed(0))
    batches = [order[i * 128 : (i + 1) * 128] for i in range(4)]
    got = list(train.batches(batches))
    assert [b.shape for b in got] == [(128, 3, 32, 32)] * 4 and got[0].dtype == torch.uint8
    k = int(batches[2][5])
    name = str(index.names[train.positions[k]])
    with tarfile.open(CIFAR_JPEG) as tar:
        member = tar.extractfile(name.split(":", 1)[1])
        assert member is not None
        pil = np.asarray(Image.open(io.BytesIO(member.read())).convert("RGB"))
    assert np.array_equal(got[2][5].permute(1, 2, 0).numpy(), pil)
