"""The data cache: ~/.cache/cnnbench or $CNNBENCH_DATA, checksums and atomic copies."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

from cnnbench.io import atomic_path

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
    with atomic_path(dest) as tmp:
        shutil.copyfile(src, tmp)
    return dest
