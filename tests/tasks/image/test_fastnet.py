"""The fast CIFAR-10 net (patch whitening fitted on the training images), its profiles, the resnet20-paper
experiment, and augmentation with test-time augmentation end to end through `cnnbench run` and `eval`."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch

from cnnbench.cli.main import main
from cnnbench.data.augment import SpatialAugment
from cnnbench.measure.counting import count_flops
from cnnbench.registry import get_task
from cnnbench.results.record import read_record
from cnnbench.run.plan import RunRequest, plan_runs
from cnnbench.run.train import lr_factor, planned_steps
from cnnbench.spec import Augment
from cnnbench_tasks.image.models import FastNet, whitening_filters
from cnnbench_tasks.image.patches import PatchStats

TASK = get_task("image")


def test_patch_statistics_are_those_of_all_patches() -> None:
    x = torch.randn(20, 3, 6, 5, generator=torch.Generator().manual_seed(0)) * torch.tensor([1.0, 2.0, 0.5]).view(
        1, 3, 1, 1
    )
    stats = PatchStats.fit(x)
    patches = x.unfold(2, 2, 1).unfold(3, 2, 1).permute(0, 2, 3, 1, 4, 5).reshape(-1, 12).double()
    assert torch.allclose(stats.mean.double(), patches.mean(0), atol=1e-6)
    assert torch.allclose(stats.cov.double(), torch.cov(patches.T, correction=0), atol=1e-5)
    assert PatchStats.fit(torch.randn(4, 10)) is None  # not images


def test_the_whitening_layer_whitens_the_training_patches() -> None:
    g = torch.Generator().manual_seed(1)
    mix = torch.randn(3, 3, generator=g)  # correlated colour channels
    x = torch.einsum("ij,njhw->nihw", mix, torch.randn(200, 3, 8, 8, generator=g)) + 0.3
    stats = PatchStats.fit(x)
    filters, bias = whitening_filters(stats.mean, stats.cov, 3, 2)
    out = torch.nn.functional.conv2d(x, filters, bias)[:, :12]  # the positive half
    flat = out.permute(0, 2, 3, 1).reshape(-1, 12).double()
    assert torch.allclose(flat.mean(0), torch.zeros(12, dtype=torch.float64), atol=1e-4)
    assert torch.allclose(torch.cov(flat.T, correction=0), torch.eye(12, dtype=torch.float64), atol=0.02)


def test_fastnet_shapes_frozen_whitening_and_flops() -> None:
    net = TASK.build("fastnet")
    assert net(torch.randn(2, 3, 32, 32)).shape == (2, 10)
    assert not net.whiten.weight.requires_grad and net.whiten.bias.requires_grad
    # forward FLOPs counted by hand: 2 x MACs of each convolution and the linear layer (31 -> 15 -> 7 -> 3 pixels)
    convs = [(31, 24, 12), (31, 64, 24 * 9), (15, 64, 64 * 9), (15, 256, 64 * 9), (7, 256, 256 * 9),
             (7, 256, 256 * 9), (3, 256, 256 * 9)]  # fmt: skip
    by_hand = sum(2 * side * side * cout * fan_in for side, cout, fan_in in convs) + 2 * 256 * 10
    assert count_flops(net, torch.randn(1, 3, 32, 32))["flops_fwd"] == by_hand == 236_294_720


def test_fastnet_is_built_with_the_fitted_whitening() -> None:
    x = torch.randn(30, 3, 32, 32, generator=torch.Generator().manual_seed(2)) * 2 + 1
    stats = PatchStats.fit(x)
    ctx = TASK.context("fastnet")
    fitted = TASK.build("fastnet", type(ctx)(ctx.task, 10, (3, 32, 32), ctx.options, stats))
    expected, _ = whitening_filters(stats.mean, stats.cov, 3, 2)
    assert torch.allclose(fitted.whiten.weight, expected)
    assert not torch.allclose(TASK.build("fastnet").whiten.weight, expected)
    assert isinstance(FastNet().whiten.weight, torch.nn.Parameter)


def test_fastnet_profiles_carry_the_recipe() -> None:
    for name in ("quick", "default", "full"):
        p = TASK.profile(name, "fastnet")
        assert p.label_smoothing == 0.2 and p.augment == Augment(flip=True, translate=2, pad="reflect", tta=True)
        assert p.optimizer == "sgd" and p.nesterov and p.schedule == "linear" and p.lookahead == 5
    full = TASK.profile("full", "fastnet")
    assert full.epochs == 10 and full.batch_size == 1024 and full.test_limit is None
    assert lr_factor(full, 0, 100) == pytest.approx(0.2) and lr_factor(full, 23, 100) == pytest.approx(1.0)


def test_the_resnet20_paper_experiment_is_he_et_al_s_recipe() -> None:
    request = RunRequest(task="image", models=("resnet20",), dataset="cifar10", experiments=("resnet20-paper",),
                         profile="full", timing=False)  # fmt: skip
    [plan] = plan_runs(TASK, request)
    p = plan.profile
    assert plan.experiment == "resnet20-paper" and plan.dataset == "cifar10"
    assert (p.optimizer, p.lr, p.momentum, p.nesterov, p.weight_decay, p.batch_size) == ("sgd", 0.1, 0.9, False,
                                                                                          1e-4, 128)  # fmt: skip
    assert p.augment == Augment(flip=True, translate=4) and p.augment.pad == "zeros" and p.label_smoothing == 0
    steps = planned_steps(50_000, p)
    assert steps == 64_124  # 164 epochs of 391 steps: the paper's 64k iterations
    drops = [s for s in range(1, steps) if lr_factor(p, s, steps) < lr_factor(p, s - 1, steps)]
    assert drops == [32_062, 48_093]  # the paper's 32k and 48k
    assert p.curve_points == 41 and p.test_limit is None  # time to target every 4 epochs on the whole test split


def test_the_long_fastnet_experiment_stretches_the_recipe_only() -> None:
    """fastnet-long: the full recipe over more epochs (the CPU's 90 minutes), every other setting the same."""
    for profile, epochs in (("default", 20), ("full", 32)):
        own = TASK.profile(profile, "fastnet")
        request = RunRequest(task="image", models=("fastnet",), dataset="cifar10", experiments=("fastnet-long",),
                             profile=profile, seeds=(0,), timing=False)  # fmt: skip
        [plan] = plan_runs(TASK, request)
        assert plan.experiment == "fastnet-long" and plan.profile.epochs == epochs
        assert dataclasses.replace(plan.profile, epochs=own.epochs, curve_points=own.curve_points) == own
    assert "fastnet-long" not in [e.name for e in TASK.experiments() if e.default]  # only when asked


def test_augmented_run_records_tta_targets_and_trains_on_augmented_batches_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, write_jpegs
) -> None:
    data = tmp_path / "cifar"
    write_jpegs(data, {"train": 8, "test": 4})
    seen: list[int] = []
    original = SpatialAugment.train

    def spy(self, x, generator):
        seen.append(len(x))
        return original(self, x, generator)

    monkeypatch.setattr(SpatialAugment, "train", spy)
    out, ck = tmp_path / "runs", tmp_path / "fast.pt"
    args = ["run", "--task", "image", "--model", "fastnet", "--dataset", "cifar10", "--data-dir", str(data),
            "--quick", "--epochs", "2", "--batch-size", "10", "--no-timing", "--no-progress", "--device", "cpu",
            "--out", str(out), "--save", str(ck)]  # fmt: skip
    assert main(args) == 0
    [path] = sorted(out.rglob("*.json"))
    record = read_record(path)
    assert seen == [10, 10, 4] * 2  # 24 training images, 2 epochs; the 12 test images never pass through it
    assert record.config.profile.augment.tta and record.config.profile.label_smoothing == 0.2
    assert set(record.metrics.scores) == {"accuracy", "accuracy_tta"} and 0 <= record.score_tta <= 1
    targets = {t.score: t for t in record.training.time_to_target}
    assert set(targets) == {0.9125, 0.94}  # CIFAR-10's targets, scored on the whole test split's curve
    assert record.training.learning_curve[-1].split == "test"
    # the targets again on the final score with test-time augmentation: reached at the end or not at all
    tta = [t for t in record.training.time_to_target if t.tta]
    assert sorted(t.score for t in tta) == [0.9125, 0.94]
    assert all(t.reached == (record.score_tta >= t.score) for t in tta)
    # the checkpoint keeps the patch statistics: `cnnbench eval` rebuilds the same net and scores the same
    assert main(["eval", str(ck), "--data-dir", str(data), "--device", "cpu", "--no-progress", "--out",
                 str(tmp_path / "evals")]) == 0  # fmt: skip
    [evaluated] = sorted((tmp_path / "evals").rglob("*.json"))
    again = read_record(evaluated)
    assert again.score == pytest.approx(record.score) and again.score_tta == pytest.approx(record.score_tta)


