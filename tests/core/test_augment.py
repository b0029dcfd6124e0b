"""Augmentation on the device: the batched transforms of cnnbench.data.augment on small tensors, their seeding,
the training loop's hook (training batches only), the profile's schedules and label smoothing, and the augment
spec in records and configuration keys."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from cnnbench.data import augment as aug
from cnnbench.errors import UsageError
from cnnbench.modules.shift import shift as shift_one_axis
from cnnbench.results.record import Config, training_config
from cnnbench.run.plan import check_profile
from cnnbench.run.train import lr_factor, planned_steps, predict, train
from cnnbench.spec import Augment, Profile, TensorData

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
FULL = Augment(flip=True, translate=2, cutout=3, tta=True)


def _images(n: int = 6, c: int = 2, h: int = 5, w: int = 7, seed: int = 0) -> torch.Tensor:
    return torch.randn(n, c, h, w, generator=torch.Generator().manual_seed(seed))


def _gen(seed: int, device: str = "cpu") -> torch.Generator:
    return torch.Generator(device).manual_seed(seed)


def test_mirror_flips_only_the_masked_samples() -> None:
    x = _images()
    mask = torch.tensor([True, False, True, False, False, True])
    out = aug.mirror(x, mask)
    for i, flipped in enumerate(mask.tolist()):
        assert torch.equal(out[i], x[i].flip(-1) if flipped else x[i])


@pytest.mark.parametrize(("dy", "dx"), [(0, 0), (1, 0), (0, -2), (-1, 2), (2, 1)])
def test_shift_with_zeros_moves_the_content(dy: int, dx: int) -> None:
    x = _images(1)
    out = aug.shift(x, torch.tensor([dy]), torch.tensor([dx]), 2)
    expected = shift_one_axis(shift_one_axis(x, dy, 0.0, dim=-2), dx, 0.0, dim=-1)
    assert torch.equal(out, expected)


def test_shift_with_reflection_is_a_window_of_the_reflected_image() -> None:
    x = _images(2)
    out = aug.shift(x, torch.tensor([1, -2]), torch.tensor([-1, 2]), 2, mode="reflect")
    big = F.pad(x, (2, 2, 2, 2), mode="reflect")
    assert torch.equal(out[0], big[0, :, 1:6, 3:10]) and torch.equal(out[1], big[1, :, 4:9, 0:7])


def test_reflection_wider_than_the_sample_is_one_line() -> None:
    with pytest.raises(UsageError, match="reflection padding by 5"):
        aug.random_shift(_images(2), 5, _gen(0), mode="reflect")


def test_random_shift_gives_each_sample_a_shift_within_the_range() -> None:
    x = _images(32)
    out = aug.random_shift(x, 2, _gen(1))
    seen = set()
    for i in range(len(x)):
        matches = [
            (dy, dx)
            for dy in range(-2, 3)
            for dx in range(-2, 3)
            if torch.equal(out[i : i + 1], aug.shift(x[i : i + 1], torch.tensor([dy]), torch.tensor([dx]), 2))
        ]
        assert matches, f"sample {i} is no shift of its input"
        seen.add(matches[0])
    assert len(seen) > 5  # per-sample offsets, not one for the batch


def test_cutout_zeroes_one_square_and_leaves_the_rest() -> None:
    x = _images(16) + 10  # no zeros before
    out = aug.cutout(x, 3, _gen(2))
    zero = out == 0
    assert torch.equal(out[~zero], x[~zero])
    per_sample = zero.flatten(1).sum(1) / x.shape[1]
    assert (per_sample <= 9).all() and (per_sample > 0).all()
    assert (zero.all(dim=1) == zero.any(dim=1)).all()  # every channel of a pixel, or none


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_the_transforms_keep_shape_dtype_and_device(device: str, dtype: torch.dtype) -> None:
    x = _images(8).to(device, dtype)
    out = aug.SpatialAugment(FULL).train(x, _gen(0, device))
    assert out.shape == x.shape and out.dtype == dtype and out.device == x.device
    for _, view in aug.SpatialAugment(FULL).views(x):
        assert view.shape == x.shape and view.dtype == dtype


@pytest.mark.parametrize("device", DEVICES)
def test_one_seed_one_augmented_batch(device: str) -> None:
    x = _images(64).to(device)
    spatial = aug.SpatialAugment(FULL)
    assert torch.equal(spatial.train(x, _gen(7, device)), spatial.train(x, _gen(7, device)))
    assert not torch.equal(spatial.train(x, _gen(7, device)), spatial.train(x, _gen(8, device)))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_on_cuda_the_batch_stays_on_the_device_and_moves_as_on_the_cpu() -> None:
    x = _images(16)
    spec = aug.SpatialAugment(Augment(translate=2, pad="reflect"))
    offsets = torch.tensor([1, -1] * 8), torch.tensor([0, 2] * 8)
    cpu = aug.shift(x, *offsets, 2, "reflect")
    cuda = aug.shift(x.cuda(), offsets[0].cuda(), offsets[1].cuda(), 2, "reflect")
    assert torch.equal(cuda.cpu(), cpu)
    assert spec.train(x.cuda(), _gen(0, "cuda")).is_cuda


def test_test_time_views_weigh_one() -> None:
    x = _images(3)
    for spec, n in ((Augment(flip=True, tta=True), 2), (Augment(translate=1, tta=True), 3), (FULL, 6)):
        views = aug.SpatialAugment(spec).views(x)
        assert len(views) == n and sum(w for w, _ in views) == pytest.approx(1.0)
        assert torch.equal(views[0][1], x)  # the batch itself is always a view


# --- the training loop's hook ---


class _Spy:
    """A BatchTransform that records the batches it saw and adds a constant (the model sees the change)."""

    def __init__(self) -> None:
        self.sizes: list[int] = []

    def __call__(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        self.sizes.append(len(x))
        return x + torch.rand(len(x), 1, generator=generator, device=x.device)


def _data(n: int = 50) -> TensorData:
    x = torch.randn(n, 4, generator=torch.Generator().manual_seed(0))
    return TensorData(x, (x[:, 0] > 0).long(), 2, "synthetic")


def _trained(augment, seed: int = 0, curve=None) -> tuple[nn.Module, object]:
    torch.manual_seed(0)
    model = nn.Linear(4, 2)
    result = train(model, _data(), nn.functional.cross_entropy, Profile(3, 16, 0.1), seed, False, augment=augment,
                   curve=curve)  # fmt: skip
    return model, result


def test_the_hook_sees_every_training_batch_and_nothing_else() -> None:
    from cnnbench.run.train import Curve

    spy = _Spy()
    scored: list[int] = []
    curve = Curve(lambda m: scored.append(1) or 0.5, points=3)
    _, result = _trained(spy, curve=curve)
    assert spy.sizes == [16, 16, 16, 2] * 3 and result.steps == planned_steps(50, Profile(3, 16, 0.1)) == 12
    assert len(scored) == 3  # the curve was scored, and the spy saw no test batch


def test_one_seed_one_training_run_with_augmentation() -> None:
    a, _ = _trained(_Spy(), seed=3)
    b, _ = _trained(_Spy(), seed=3)
    c, _ = _trained(_Spy(), seed=4)
    plain, _ = _trained(None, seed=3)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))
    assert not torch.equal(a.weight, c.weight) and not torch.equal(a.weight, plain.weight)


def test_prediction_never_augments() -> None:
    model, _ = _trained(_Spy())
    x = _data().x
    assert torch.equal(predict(model, x), model(x).detach())


# --- schedules, label smoothing and the spec in the profile ---


def test_step_and_linear_schedules() -> None:
    step = Profile(1, 1, 0.1, schedule="step", lr_points=((0.5, 0.1), (0.75, 0.01)))
    assert [lr_factor(step, s, 100) for s in (0, 49, 50, 74, 75, 99)] == [1.0, 1.0, 0.1, 0.1, 0.01, 0.01]
    tri = Profile(1, 1, 0.1, schedule="linear", lr_points=((0.0, 0.2), (0.25, 1.0), (1.0, 0.1)))
    assert [round(lr_factor(tri, s, 100), 6) for s in (0, 25, 50, 100)] == [0.2, 1.0, 0.7, 0.1]


def test_the_step_schedule_drives_the_optimiser() -> None:
    model = nn.Linear(4, 2)
    profile = Profile(4, 10, 0.1, optimizer="sgd", schedule="step", lr_points=((0.5, 0.1),))
    from cnnbench.run.train import make_optimizer, make_scheduler

    opt = make_optimizer(model, profile)
    sched = make_scheduler(opt, profile, 20)
    lrs = []
    for _ in range(20):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert lrs[:10] == [0.1] * 10 and lrs[10:] == pytest.approx([0.01] * 10)
    assert opt.param_groups[0]["nesterov"] is True
    assert make_optimizer(model, dataclasses.replace(profile, nesterov=False)).param_groups[0]["nesterov"] is False


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"schedule": "step"}, "needs lr_points"),
        ({"schedule": "warm"}, "unknown schedule"),
        ({"schedule": "linear", "lr_points": ((0.5, 1.0), (0.2, 0.1))}, "increasing fractions"),
        ({"schedule": "step", "lr_points": ((0.5, -1.0),)}, "factors must be finite"),
        ({"label_smoothing": 1.0}, "label smoothing"),
        ({"augment": Augment(translate=-1)}, "translate"),
        ({"augment": Augment(pad="wrap")}, "pad"),
        ({"augment": Augment(translate=1.5)}, "translate must be a whole number"),
        ({"lookahead": 2.5}, "lookahead period .* whole number"),
        ({"lookahead": True}, "lookahead period .* whole number"),
        ({"epochs": 2.0}, "epochs must be a whole number"),
        ({"batch_size": 2.5}, "batch size must be a whole number"),
        ({"augment": Augment(cutout=1.5)}, "cutout must be a whole number"),
        ({"epochs": 10**9}, "epochs must be between 1 and 100000, got 1000000000"),
        ({"epochs": 10**400}, "epochs must be between 1 and 100000, got 1000"),
    ],
)
def test_bad_training_settings_are_one_line(changes: dict, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        check_profile(dataclasses.replace(Profile(1, 1, 0.1), **changes))
    if "whole number" in message:  # numpy's integers are whole numbers
        check_profile(dataclasses.replace(Profile(1, 1, 0.1), epochs=np.int64(2), lookahead=np.int32(5)))


def test_the_spec_travels_through_records_and_checkpoints() -> None:
    profile = Profile(1, 8, 0.1, schedule="linear", lr_points=((0.0, 0.5), (1.0, 0.1)), label_smoothing=0.2,
                      augment=FULL)  # fmt: skip
    config = Config(profile, 8, (2, 5, 7))
    back = Config.from_json(config.to_json(), "config")
    assert back.profile == profile and isinstance(back.profile.augment, Augment)
    assert Profile(**dataclasses.asdict(profile)) == profile  # a checkpoint stores the profile as asdict


def test_augment_and_loss_changes_are_part_of_the_configuration() -> None:
    base = Profile(1, 8, 0.1)

    def key(profile: Profile) -> dict:
        record = type("R", (), {"config": Config(profile, 8, (1,))})()  # the key reads a record's config only
        return training_config(record)  # type: ignore[arg-type]

    assert set(key(base)) == {"epochs", "batch_size", "lr", "optimizer", "momentum", "weight_decay", "schedule",
                              "max_samples", "train_flops", "time_budget_s", "train_limit", "test_limit"}  # fmt: skip
    assert key(dataclasses.replace(base, augment=FULL))["augment"]["cutout"] == 3
    assert key(dataclasses.replace(base, label_smoothing=0.2))["label_smoothing"] == 0.2
    assert key(dataclasses.replace(base, nesterov=False))["nesterov"] is False


def test_a_task_without_augmentation_refuses_a_spec() -> None:
    from cnnbench.registry import get_task

    with pytest.raises(UsageError, match="has no data augmentation"):
        get_task("text").augmentation(Augment(flip=True))
    assert get_task("text").augmentation(Augment()) is None
