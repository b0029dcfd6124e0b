"""Run records: one JSON file per run, written atomically, read back with a schema check."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cnnbench.errors import UsageError
from cnnbench.io import atomic_write_text

SCHEMA_VERSION = 1
REQUIRED_KEYS = ("schema_version", "task", "model", "dataset", "metrics", "machine", "versions", "commit")


def write_record(record: dict[str, Any], path: Path) -> Path:
    """Serialise first (so an unserialisable record fails before any file exists), then write."""
    text = json.dumps(record, indent=2, sort_keys=False, allow_nan=False) + "\n"
    atomic_write_text(path, text)
    return path


def read_record(path: Path) -> dict[str, Any]:
    """Load a record, rejecting unreadable files and unknown schema versions with a clear message."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{path}: no such record file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise UsageError(f"{path}: not a readable JSON run record ({e})") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: a run record must be a JSON object")
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        raise UsageError(f"{path}: unsupported schema_version {version!r} (this cnnbench reads {SCHEMA_VERSION})")
    missing = [k for k in REQUIRED_KEYS if k not in data]
    if missing:
        raise UsageError(f"{path}: run record lacks {', '.join(missing)}")
    return data


def read_records(folder: Path) -> list[tuple[Path, dict[str, Any]]]:
    """Every record under a folder, sorted by path."""
    return [(p, read_record(p)) for p in sorted(Path(folder).rglob("*.json"))]
