"""Tasks by name: the entry-point group ``cnnbench.tasks`` plus tasks registered in code."""

from __future__ import annotations

from importlib.metadata import entry_points

from cnnbench.errors import UsageError
from cnnbench.spec import Task

GROUP = "cnnbench.tasks"


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
