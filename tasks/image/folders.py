"""Image data sets in the ImageFolder layout (split/class/file), from a folder or a tar archive, and the
CIFAR-10 python pickle release (read by cifar_pickle).

A folder is indexed in place; an archive (.tar, .tar.gz) is read once into the cache as a pack of its encoded
images with an index (offsets, names, classes), which gives cheap random access afterwards. Small data sets
are then decoded into memory; one whose float tensors would exceed the memory cap (option memory_cap_mb) is
streamed: decoded batch by batch in worker processes (cnnbench.data.stream), kept uint8 until the batch is on
the device and normalised. Both paths decode with the same reader and normalise with the same statistics
(exact integer sums over the training split), so they give the same samples; the record's dataset notes say
which path ran (data_path)."""

from __future__ import annotations

import hashlib
import json
import os
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from cnnbench.data.cache import CacheEntry, cache_root, cached
from cnnbench.data.stream import StreamedInputs
from cnnbench.errors import UsageError, reason
from cnnbench.io import atomic_path, atomic_write_text
from cnnbench.spec import Splits, TensorData
from cnnbench_tasks.image import cifar_pickle
from cnnbench_tasks.image.decode import ImageReader

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}
TEST_SPLIT_NAMES = ("test", "val")
INDEX_VERSION = 1
STREAM_BATCH = 256  # images per read of the in-memory load and of the statistics pass