def test_fastnet_streamed_equals_fastnet_in_memory(tmp_path: Path, write_jpegs) -> None:
    """The whitening fitted on a stream, augmentation of streamed batches and TTA on a streamed test split give the
    run the in-memory path gives (one process: the same seeded order, the same draws)."""
    data = tmp_path / "cifar"
    write_jpegs(data, {"train": 8, "test": 4})
    results = {}
    for cap in ("0", "1000"):
        out = tmp_path / f"runs-{cap}"
        args = ["run", "--task", "image", "--model", "fastnet", "--dataset", "cifar10", "--data-dir", str(data),
                "--quick", "--epochs", "1", "--batch-size", "10", "--no-timing", "--no-progress", "--device", "cpu",
                "--option", f"memory_cap_mb={cap}", "--option", "decode_workers=0", "--out", str(out)]  # fmt: skip
        assert main(args) == 0
        [path] = sorted(out.rglob("*.json"))
        record = read_record(path)
        results[record.dataset.notes["data_path"]] = record
    streamed, in_memory = results["streamed"], results["in-memory"]
    assert streamed.training.final_loss == pytest.approx(in_memory.training.final_loss, rel=1e-5)
    assert streamed.score == in_memory.score and streamed.score_tta == in_memory.score_tta


def test_the_summary_holds_each_recipe_to_its_target(make_record) -> None:
    """The fast net against 94% on its TTA score with the time it took against 90 min; ResNet-20 with the paper's
    recipe against 91.25% on its plain score; a claim each, for the Claims section."""
    augment = {"augment": {"flip": True, "translate": 2, "tta": True}}

    def runs(model: str, plain: list[float], tta: list[float]) -> list:
        return [make_record(task="image", model=model, seed=i, dataset={"name": "cifar10"}, config=augment,
                            metrics={"accuracy": a, "accuracy_tta": t, "eval_seconds": 30.0},
                            training={"train_seconds": 1200.0})
                for i, (a, t) in enumerate(zip(plain, tta, strict=True))]  # fmt: skip

    fast = runs("fastnet", [0.933, 0.931, 0.934], [0.9385, 0.9381, 0.9392])
    resnet = runs("resnet20", [0.915, 0.917, 0.916], [0.92, 0.92, 0.92])
    lines = get_task("image").summarize(fast + resnet)
    [goal] = [line for line in lines if line.startswith("CIFAR-10, fastnet (")]
    assert goal.startswith("CIFAR-10, fastnet (default profile, 12 epochs) reaches 94.00% mean test accuracy with TTA: "
                           "CONTRADICTED.")  # fmt: skip
    assert "fastnet (with TTA) 93.86" in goal and "Gap to the target: 0.14 points." in goal
    assert "1,230 ± 0 s (n=3), within the goal of 90 min" in goal and goal.anchor.startswith("Jordan 2024")
    [paper] = [line for line in lines if line.startswith("CIFAR-10, resnet20 (")]
    assert "reaches 91.25%" in paper
    assert paper.verdict == "SUPPORTED" and "resnet20 (plain) 91.60" in paper and "Time" not in paper
    long = make_record(task="image", model="fastnet", experiment="fastnet-long", dataset={"name": "cifar10"},
                       config=augment | {"epochs": 20}, metrics={"accuracy": 0.93, "accuracy_tta": 0.935},
                       training={"train_seconds": 2400.0})  # fmt: skip
    goals = [line for line in get_task("image").summarize([*fast, long]) if line.startswith("CIFAR-10, fastnet (")]
    assert len(goals) == 2 and goals[0] == goal  # each experiment against the goal, the plain runs first
    assert goals[1].startswith("CIFAR-10, fastnet (experiment fastnet-long, default profile, 20 epochs) reaches")
    assert goals[1].verdict == "INCONCLUSIVE AT N = 1 (single runs: no claim)" and "Gap to the target: 0.50" in goals[1]
    on_gpu = [dataclasses.replace(r, device=dataclasses.replace(r.device, type="cuda")) for r in fast]
    [goal] = [line for line in get_task("image").summarize(on_gpu) if line.startswith("CIFAR-10, fastnet (")]
    assert "over the goal of 5 s" in goal  # the GPU's goal, not the CPU's
    both = [line for line in get_task("image").summarize(fast + on_gpu) if line.startswith("CIFAR-10, fastnet (")]
    assert len(both) == 2 and "within the goal of 90 min" in both[0] and "over the goal of 5 s" in both[1]
