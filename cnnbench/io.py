"""Writing files so that readers see the old one, the complete new one, or none: never a partial one.

Text (records, tables), and matplotlib figures; checksums of cached data are in cnnbench.data.cache.
Output paths a command will write are checked here before it does any work (one line on a bad one), and the
temporary files of a killed process are removed by the next one that writes in the same folder."""

from __future__ import annotations

import itertools
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from cnnbench.errors import UsageError

PROBE_PREFIX = ".cnnbench-probe-"
# every temporary file is named .cnnbench-tmp.<pid>.<final name>...: a run killed mid-write (SIGKILL,
# power loss) leaves one that a later run recognises and removes (remove_stale_temporaries)
TEMP_PREFIX = ".cnnbench-tmp."
# this process's start, near enough: a temporary file older than it cannot be one this process writes
_STARTED = time.time()
_OWN_TEMPORARY = re.compile(rf"^{re.escape(TEMP_PREFIX)}(\d+)\.")


def temporary_path(path: Path, suffix: str = ".tmp") -> Path:
    """A name beside `path` for this process to write before renaming onto `path`."""
    return path.with_name(f"{TEMP_PREFIX}{os.getpid()}.{path.name}{suffix}")


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def remove_stale_temporaries(folder: Path, legacy: Sequence[re.Pattern[str]] = ()) -> list[Path]:
    """Remove the temporary files (and folders) a killed process left in `folder`: named by temporary_path or
    atomic_path (or matching a `legacy` pattern whose first group is the writer's pid), written before this
    process started, by a process that no longer runs. Returns what was removed."""
    removed: list[Path] = []
    if not folder.is_dir():
        return removed
    for path in folder.iterdir():
        match = _OWN_TEMPORARY.match(path.name) or next((m for p in legacy if (m := p.match(path.name))), None)
        if match is None or int(match.group(1)) == os.getpid() or _running(int(match.group(1))):
            continue
        try:
            if path.stat().st_mtime < _STARTED:
                shutil.rmtree(path) if path.is_dir() else path.unlink()
                removed.append(path)
        except FileNotFoundError:  # removed meanwhile by another run
            continue
    return removed


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


def _temporary(path: Path, suffix: str) -> Path:
    """A new empty temporary file beside `path` (its folder created; what killed processes left there removed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path.parent)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f"{TEMP_PREFIX}{os.getpid()}.{path.name}.", suffix=suffix)
    os.close(fd)
    return Path(name)


def sync(path: Path) -> None:
    """Flush the file's contents to disk."""
    with open(path, "rb") as f:
        os.fsync(f.fileno())


@contextmanager
def atomic_path(path: Path, suffix: str = ".tmp") -> Iterator[Path]:
    """A temporary path beside `path` to write to; on success it is synced, made world-readable
    (mkstemp creates 0600) and renamed onto `path`. On any exception it is removed. Temporary files that
    killed processes left in the folder are removed first (remove_stale_temporaries)."""
    tmp = _temporary(path, suffix)
    try:
        yield tmp
        sync(tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def create_new(candidates: Iterable[Path], text: str, prepare: Callable[[Path], None] | None = None) -> Path | None:
    """Write `text` as a new file at the first of the `candidates` (paths in one folder) that no file takes, never
    over another file, and return that path (None when every candidate is taken). The text goes to a temporary
    file, synced, that is then hard-linked to the name: an exclusive create of the whole file, so neither a reader
    nor a killed writer ever finds an empty or partial file at the name. `prepare(path)`, when given, runs before
    the file appears at a candidate (the runner writes a checkpoint naming the record there)."""
    candidates = iter(candidates)
    first = next(candidates, None)
    if first is None:
        return None
    tmp = _temporary(first, ".tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        for path in itertools.chain([first], candidates):
            if path.exists():
                continue
            if prepare is not None:
                prepare(path)
            try:
                os.link(tmp, path)
            except FileExistsError:  # another process took the name meanwhile
                continue
            except OSError:  # a file system without hard links: claim the name, then rename the file onto it
                try:
                    os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
                except FileExistsError:
                    continue
                os.replace(tmp, path)
            return path
        return None
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
