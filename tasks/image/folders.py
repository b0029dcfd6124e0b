"""Image data sets in the ImageFolder layout (split/class/file), from a folder or a tar archive,
and the CIFAR-10 python pickle release (read by cifar_pickle)."""

from __future__ import annotations

import io
import tarfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from cnnbench.errors import UsageError, reason
from cnnbench.spec import Splits, TensorData
from cnnbench_tasks.image import cifar_pickle

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}
TEST_SPLIT_NAMES = ("test", "val")


def _decode(data: bytes, where: str, size: tuple[int, int]) -> np.ndarray:
    try:
        img = Image.open(io.BytesIO(data)).convert("RGB")
    except UnidentifiedImageError:  # its message names the BytesIO, not the file
        raise UsageError(f"{where}: not a readable image (not an image format PIL knows, or corrupt)") from None
    except OSError as e:
        raise UsageError(f"{where}: not a readable image ({reason(e)})") from None
    if img.size != (size[1], size[0]):
        # ImageNet-style evaluation transform: shorter side to 256/224 of the target, centre crop
        scale = max(size) * 256 / 224 / min(img.size)
        img = img.resize((max(size[1], round(img.width * scale)), max(size[0], round(img.height * scale))))
        left, top = (img.width - size[1]) // 2, (img.height - size[0]) // 2
        img = img.crop((left, top, left + size[1], top + size[0]))
    return np.asarray(img, dtype=np.uint8)


def _entries_dir(root: Path) -> Iterator[tuple[str, str, str, bytes]]:
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).parts
        if len(rel) == 3 and path.suffix.lower() in IMAGE_SUFFIXES and path.is_file():
            yield rel[0], rel[1], str(path), path.read_bytes()


def _entries_tar(archive: Path) -> Iterator[tuple[str, str, str, bytes]]:
    try:
        with tarfile.open(archive) as tar:
            for m in tar:
                parts = Path(m.name).parts
                if parts and parts[0] == ".":
                    parts = parts[1:]
                if m.isfile() and len(parts) == 3 and Path(parts[2]).suffix.lower() in IMAGE_SUFFIXES:
                    f = tar.extractfile(m)
                    assert f is not None
                    yield parts[0], parts[1], f"{archive}:{m.name}", f.read()
    except (tarfile.TarError, EOFError, OSError) as e:
        raise UsageError(f"{archive}: not a readable tar archive ({reason(e)})") from None


def load_imagefolder(source: Path, size: tuple[int, int]) -> Splits:
    """train/<class>/* and test/<class>/* (or val/) from a folder or a .tar(.gz) of one."""
    if not source.exists():
        raise UsageError(f"{source}: no such file or directory")
    entries = _entries_tar(source) if source.is_file() else _entries_dir(source)
    images: dict[str, list[np.ndarray]] = {}
    labels: dict[str, list[str]] = {}
    for split, cls, where, data in entries:
        images.setdefault(split, []).append(_decode(data, where, size))
        labels.setdefault(split, []).append(cls)
    test_name = next((n for n in TEST_SPLIT_NAMES if n in images), None)
    if "train" not in images or test_name is None:
        raise UsageError(
            f"{source}: expected train/<class>/<image> and test/<class>/<image> (or val/); "
            f"found splits {sorted(images) or 'none'}"
        )
    classes = sorted(set(labels["train"]))
    unknown = sorted(set(labels[test_name]) - set(classes))
    if unknown:
        raise UsageError(f"{source}: {test_name}/ has classes not in train/: {', '.join(unknown)}")
    return _normalised(
        {s: np.stack(images[s]) for s in ("train", test_name)},
        {s: np.array([classes.index(c) for c in labels[s]]) for s in ("train", test_name)},
        test_name,
        len(classes),
        f"imagefolder:{source}",
        {"classes": classes},
    )


def _normalised(
    images: dict[str, np.ndarray],
    labels: dict[str, np.ndarray],
    test_name: str,
    num_classes: int,
    source: str,
    notes: dict,
) -> Splits:
    """NCHW float tensors normalised per channel with the training split's mean and std."""
    train = torch.from_numpy(images["train"]).permute(0, 3, 1, 2).float().div_(255)
    test = torch.from_numpy(images[test_name]).permute(0, 3, 1, 2).float().div_(255)
    mean = train.mean(dim=(0, 2, 3), keepdim=True)
    std = train.std(dim=(0, 2, 3), keepdim=True).clamp_min(1e-6)
    return Splits(
        train=TensorData((train - mean) / std, torch.from_numpy(labels["train"]).long(), num_classes, source),
        test=TensorData((test - mean) / std, torch.from_numpy(labels[test_name]).long(), num_classes, source),
        notes=notes,
    )


def load_cifar_pickle(folder: Path) -> Splits:
    """The official python release: data_batch_1..5 and test_batch (3072 bytes per image, CHW)."""
    images, labels = cifar_pickle.read_release(folder)
    return _normalised(images, labels, "test", cifar_pickle.NUM_CLASSES, f"cifar-pickle:{folder}", {})


def load_cifar10(data_dir: Path) -> Splits:
    """CIFAR-10 from a folder holding the JPEG tar, the ImageFolder layout or the pickle release."""
    if not data_dir.exists():
        raise UsageError(f"{data_dir}: data directory does not exist")
    if data_dir.is_file():
        return load_imagefolder(data_dir, (32, 32))
    for candidate in (data_dir, data_dir / "cifar-10-batches-py"):
        if (candidate / "data_batch_1").is_file():
            return load_cifar_pickle(candidate)
    tars = sorted(data_dir.glob("*.tar.gz")) + sorted(data_dir.glob("*.tar"))
    if (data_dir / "train").is_dir():
        return load_imagefolder(data_dir, (32, 32))
    if tars:
        return load_imagefolder(tars[0], (32, 32))
    raise UsageError(
        f"{data_dir}: no CIFAR-10 found (expected train/ and test/ folders, a .tar.gz of them, "
        "or the python release's data_batch_1..5 and test_batch)"
    )
