"""Tasks by name (the entry-point group ``cnnbench.tasks`` plus tasks registered in code) and models from
outside the tasks: entry points of the group ``cnnbench.models`` named ``<task>:<model>``, or a factory
named on the command line as ``package.module:function`` (timm's open registry, by entry point)."""

from __future__ import annotations

import importlib
import os
import re
import sys
from importlib.metadata import entry_points

from cnnbench.errors import UsageError
from cnnbench.spec import ModelFactory, ModelSpec, Task

GROUP = "cnnbench.tasks"
MODEL_GROUP = "cnnbench.models"
REFERENCE = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_][\w.]*")  # package.module:function


class DuplicateTaskError(RuntimeError):
    """Two plugins claim the same task name."""


class Registry:
    """Lazily discovers task classes; nothing is imported until a task is asked for."""

    def __init__(self, group: str | None = GROUP) -> None:
        self._group = group
        self._classes: dict[str, type[Task]] | None = None
        self._instances: dict[str, Task] = {}

    def _discover(self) -> dict[str, type[Task]]:
        if self._classes is None:
            found: dict[str, type[Task]] = {}
            eps = entry_points(group=self._group) if self._group else ()
            for ep in eps:
                if ep.name in found:
                    raise DuplicateTaskError(f"task {ep.name!r} is registered twice in {self._group!r}")
                cls = ep.load()
                if getattr(cls, "name", None) != ep.name:
                    raise DuplicateTaskError(
                        f"entry point {ep.name!r} loads a task named {getattr(cls, 'name', None)!r}"
                    )
                found[ep.name] = cls
            self._classes = found
        return self._classes

    def register(self, cls: type[Task]) -> type[Task]:
        """Add a task class (usable as a decorator); raises on a duplicate name."""
        classes = self._discover()
        if cls.name in classes:
            raise DuplicateTaskError(f"task {cls.name!r} is already registered")
        classes[cls.name] = cls
        return cls

    def names(self) -> list[str]:
        return sorted(self._discover())

    def get(self, name: str) -> Task:
        classes = self._discover()
        if name not in classes:
            valid = ", ".join(sorted(classes)) or "(none installed)"
            raise UsageError(f"unknown task {name!r}; valid: {valid}")
        if name not in self._instances:
            self._instances[name] = classes[name]()
        return self._instances[name]

    def tasks(self) -> list[Task]:
        return [self.get(n) for n in self.names()]


_default: Registry | None = None


def default_registry() -> Registry:
    global _default
    if _default is None:
        _default = Registry()
    return _default


def get_task(name: str) -> Task:
    return default_registry().get(name)


# --- models from outside the tasks ---

_user_models: dict[tuple[str, str], ModelSpec] = {}


def registered_models(task: str) -> dict[str, str]:
    """Models other packages register for a task: entry points `<task>:<model>` of cnnbench.models,
    as model name -> `package.module:function`."""
    prefix = f"{task}:"
    return {ep.name[len(prefix) :]: ep.value for ep in entry_points(group=MODEL_GROUP) if ep.name.startswith(prefix)}


def user_model(task: Task, name: str) -> ModelSpec:
    """A model of the task that it does not define: a registered entry point `<task>:<name>`, or `name` itself
    as package.module:function. Unknown names, failed imports and missing functions: one line (UsageError)."""
    key = (task.name, name)
    if key not in _user_models:
        registered = registered_models(task.name)
        reference = registered.get(name, name)
        if not REFERENCE.fullmatch(reference):
            valid = ", ".join(sorted([*task.models, *registered]))
            raise UsageError(f"unknown model of task {task.name!r}: {name!r}; valid: {valid}, or a factory as "
                             "package.module:function")  # fmt: skip
        factory = import_factory(reference)
        doc = (factory.__doc__ or "").strip().splitlines()
        description = f"{reference}" + (f": {doc[0]}" if doc else "")
        _user_models[key] = task.user_model_spec(name, factory, reference, description)
    return _user_models[key]


def import_factory(reference: str) -> ModelFactory:
    """The function a `package.module:function` reference names, imported from the Python path and, failing
    that, from the current folder (the `cnnbench` script does not put it on the path as `python -m` does)."""
    module_name, _, attribute = reference.partition(":")
    try:
        module = _import(module_name)
    except Exception as e:  # noqa: BLE001 - any failure of the user's module: one line naming it
        first = (str(e).splitlines() or [""])[0]
        raise UsageError(f"model {reference}: cannot import {module_name} ({type(e).__name__}: {first})") from None
    factory = module
    for part in attribute.split("."):
        if not hasattr(factory, part):
            raise UsageError(f"model {reference}: {module_name} has no attribute {attribute!r}")
        factory = getattr(factory, part)
    if not callable(factory):
        raise UsageError(f"model {reference}: {attribute} is a {type(factory).__name__}, not a function")
    return factory


def _import(module_name: str):
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        here = os.getcwd()
        if here in sys.path or e.name is None or module_name.split(".")[0] != e.name.split(".")[0]:
            raise
        sys.path.append(here)
        return importlib.import_module(module_name)
