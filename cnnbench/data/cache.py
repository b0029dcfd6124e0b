"""The data cache: ~/.cache/cnnbench or $CNNBENCH_DATA, checksums and atomic unpacking."""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import tempfile
from pathlib import Path

from cnnbench.errors import UsageError

ENV_VAR = "CNNBENCH_DATA"


def cache_root() -> Path:
    """The cache folder (not created here): $CNNBENCH_DATA, else ~/.cache/cnnbench."""
    env = os.environ.get(ENV_VAR)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "cnnbench"


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def verify_sha256(path: Path, expected: str) -> None:
    actual = sha256_file(path)
    if actual != expected:
        raise UsageError(f"{path}: SHA-256 mismatch (expected {expected[:12]}..., got {actual[:12]}...)")


def atomic_unpack_tar(archive: Path, dest: Path) -> Path:
    """Unpack a tar archive into dest through a temporary sibling folder and a rename.

    An interrupted unpack leaves no dest; an existing dest is kept as it is.
    """
    if dest.exists():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=dest.parent, prefix=f".{dest.name}."))
    try:
        with tarfile.open(archive) as tar:
            # the "data" filter refuses absolute paths and links out of dest (Python >= 3.10.12)
            safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
            tar.extractall(tmp, **safe)
        os.replace(tmp, dest)
    except tarfile.TarError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        raise UsageError(f"{archive}: not a readable tar archive ({e})") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest


def atomic_copy(src: Path, dest: Path) -> Path:
    """Copy a file into place through a temporary file and a rename."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.")
    os.close(fd)
    try:
        shutil.copyfile(src, tmp)
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return dest
