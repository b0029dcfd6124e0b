"""Writing files so that readers see the old one, the complete new one, or none: never a partial one.

Text (records, tables), and matplotlib figures; checksums of cached data are in cnnbench.data.cache."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


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
