"""The data cache: ~/.cache/cnnbench or $CNNBENCH_DATA, checksums and atomic copies."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

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