@dataclass(frozen=True)
class Loading:
    """How to load an image folder: the memory cap above which it is streamed, and the decoding processes."""

    memory_cap_bytes: int
    workers: int = 0
    cache_dir: Path | None = None

    @classmethod
    def from_options(cls, options: dict[str, str], cache_dir: Path | None = None) -> Loading:
        cap = options.get("memory_cap_mb", "auto")
        workers = options.get("decode_workers", "auto")
        return cls(
            available_memory() // 2 if cap == "auto" else int(cap) * 2**20,
            min(4, max(1, (os.cpu_count() or 1) // 2)) if workers == "auto" else int(workers),
            cache_dir,
        )


def available_memory() -> int:
    """Bytes of memory available now (Linux: MemAvailable), else the physical memory."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


@dataclass(frozen=True)
class ImageIndex:
    """Every image of the train and test split: where it is (a file, or a span of the pack), its split and label."""

    source: Path
    names: np.ndarray  # str: the file, or archive:member, for messages
    is_test: np.ndarray  # bool
    labels: np.ndarray  # int64, index into classes
    classes: list[str]
    test_name: str
    key: str  # identifies the source's contents, for cached statistics
    pack: Path | None = None
    offsets: np.ndarray | None = None
    lengths: np.ndarray | None = None

    def reader(self, size: tuple[int, int]) -> ImageReader:
        return ImageReader(self.names, size, self.pack, self.offsets, self.lengths)


def _layout(source: Path, entries: list[tuple[str, str]]) -> tuple[np.ndarray, np.ndarray, list[str], str, np.ndarray]:
    """From (split, class) per image: which to keep (train and test), is_test, labels, classes, test split name."""
    splits = {s for s, _ in entries}
    test_name = next((n for n in TEST_SPLIT_NAMES if n in splits), None)
    if "train" not in splits or test_name is None:
        raise UsageError(
            f"{source}: expected train/<class>/<image> and test/<class>/<image> (or val/); "
            f"found splits {sorted(splits) or 'none'}"
        )
    classes = sorted({c for s, c in entries if s == "train"})
    unknown = sorted({c for s, c in entries if s == test_name} - set(classes))
    if unknown:
        raise UsageError(f"{source}: {test_name}/ has classes not in train/: {', '.join(unknown)}")
    keep = np.array([s in ("train", test_name) for s, _ in entries], dtype=bool)
    number = {c: i for i, c in enumerate(classes)}
    kept = [e for e, k in zip(entries, keep, strict=True) if k]
    labels = np.array([number[c] for _, c in kept], dtype=np.int64)
    is_test = np.array([s == test_name for s, _ in kept], dtype=bool)
    return keep, is_test, classes, test_name, labels


def index_folder(root: Path) -> ImageIndex:
    files = [p for p in sorted(root.rglob("*")) if len(p.relative_to(root).parts) == 3
             and p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()]  # fmt: skip
    entries = [(p.relative_to(root).parts[0], p.relative_to(root).parts[1]) for p in files]
    keep, is_test, classes, test_name, labels = _layout(root, entries)
    kept = [p for p, k in zip(files, keep, strict=True) if k]
    listing = hashlib.sha256()
    for p in kept:
        st = p.stat()
        listing.update(f"{p}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    names = np.array([str(p) for p in kept], dtype=str)
    return ImageIndex(root, names, is_test, labels, classes, test_name, listing.hexdigest()[:20])


def _archive_key(archive: Path) -> str:
    st = archive.stat()
    return hashlib.sha256(f"{archive.resolve()}\0{st.st_size}\0{st.st_mtime_ns}".encode()).hexdigest()[:20]


def _build_pack(archive: Path, pack: Path, index: Path) -> None:
    """Read the archive once, in order: its train and test images end to end into `pack`, their index beside it."""
    entries, names, offsets, lengths = [], [], [], []
    with atomic_path(pack) as tmp, open(tmp, "wb") as out:
        try:
            with tarfile.open(archive) as tar:
                for m in tar:
                    parts = Path(m.name).parts
                    if parts and parts[0] == ".":
                        parts = parts[1:]
                    if m.isfile() and len(parts) == 3 and Path(parts[2]).suffix.lower() in IMAGE_SUFFIXES:
                        f = tar.extractfile(m)
                        assert f is not None
                        data = f.read()
                        entries.append((parts[0], parts[1]))
                        names.append(f"{archive}:{m.name}")
                        offsets.append(out.tell())
                        lengths.append(len(data))
                        out.write(data)
        except (tarfile.TarError, EOFError, OSError, ValueError, zlib.error) as e:  # zlib: a corrupt .tar.gz
            raise UsageError(f"{archive}: not a readable tar archive ({reason(e)})") from None
    keep, is_test, classes, test_name, labels = _layout(archive, entries)
    with atomic_path(index, suffix=".npz") as tmp:
        np.savez(tmp, names=np.array(names, dtype=str)[keep], is_test=is_test, labels=labels,
                 offsets=np.array(offsets, dtype=np.int64)[keep], lengths=np.array(lengths, dtype=np.int64)[keep],
                 classes=np.array(classes, dtype=str), test_name=np.array(test_name),
                 version=np.array(INDEX_VERSION))  # fmt: skip


def index_archive(archive: Path, cache_dir: Path | None = None) -> ImageIndex:
    """The archive's index, from the cache (built on first use: one sequential read of the archive)."""
    key = _archive_key(archive)
    folder = (cache_dir or cache_root()) / "imagefolder" / key
    pack, index = folder / "images.pack", folder / "index.npz"

    def read() -> ImageIndex:
        with np.load(index, allow_pickle=False) as z:
            if int(z["version"]) != INDEX_VERSION:
                raise ValueError(f"index version {int(z['version'])}")
            if int(z["offsets"][-1] + z["lengths"][-1]) > pack.stat().st_size:
                raise ValueError("pack shorter than its index")
            return ImageIndex(archive, z["names"], z["is_test"], z["labels"], [str(c) for c in z["classes"]],
                              str(z["test_name"]), key, pack, z["offsets"], z["lengths"])  # fmt: skip

    def build() -> ImageIndex:
        _build_pack(archive, pack, index)
        return read()

    return cached(CacheEntry((pack, index)), read, build, f"image pack of {archive}")


def index_imagefolder(source: Path, cache_dir: Path | None = None) -> ImageIndex:
    if not source.exists():
        raise UsageError(f"{source}: no such file or directory")
    return index_archive(source, cache_dir) if source.is_file() else index_folder(source)


class Normalise:
    """uint8 NCHW -> float, per channel standardised with the training split's statistics (picklable)."""

    def __init__(self, mean: torch.Tensor, std: torch.Tensor) -> None:
        self.mean, self.std = mean.view(1, -1, 1, 1), std.view(1, -1, 1, 1)

    def __call__(self, batch: torch.Tensor) -> torch.Tensor:
        x = batch.float().div_(255)
        return (x - self.mean.to(x.device)) / self.std.to(x.device)


class ChannelSums:
    """Exact per-channel sums of uint8 images (int64: order-free), hence the same mean and std whatever
    the batching."""

    def __init__(self) -> None:
        self.n, self.s, self.ss = 0, torch.zeros(3, dtype=torch.int64), torch.zeros(3, dtype=torch.int64)

    def add(self, batch: torch.Tensor) -> None:
        b = batch.to(torch.int64)
        self.n += b.numel() // b.shape[1]
        self.s += b.sum(dim=(0, 2, 3))
        self.ss += (b * b).sum(dim=(0, 2, 3))

    def normalise(self) -> Normalise:
        s, ss = self.s.double() / 255, self.ss.double() / 255**2
        mean = s / self.n
        var = (ss - self.n * mean**2) / max(self.n - 1, 1)  # unbiased, as torch.std
        return Normalise(mean.float(), var.clamp_min(0).sqrt().float().clamp_min(1e-6))


def _statistics(index: ImageIndex, train: StreamedInputs, cache_dir: Path | None) -> Normalise:
    """The training split's channel statistics, from one streamed pass (cached by the source's contents)."""
    height, width = train.reader.sample_shape[1:]
    path = (cache_dir or cache_root()) / "imagefolder" / f"{index.key}-{height}x{width}.json"
    entry = CacheEntry((path,))

    def read() -> Normalise:
        d = json.loads(path.read_text())
        return Normalise(torch.tensor(d["mean"]), torch.tensor(d["std"]))

    def build() -> Normalise:
        sums = ChannelSums()
        for batch in train.batches(_chunks(len(train))):
            sums.add(batch)
        norm = sums.normalise()
        atomic_write_text(path, json.dumps({"mean": norm.mean.flatten().tolist(), "std": norm.std.flatten().tolist(),
                                            "images": len(train)}) + "\n")  # fmt: skip
        return norm

    return cached(entry, read, build, "image statistics")


def _chunks(n: int) -> list[np.ndarray]:
    return [np.arange(s, min(s + STREAM_BATCH, n)) for s in range(0, n, STREAM_BATCH)]


def memory_needed(n: int, size: tuple[int, int]) -> int:
    """Bytes the in-memory path holds for n images: uint8 while decoding, then the float tensors."""
    return n * 3 * size[0] * size[1] * (1 + 4)


def load_imagefolder(source: Path, size: tuple[int, int], loading: Loading | None = None) -> Splits:
    """train/<class>/* and test/<class>/* (or val/) from a folder or a .tar(.gz) of one: in memory, or streamed
    when its tensors would exceed the memory cap."""
    loading = loading or Loading(available_memory() // 2)
    index = index_imagefolder(source, loading.cache_dir)
    reader = index.reader(size)
    train_pos, test_pos = np.flatnonzero(~index.is_test), np.flatnonzero(index.is_test)
    stored = [StreamedInputs(reader, p, workers=loading.workers) for p in (train_pos, test_pos)]
    labels = [torch.from_numpy(index.labels[p]) for p in (train_pos, test_pos)]
    src = f"imagefolder:{source}"
    needed = memory_needed(len(index.names), size)
    notes = {"classes": index.classes, "memory_cap_mb": loading.memory_cap_bytes // 2**20,
             "decode_workers": loading.workers}  # fmt: skip
    if needed <= loading.memory_cap_bytes:
        images = [torch.cat(list(s.batches(_chunks(len(s))))) for s in stored]
        return _normalised(images[0], images[1], labels[0], labels[1], len(index.classes), src,
                           notes | {"data_path": "in-memory"})  # fmt: skip
    norm = _statistics(index, stored[0], loading.cache_dir)
    train, test = (TensorData(StreamedInputs(reader, p, norm, workers=loading.workers), y, len(index.classes), src)
                   for p, y in zip((train_pos, test_pos), labels, strict=True))  # fmt: skip
    return Splits(train, test, notes | {"data_path": "streamed", "memory_needed_mb": needed // 2**20})


def _normalised(train_u8: torch.Tensor, test_u8: torch.Tensor, train_y: torch.Tensor, test_y: torch.Tensor,
                num_classes: int, source: str, notes: dict) -> Splits:  # fmt: skip
    """NCHW float tensors normalised per channel with the training split's mean and std."""
    sums = ChannelSums()
    for start in range(0, len(train_u8), 4096):
        sums.add(train_u8[start : start + 4096])
    norm = sums.normalise()
    return Splits(
        train=TensorData(norm(train_u8), train_y.long(), num_classes, source),
        test=TensorData(norm(test_u8), test_y.long(), num_classes, source),
        notes=notes,
    )


def load_cifar_pickle(folder: Path) -> Splits:
    """The official python release: data_batch_1..5 and test_batch (3072 bytes per image, CHW)."""
    images, labels = cifar_pickle.read_release(folder)
    chw = {s: torch.from_numpy(images[s]).permute(0, 3, 1, 2) for s in ("train", "test")}
    return _normalised(chw["train"], chw["test"], torch.from_numpy(labels["train"]), torch.from_numpy(labels["test"]),
                       cifar_pickle.NUM_CLASSES, f"cifar-pickle:{folder}", {})  # fmt: skip


def load_cifar10(data_dir: Path, loading: Loading | None = None) -> Splits:
    """CIFAR-10 from a folder holding the JPEG tar, the ImageFolder layout or the pickle release."""
    if not data_dir.exists():
        raise UsageError(f"{data_dir}: data directory does not exist")
    if data_dir.is_file():
        return load_imagefolder(data_dir, (32, 32), loading)
    for candidate in (data_dir, data_dir / "cifar-10-batches-py"):
        if (candidate / "data_batch_1").is_file():
            return load_cifar_pickle(candidate)
    tars = sorted(data_dir.glob("*.tar.gz")) + sorted(data_dir.glob("*.tar"))
    if (data_dir / "train").is_dir():
        return load_imagefolder(data_dir, (32, 32), loading)
    if tars:
        return load_imagefolder(tars[0], (32, 32), loading)
    raise UsageError(
        f"{data_dir}: no CIFAR-10 found (expected train/ and test/ folders, a .tar.gz of them, "
        "or the python release's data_batch_1..5 and test_batch)"
    )
