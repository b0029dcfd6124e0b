"""No code runs from a data file (issue 16), checked over the source of the core and the tasks: every numpy load
refuses pickles (allow_pickle=False), every torch.load takes weights only (weights_only=True), and nothing
unpickles but the CIFAR-10 reader's restricted unpickler (tasks/image/cifar_pickle.py, tested on its own)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MODULES = sorted([*(ROOT / "cnnbench").rglob("*.py"), *(ROOT / "tasks").rglob("*.py")])
RESTRICTED_UNPICKLER = ROOT / "tasks" / "image" / "cifar_pickle.py"
# calls that load data: the keyword each must pass, with its value
LOADS = {("np", "load"): ("allow_pickle", False), ("numpy", "load"): ("allow_pickle", False),
         ("torch", "load"): ("weights_only", True)}  # fmt: skip
# what runs code from the bytes it reads, whatever its arguments
UNPICKLERS = {("pickle", "load"), ("pickle", "loads"), ("pickle", "Unpickler"), ("marshal", "loads"),
              ("marshal", "load"), ("shelve", "open"), ("joblib", "load"), ("dill", "load"), ("dill", "loads"),
              ("pd", "read_pickle"), ("pandas", "read_pickle")}  # fmt: skip


def problems(source: str, unpickling_allowed: bool = False) -> list[str]:
    """Each call or use in `source` that could run code from a data file, with its line."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            name = (node.value.id, node.attr)
            if name in UNPICKLERS and not unpickling_allowed:
                found.append(f"line {node.lineno}: {'.'.join(name)}")
        func = node.func if isinstance(node, ast.Call) else None
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            name = (func.value.id, func.attr)
            if name in LOADS:
                keyword, value = LOADS[name]
                given = [k.value for k in node.keywords if k.arg == keyword]
                if not (len(given) == 1 and isinstance(given[0], ast.Constant) and given[0].value is value):
                    found.append(f"line {node.lineno}: {'.'.join(name)} without {keyword}={value}")
    return sorted(found, key=lambda p: int(p.split()[1].rstrip(":")))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_load_can_run_code_from_a_data_file(path: Path) -> None:
    assert problems(path.read_text(), unpickling_allowed=path == RESTRICTED_UNPICKLER) == []


def test_the_check_sees_each_way_in() -> None:
    code = (
        "a = np.load(f)\nb = np.load(f, allow_pickle=True)\nc = torch.load(f)\nd = pickle.loads(raw)\n"
        "class U(pickle.Unpickler): pass\ne = np.load(f, allow_pickle=False)\nf = torch.load(f, weights_only=True)\n"
    )
    assert [p.split(":")[0] for p in problems(code)] == ["line 1", "line 2", "line 3", "line 4", "line 5"]
