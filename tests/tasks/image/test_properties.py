"""The three properties on images: the controls, the ladder's models, the experiments end to end and their claims."""

from pathlib import Path

import pytest
import torch

from cnnbench.cli.main import main
from cnnbench.modules.shift import shift
from cnnbench.registry import get_task
from cnnbench.results.record import read_record
from cnnbench.run.plan import RunRequest, plan_runs
from cnnbench.spec import BuildContext
from cnnbench_tasks.image import controls
from cnnbench_tasks.image.models import DNN
from cnnbench_tasks.image.task import LADDER, properties_claims


def test_the_permutation_is_fixed_and_a_dnn_is_indifferent_to_it() -> None:
    x = torch.randn(4, 1, 28, 28)
    p = controls.permute_pixels(x)
    assert torch.equal(p, controls.permute_pixels(x)) and not torch.equal(p, x)
    assert torch.equal(p.sort(dim=-1).values.flatten().sort().values, x.flatten().sort().values)
    # a DNN whose first layer's columns are permuted alike computes the same function on permuted inputs
    torch.manual_seed(0)
    dnn = DNN(10, 784).eval()
    order = torch.randperm(784, generator=torch.Generator().manual_seed(controls.PERMUTATION_SEED))
    twin = DNN(10, 784).eval()
    twin.load_state_dict(dnn.state_dict())
    with torch.no_grad():
        twin.fc1.weight[:, order] = dnn.fc1.weight.clone()
        twin.fc1.weight.copy_(dnn.fc1.weight[:, order])
    torch.testing.assert_close(twin(p), dnn(x))


def test_shift_moves_the_content_and_fills_the_background() -> None:
    x = torch.zeros(1, 1, 3, 5)
    x[..., 0] = 7.0
    shifted = shift(x, 2, fill=-1.0)
    assert shifted[0, 0, 0].tolist() == [-1.0, -1.0, 7.0, 0.0, 0.0]
    assert shift(x, -1, fill=-1.0)[0, 0, 0].tolist() == [0.0, 0.0, 0.0, 0.0, -1.0]
    assert shift(x, 2, fill=-1.0, dim=-2)[0, 0, :, 0].tolist() == [-1.0, -1.0, 7.0]
    assert (shift(x, 9, fill=-1.0) == -1.0).all()
    assert controls.downsample(torch.ones(2, 1, 28, 28), 2).shape == (2, 1, 14, 14)


def test_properties_experiments_run_only_when_named_with_their_own_budget() -> None:
    task = get_task("image")
    default = plan_runs(task, RunRequest(task="image"))
    assert {p.model for p in default} == {"lecture-cnn", "dnn"} and all(p.experiment is None for p in default)
    plans = plan_runs(task, RunRequest(task="image", experiments=("properties",), seeds=(0,)))
    assert [p.model for p in plans] == list(LADDER)
    assert all(p.profile.epochs == 2 and p.profile.train_limit == 10000 for p in plans)
    assert all(p.options["shift_test"] == "4" for p in plans)
    (given,) = plan_runs(task, RunRequest(task="image", experiments=("properties",), seeds=(0,), models=("dnn",),
                                          epochs=5))  # fmt: skip
    assert given.profile.epochs == 5  # the command line wins


def test_ladder_models_end_to_end_with_shifted_test_scores(mnist_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "runs"
    args = ["run", "--task", "image", "--quick", "--no-progress", "--data-dir", str(mnist_dir), "--out", str(out),
            "--model", "dnn", "--model", "dnn-small", "--seeds", "1"]  # fmt: skip
    for experiment in ("properties", "properties-permuted", "properties-downsampled"):
        assert main([*args, "--experiment", experiment]) == 0
    records = [read_record(p) for p in sorted(out.rglob("*.json"))]
    assert len(records) == 6
    plain = [r for r in records if r.experiment == "properties"]
    assert all(set(r.metrics.by_group["shift"]) == {"0", "1", "2", "3", "4"} for r in plain)
    assert all(r.metrics.by_group["shift"]["0"] == pytest.approx(r.score) for r in plain)
    small = [r for r in records if r.experiment == "properties-downsampled"]
    assert all(r.config.input_shape == (1, 14, 14) and r.dataset.notes["downsample"] == 2 for r in small)
    permuted = [r for r in records if r.experiment == "properties-permuted"]
    assert all(r.dataset.notes["permute"] == "pixels" for r in permuted)
    text = "\n".join(properties_claims(records))
    assert text == ""  # no lecture-cnn runs: no claims
    # with dnn-small's runs standing in for lecture-cnn, the controls' sentences appear
    renamed = [r.__class__(**{**r.__dict__, "model": "lecture-cnn"}) for r in records if r.model == "dnn-small"]
    text = "\n".join(properties_claims(records + renamed))
    assert "patterns anywhere: test images shifted by 2 pixels cost lecture-cnn less accuracy than the DNN" in text
    assert "permuting the pixels (locality off) costs the CNN more accuracy than the DNN" in text
    assert "the CNN on images averaged down to 14x14 beats the DNN on the 28x28 originals" in text


@pytest.mark.parametrize("side", [28, 14])
def test_every_rung_builds_for_full_and_downsampled_images(side: int) -> None:
    task = get_task("image")
    counts = {}
    for model in LADDER:
        net = task.build(model, BuildContext("image", 10, (1, side, side), task.resolve_options({})))
        assert net(torch.zeros(2, 1, side, side)).shape == (2, 10)
        counts[model] = sum(p.numel() for p in net.parameters())
    assert abs(counts["dnn-small"] - counts["lecture-cnn"]) < 0.02 * counts["lecture-cnn"]
    assert counts["local-nopool"] > counts["cnn-nopool"] > counts["lecture-cnn"]
