"""Go model options: impossible sizes are refused as task options (one line), not deep in the builder."""

import pytest

from cnnbench.errors import UsageError
from cnnbench.registry import get_task


@pytest.mark.parametrize("key, value", [("layers", "2"), ("layers", "x"), ("filters", "0")])
def test_bad_sizes_are_refused(key: str, value: str) -> None:
    with pytest.raises(UsageError, match=f"option {key}='{value}' of task 'go'"):
        get_task("go").resolve_options({key: value})


def test_smallest_network_builds() -> None:
    task = get_task("go")
    options = task.resolve_options({"layers": "3", "filters": "2"})
    model = task.build("alphago-policy", resources={"options": options})
    assert model(task.example_input("alphago-policy", 2)).shape == (2, 361)
