import pytest

from cnnbench.errors import UsageError
from cnnbench.registry import DuplicateTaskError, Registry, default_registry
from cnnbench.spec import Task


def test_builtin_tasks_come_from_entry_points() -> None:
    assert "image" in default_registry().names()


def test_unknown_task_lists_valid_names() -> None:
    with pytest.raises(UsageError, match=r"unknown task 'imag'; valid: .*image"):
        default_registry().get("imag")  # no substring matching


def test_unknown_model_and_dataset_list_valid_names() -> None:
    task = default_registry().get("image")
    with pytest.raises(UsageError, match=r"unknown model of task 'image': 'lenet'; valid: .*lecture-cnn"):
        task.model_spec("lenet")
    with pytest.raises(UsageError, match=r"unknown data set of task 'image': 'svhn'; valid: .*mnist"):
        task.data_spec("svhn")


def test_duplicate_registration_raises() -> None:
    reg = Registry()
    cls = type(default_registry().get("image"))
    with pytest.raises(DuplicateTaskError, match="already registered"):
        reg.register(cls)


def test_register_new_task() -> None:
    reg = Registry(group=None)

    class Toy(Task):
        name = "toy"
        modality = "none"
        datasets = {}
        models = {}
        default_models = ()
        profiles = {}

        def load(self, request):  # pragma: no cover - never called
            raise NotImplementedError

    reg.register(Toy)
    assert reg.names() == ["toy"]
    assert reg.get("toy") is reg.get("toy")
    with pytest.raises(DuplicateTaskError):
        reg.register(Toy)


@pytest.mark.parametrize("name", default_registry().names())
def test_every_task_is_complete(name: str) -> None:
    task = default_registry().get(name)
    assert task.name == name
    assert set(task.profiles) == {"quick", "default", "full"}
    assert task.default_models and all(m in task.models for m in task.default_models)
    for spec in task.models.values():
        assert spec.default_dataset is None or spec.default_dataset in task.datasets
        assert all(d in task.datasets for d in spec.datasets)
