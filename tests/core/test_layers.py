"""The core's rooms depend downwards only: cli -> run -> measure/machine -> io, and results/ reads records
without importing run/ or cli/. A room's imports are read from its source (ast), so a new upward import
fails here."""

import ast
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[2] / "cnnbench"

# room -> rooms it must never import (a room is a subpackage, or a top-level module of cnnbench)
FORBIDDEN = {
    "io": {"cli", "run", "results", "measure", "machine", "explain", "spec", "registry"},
    "errors": {"cli", "run", "results", "measure", "machine", "explain"},
    "spec": {"cli", "run", "results", "measure", "machine", "explain"},
    "machine": {"cli", "run", "results", "explain"},
    "measure": {"cli", "run", "results", "explain"},
    "results": {"cli", "run", "explain"},
    "run": {"cli"},
    "explain": {"cli", "run", "results"},
    "data": {"cli", "run", "results", "measure", "machine", "explain"},
    "modules": {"cli", "run", "results", "measure", "machine", "explain", "spec", "registry", "data", "io"},
}


def _room(path: Path) -> str:
    rel = path.relative_to(CORE)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def _imported_rooms(path: Path) -> set[str]:
    """Rooms imported at run time (imports under `if TYPE_CHECKING:` are for annotations only)."""
    tree = ast.parse(path.read_text())
    typing_only = {
        id(n)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
        for n in ast.walk(block)
    }
    rooms = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        names = []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "cnnbench" and len(parts) > 1:
                rooms.add(parts[1])
    return rooms


@pytest.mark.parametrize("path", sorted(CORE.rglob("*.py")), ids=lambda p: str(p.relative_to(CORE)))
def test_imports_point_down(path: Path) -> None:
    room = _room(path)
    upward = _imported_rooms(path) & FORBIDDEN.get(room, set())
    assert not upward, f"{path.relative_to(CORE)} ({room}) imports {sorted(upward)}"


def test_the_core_is_grouped_in_rooms() -> None:
    top_level = sorted(p.stem for p in CORE.glob("*.py") if p.stem != "__init__")
    assert top_level == ["errors", "io", "registry", "spec"]
