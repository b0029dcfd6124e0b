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
    model = task.build("alphago-policy", task.context("alphago-policy", options))
    assert model(task.example_input("alphago-policy", 2)).shape == (2, 361)


def test_timing_only_feeds_the_planes_the_model_was_built_for(tmp_path) -> None:
    """--option features=raw: the timed inputs are raw-feature rows (12 planes), as the model is."""
    from cnnbench.cli.main import main
    from cnnbench.measure.counting import count_params
    from cnnbench.results.record import read_records
    from cnnbench_tasks.go.models import packed_bytes

    task = get_task("go")
    args = ["run", "--task", "go", "--model", "alphago-policy", "--timing-only", "--quick", "--device", "cpu"]
    args += ["--option", "features=raw", "--option", "filters=4", "--option", "layers=3"]
    assert main([*args, "--no-progress", "--out", str(tmp_path)]) == 0
    ((_, record),) = read_records(tmp_path)
    options = task.resolve_options({"features": "raw", "filters": "4", "layers": "3"})
    model = task.build("alphago-policy", task.context("alphago-policy", options))
    assert model.planes == 12 and record.config.input_shape == (packed_bytes(12),)
    assert record.metrics.params == count_params(model)
    ctx = task.context("alphago-policy", options)
    assert task.example_input("alphago-policy", 2, ctx).shape == (2, packed_bytes(12))
