"""--compile: the compiled model computes the same function, every graph is built in the warm-up
(none during training or evaluation), the warm-up leaves the model as it was, and the run records it."""

from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from torch import nn
from torch._dynamo.utils import counters

from cnnbench.cli.main import main
from cnnbench.measure.phases import Workload
from cnnbench.measure.precision import Precision
from cnnbench.registry import get_task
from cnnbench.results.record import Record, read_record
from cnnbench.run.compiling import eval_batches, train_batches, warm_up
from cnnbench.run.distributed import World

COMPILE = Precision(compile=True)


def test_batch_shapes() -> None:
    assert train_batches(1000, 128) == {128, 104}
    assert train_batches(1024, 128) == {128}
    assert train_batches(50, 128) == {50}
    # under --nproc 2 each rank compiles its share: 1001 = 7 x 128 + 105 -> 64 and 53 / 52
    assert train_batches(1001, 128, World(rank=0, size=2)) == {64, 53}
    assert train_batches(1001, 128, World(rank=1, size=2)) == {64, 52}
    assert train_batches(129, 128, World(rank=1, size=2)) == {64}  # the last batch of 1 leaves rank 1 nothing
    assert eval_batches(200, 0) == {200}
    assert eval_batches(3000, 1024) == {1024, 952}


def test_warm_up_builds_every_graph_and_changes_nothing() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 3))
    eager = {k: v.clone() for k, v in model.state_dict().items()}
    x = torch.randn(10, 1, 8, 8)
    with torch.no_grad():
        want = model.eval()(x)
    COMPILE.model(model)
    work = Workload(model, lambda b: torch.randn(b, 1, 8, 8), 3, nn.functional.cross_entropy, torch.device("cpu"),
                    COMPILE)  # fmt: skip
    seconds = warm_up(work, {4, 2}, {10})
    assert seconds > 0
    for k, v in model.state_dict().items():  # batch-norm statistics and weights restored
        torch.testing.assert_close(v, eager[k])
    assert all(p.grad is None for p in model.parameters())
    frames = dict(counters["stats"])
    with torch.inference_mode():
        got = model(x)
    torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)
    model.train()
    for b in (4, 2):
        nn.functional.cross_entropy(model(torch.randn(b, 1, 8, 8)), torch.zeros(b, dtype=torch.long)).backward()
    assert dict(counters["stats"]) == frames, "a graph was compiled after the warm-up"


def test_run_records_compile_time(mnist_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "runs"
    args = ["run", "--task", "image", "--model", "lecture-cnn", "--dataset", "mnist", "--data-dir", str(mnist_dir)]
    assert main([*args, "--quick", "--no-progress", "--no-timing", "--out", str(out), "--compile"]) == 0
    (path,) = list(out.rglob("*.json"))
    rec = read_record(path)
    assert rec.config.precision.compile is True
    assert rec.metrics.compile_seconds > 0
    assert rec.metrics.graphs_compiled_in_training == 0  # training and evaluation shapes were warmed up
    assert rec.score > 0.5


def test_go_compiles_its_network_only() -> None:
    task = get_task("go")
    options = task.resolve_options({"filters": "4", "layers": "3"})
    model = task.build("alphago-policy", task.context("alphago-policy", options))
    assert model.compile_targets() == [model.net]


@pytest.mark.parametrize("precision", [COMPILE])
def test_compile_is_recorded_as_a_word(precision: Precision, make_record: Callable[..., Record]) -> None:
    from cnnbench.results.table import option_words

    assert option_words(make_record(config={"precision": precision.as_dict()})) == ["compile"]
