"""Writing files so that readers see the old one, the complete new one, or none: never a partial one.

Text (records, tables), and matplotlib figures; checksums of cached data are in cnnbench.data.cache."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cnnbench.errors import UsageError


@contextmanager
def atomic_path(path: Path, suffix: str = ".tmp") -> Iterator[Path]:
    """A temporary path beside `path` to write to; on success it is synced, made world-readable
    (mkstemp creates 0600) and renamed onto `path`. On any exception it is removed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_text(path: Path, text: str) -> None:
    """Write text to path through a temporary file in the same folder and a rename.

    A crash or an exception mid-write leaves either the old file or none, never a partial one.
    """
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")

def check_writable_folder(folder: Path, flag: str) -> None:
    """A folder a command will write into, checked before any work: created when missing, probed with a file."""
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{flag} {folder}: exists and is not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".cnnbench-probe-"):
            pass
    except OSError as e:
        raise UsageError(f"{flag} {folder}: cannot write there ({e.strerror or e})") from None


def check_writable_file(path: Path, flag: str) -> None:
    """A file a command will write, checked before any work: not a folder, in an existing writable folder."""
    if path.is_dir():
        raise UsageError(f"{flag} {path}: is a folder; give a file name such as {path / 'model.pt'}")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise UsageError(f"{flag} {path}: the folder {parent} does not exist")
    try:
        with tempfile.NamedTemporaryFile(dir=parent, prefix=".cnnbench-probe-"):
            pass
    except OSError as e:
        raise UsageError(f"{flag} {path}: cannot write there ({e.strerror or e})") from None


def pyplot():
    """matplotlib.pyplot on the file-only Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path: Path, fmt: str = "png", dpi: int = 110) -> Path:
    """Save and close the figure; a failure leaves no partial file."""
    import matplotlib

    # no date and fixed element ids: the same records give byte-identical pictures (clean diffs)
    metadata = {"Date": None} if fmt in ("svg", "pdf") else {}
    try:
        with matplotlib.rc_context({"svg.hashsalt": "cnnbench"}), atomic_path(path, suffix=f".{fmt}") as tmp:
            fig.savefig(tmp, format=fmt, dpi=dpi, bbox_inches="tight", metadata=metadata)
    finally:
        pyplot().close(fig)
    return path
