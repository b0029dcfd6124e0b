"""Writing files so that readers see the old one, the complete new one, or none: never a partial one.

Text (records, tables), and matplotlib figures; checksums of cached data are in cnnbench.data.cache.
Output paths a command will write are checked here before it does any work (one line on a bad one)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from cnnbench.errors import UsageError

PROBE_PREFIX = ".cnnbench-probe-"
# every temporary file is named .cnnbench-tmp.<pid>.<final name>...: a run killed mid-write (SIGKILL,
# power loss) leaves one that a later run recognises and removes (cnnbench.data.cache)
TEMP_PREFIX = ".cnnbench-tmp."


def temporary_path(path: Path, suffix: str = ".tmp") -> Path:
    """A name beside `path` for this process to write before renaming onto `path`."""
    return path.with_name(f"{TEMP_PREFIX}{os.getpid()}.{path.name}{suffix}")


def _probe(folder: Path, what: str) -> None:
    """Create and remove a file in `folder`: the only sure test that a file can be written there."""
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=PROBE_PREFIX):
            pass
    except OSError as e:
        raise UsageError(f"{what}: cannot write there ({e.strerror or e})") from None


def check_writable_folder(folder: Path, what: str, inside: Sequence[str] = ()) -> None:
    """`folder` exists (it is created) as a folder where files can be written, and none of the sub-folders
    `inside` it that the command will create is taken by a file; `what` names it (e.g. "--out results")."""
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{what}: exists and is not a folder")
    for sub in inside:
        if (folder / sub).exists() and not (folder / sub).is_dir():
            raise UsageError(f"{what}: {sub} inside it exists and is not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UsageError(f"{what}: cannot create the folder ({e.strerror or e})") from None
    _probe(folder, what)


def check_writable_file(path: Path, what: str, example: str) -> None:
    """`path` can be written as a file: not a folder, in an existing folder where files can be written.
    `example` is a file name suggested when `path` is a folder."""
    if path.is_dir():
        raise UsageError(f"{what}: is a folder; give a file name such as {path / example}")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise UsageError(f"{what}: the folder {parent} does not exist")
    _probe(parent, what)


@contextmanager
def atomic_path(path: Path, suffix: str = ".tmp") -> Iterator[Path]:
    """A temporary path beside `path` to write to; on success it is synced, made world-readable
    (mkstemp creates 0600) and renamed onto `path`. On any exception it is removed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f"{TEMP_PREFIX}{os.getpid()}.{path.name}.", suffix=suffix)
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
