"""The data cache: ~/.cache/cnnbench or $CNNBENCH_DATA, checksums, atomic copies, and entries that are
verified before use and rebuilt when bad.

A cache entry is one or more files written through temporary files and renames, then sealed by a
marker written last (<first file>.complete, holding each file's size). An entry whose marker is missing,
whose sizes differ from the marker's, or that its reader cannot read is rebuilt, with one line on
stderr; an entry from before markers existed that reads well is sealed as it is. Temporary files that a
killed process left in the entry's folder are removed first."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from cnnbench.errors import reason
from cnnbench.io import atomic_path, atomic_write_text, remove_stale_temporaries

ENV_VAR = "CNNBENCH_DATA"
MARKER_SUFFIX = ".complete"

T = TypeVar("T")


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


def warn(message: str) -> None:
    print(f"cnnbench: warning: {message}", file=sys.stderr, flush=True)


class CorruptEntry(Exception):
    """A cache entry its reader cannot use (raised by readers with the reason); it is rebuilt."""


@dataclass(frozen=True)
class CacheEntry:
    """The files of one cache entry; the first names the entry in messages and its marker."""

    files: tuple[Path, ...]

    @property
    def marker(self) -> Path:
        return self.files[0].with_name(self.files[0].name + MARKER_SUFFIX)

    @property
    def folder(self) -> Path:
        return self.files[0].parent

    def exists(self) -> bool:
        return any(p.exists() for p in self.files)

    def problem(self) -> str | None:
        """Why the entry cannot be used, None when its files are all there at the sizes its marker gives
        (an entry without a marker, written before markers existed, is left to its reader to judge)."""
        missing = [p.name for p in self.files if not p.is_file()]
        if missing:
            return f"{', '.join(missing)} missing"
        if not self.marker.is_file():
            return None
        try:
            sizes = json.loads(self.marker.read_text())["sizes"]
        except (OSError, ValueError, KeyError, TypeError) as e:
            return f"unreadable completeness marker ({reason(e)})"
        for p in self.files:
            if sizes.get(p.name) != p.stat().st_size:
                return f"{p.name} is {p.stat().st_size} bytes, {sizes.get(p.name)} when written (truncated?)"
        return None

    def seal(self) -> None:
        """Write the marker, last: the entry's files are complete."""
        sizes = {p.name: p.stat().st_size for p in self.files}
        atomic_write_text(self.marker, json.dumps({"sizes": sizes}) + "\n")

    def discard(self) -> None:
        """Remove the marker first, then the files: a crash in between leaves an entry without a marker."""
        for p in (self.marker, *self.files):
            p.unlink(missing_ok=True)


def cached(
    entry: CacheEntry,
    read: Callable[[], T],
    build: Callable[[], T],
    what: str,
    legacy_temporaries: Sequence[re.Pattern[str]] = (),
) -> T:
    """read() the entry when it is sound; else build() it (build writes the files), seal it and return
    what build returned. A bad entry (not merely absent) is reported in one line on stderr. Stale
    temporary files in the entry's folder (see remove_stale_temporaries) are removed first."""
    remove_stale_temporaries(entry.folder, legacy_temporaries)
    existed = entry.exists()
    problem = entry.problem() if existed else "absent"
    if problem is None:
        try:
            value = read()
        except Exception as e:  # noqa: BLE001 - any failure to read a cache entry means: rebuild it
            problem = f"unreadable: {reason(e)}"
        else:
            if not entry.marker.is_file():  # written before markers existed, and reads well
                entry.seal()
            return value
    if existed:  # not what another process may have built since: it is complete (renamed into place)
        warn(f"{entry.files[0]}: cached {what} unusable ({problem}); rebuilding")
        entry.discard()
    value = build()
    entry.seal()
    return value
