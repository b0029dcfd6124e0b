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


# the documented sizes: MNIST and CIFAR-10, full and averaged down by 2 (lecture-cnn, cnn-nopool, local-nopool)
SIZES = {(1, 28, 28): (137_660, 2_892_660, 9_558_910), (1, 14, 14): (32_660, 512_660, 1_667_110),
         (3, 32, 32): (193_110, 3_933_110, 13_410_310), (3, 16, 16): (33_110, 733_110, 2_485_510)}  # fmt: skip


@pytest.mark.parametrize("shape", list(SIZES))
def test_every_rung_builds_for_full_and_downsampled_images(shape: tuple[int, int, int]) -> None:
    task = get_task("image")
    counts = {}
    for model in LADDER:
        net = task.build(model, BuildContext("image", 10, shape, task.resolve_options({})))
        assert net(torch.zeros(2, *shape)).shape == (2, 10)
        counts[model] = sum(p.numel() for p in net.parameters())
    assert abs(counts["dnn-small"] - counts["lecture-cnn"]) < 0.02 * counts["lecture-cnn"]
    assert (counts["lecture-cnn"], counts["cnn-nopool"], counts["local-nopool"]) == SIZES[shape]


def test_the_cifar_experiments_plan_the_ladder_and_its_controls() -> None:
    task = get_task("image")
    names = ("properties-cifar", "properties-cifar-permuted", "properties-cifar-downsampled")
    assert not set(names) & {p.experiment for p in plan_runs(task, RunRequest(task="image"))}
    plans = plan_runs(task, RunRequest(task="image", experiments=names, seeds=(0, 1, 2)))
    by = {n: [p for p in plans if p.experiment == n and p.seed == 0] for n in names}
    assert [p.model for p in by["properties-cifar"]] == list(LADDER)
    assert [p.model for p in by["properties-cifar-permuted"]] == ["dnn", "dnn-small", "lecture-cnn"]
    assert [p.model for p in by["properties-cifar-downsampled"]] == ["dnn", "lecture-cnn"]
    assert all(p.dataset == "cifar10" and not p.timing and p.options["shift_test"] == "4" for p in plans)
    assert {p.options["permute"] for p in by["properties-cifar-permuted"]} == {"pixels"}
    assert {p.options["downsample"] for p in by["properties-cifar-downsampled"]} == {"2"}
    assert {(p.profile.epochs, p.profile.train_limit, p.profile.curve_limit) for p in plans} == {(2, 10000, 1000)}
    assert len(plans) == 3 * (5 + 3 + 2)


def test_cifar_ladder_end_to_end_decodes_the_images_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         write_jpegs) -> None:  # fmt: skip
    from cnnbench_tasks.image import folders

    write_jpegs(tmp_path / "jpeg", {"train": 6, "test": 3})
    decoded = []
    real = folders.load_cifar10
    monkeypatch.setattr(folders, "load_cifar10", lambda src, how: decoded.append(src) or real(src, how))
    out = tmp_path / "runs"
    args = ["run", "--task", "image", "--quick", "--no-progress", "--data-dir", str(tmp_path / "jpeg"), "--out",
            str(out), "--model", "dnn", "--model", "lecture-cnn", "--seeds", "1"]  # fmt: skip
    for experiment in ("properties-cifar", "properties-cifar-permuted", "properties-cifar-downsampled"):
        args += ["--experiment", experiment]
    assert main(args) == 0
    assert len(decoded) == 1
    records = [read_record(p) for p in sorted(out.rglob("*.json"))]
    assert len(records) == 6 and all(r.dataset.name == "cifar10" for r in records)
    small = [r for r in records if r.experiment == "properties-cifar-downsampled"]
    assert all(r.config.input_shape == (3, 16, 16) for r in small)
    assert all(set(r.metrics.by_group["shift"]) == {"0", "1", "2", "3", "4"} for r in records)


def _runs(make_record, model: str, experiment: str, scores: list[float], shift2: float = 0.1) -> list:
    return [make_record(model=model, experiment=experiment, seed=s, dataset={"name": "cifar10"},
                        metrics={"accuracy": a, "accuracy_by_shift": {"0": a, "2": a - shift2 * (1 + s * s / 10)}},
                        training={"epochs_run": 2.0, "train_samples": 10000})
            for s, a in enumerate(scores)]  # fmt: skip


def test_cifar_claims_say_their_budget_and_reach_the_summary(make_record) -> None:
    records = (_runs(make_record, "dnn", "properties-cifar", [0.40, 0.41, 0.42], shift2=0.12)
               + _runs(make_record, "dnn-small", "properties-cifar", [0.35, 0.36, 0.362])
               + _runs(make_record, "local-nopool", "properties-cifar", [0.45, 0.46, 0.475])
               + _runs(make_record, "cnn-nopool", "properties-cifar", [0.50, 0.52, 0.53])
               + _runs(make_record, "lecture-cnn", "properties-cifar", [0.52, 0.53, 0.545], shift2=0.04)
               + _runs(make_record, "lecture-cnn", "properties-cifar-permuted", [0.38, 0.39, 0.40])
               + _runs(make_record, "dnn", "properties-cifar-permuted", [0.401, 0.409, 0.42])
               + _runs(make_record, "lecture-cnn", "properties-cifar-downsampled", [0.45, 0.462, 0.47]))  # fmt: skip
    lines = get_task("image").summarize(records)
    text = "\n".join(lines)
    assert "CIFAR-10 property 2, weight sharing: shared local filters beat unshared ones: SUPPORTED" in text
    assert "CIFAR-10 property 3, subsampling: the CNN with pooling after each layer beats the same CNN without " \
           "pooling: INCONCLUSIVE" in text or "pooling: SUPPORTED" in text  # fmt: skip
    assert "CIFAR-10 property 2, patterns anywhere: test images shifted by 2 pixels cost lecture-cnn less accuracy " \
           "than the DNN: SUPPORTED" in text  # fmt: skip
    assert "CIFAR-10 property 1 control: permuting the pixels (locality off) costs the CNN more accuracy than the " \
           "DNN: SUPPORTED" in text  # fmt: skip
    assert "the CNN on images averaged down to 16x16 beats the DNN on the 32x32 originals: SUPPORTED" in text
    assert "CIFAR-10 properties: every rung trained under one budget, 2 epochs on 10,000 training images (the " \
           "`properties-cifar` experiment)" in text  # fmt: skip
    assert not any(line.startswith("MNIST") for line in lines)  # the MNIST ladder has no runs here
