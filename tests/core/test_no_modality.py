"""The core knows no modality: no module under cnnbench/ imports the task plugins (cnnbench_tasks) or names a
task in its code (a comparison such as task == "go", a table's wording "go: top-1", "the text task"). What a
task needs of the core is a hook on Task (rendering an explanation, fitting a normaliser, its own input shape)."""

import ast
import re
from pathlib import Path

import pytest

from cnnbench.registry import default_registry

CORE = Path(__file__).resolve().parents[2] / "cnnbench"
MODULES = sorted(CORE.rglob("*.py"))
# the built-in tasks, and any other installed: none of their names is for the core to know
TASKS = sorted({"image", "speech", "text", "go", *default_registry().names()})
# a task named in words: 'go:' / 'go task' / 'task go' / "the text task's"
NAMED = re.compile(r"\b(?:(?P<a>{t})(?::|\s+task\b)|task\s+(?P<b>{t})\b)".format(t="|".join(TASKS)))


def _docstrings(tree: ast.AST) -> set[int]:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                out.add(id(first.value))
    return out


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(CORE)))
def test_the_core_does_not_import_the_task_plugins(path: Path) -> None:
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
        names += [node.module or ""] if isinstance(node, ast.ImportFrom) else []
        assert not [n for n in names if n.split(".")[0] == "cnnbench_tasks"], f"{path.name}:{node.lineno}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(CORE)))
def test_the_core_names_no_task_in_its_code(path: Path) -> None:
    tree = ast.parse(path.read_text())
    docs = _docstrings(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
            assert node.value not in TASKS, f"{path.name}:{node.lineno} names task {node.value!r}"
            found = NAMED.search(node.value)
            assert found is None, f"{path.name}:{node.lineno} names a task in words: {found.group(0)!r}"


def test_the_check_sees_a_task_named_in_code() -> None:
    code = 'if task == "go":\n    pass\nCOLUMN = "(accuracy; go: top-1)"\nHELP = "the text task\'s vectors"\n'
    constants = {n.value for n in ast.walk(ast.parse(code)) if isinstance(n, ast.Constant)}
    assert "go" in constants
    assert {c for c in constants if isinstance(c, str) and NAMED.search(c)} == {
        "(accuracy; go: top-1)", "the text task's vectors"}  # fmt: skip
