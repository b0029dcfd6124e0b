"""Planning as a library: requests built without argparse expand to the runs they ask for."""

from pathlib import Path

import numpy as np
import pytest
import torch

from cnnbench.errors import UsageError
from cnnbench.registry import default_registry, get_task
from cnnbench.run.plan import RunPlan, RunRequest, parse_pairs, parse_seeds, plan_runs
from cnnbench.run.runner import prepare_splits
from cnnbench.spec import Splits, TensorData


@pytest.mark.parametrize("name", sorted(default_registry().names()))
def test_every_task_plans_its_default_request(name: str) -> None:
    task = get_task(name)
    plans = plan_runs(task, RunRequest(task=name, seeds=(0, 1)))
    assert plans, f"{name}: nothing planned"
    experiments = [e for e in task.experiments() if e.default]
    if experiments:
        assert {p.experiment for p in plans} == {e.name for e in experiments}
    else:
        assert {p.model for p in plans} == set(task.default_models)
    assert {p.seed for p in plans} == {0, 1}
    # kernel timings do not depend on the seed: only the first seed's runs are timed
    assert not any(p.timing for p in plans if p.seed == 1)
    for p in plans:
        assert p.profile == task.profile("default", p.model)
        given = next((e.options for e in experiments if e.name == p.experiment), {})
        assert p.options == task.resolve_options(dict(given))


def test_experiments_times_models_times_seeds_and_one_timing_per_input() -> None:
    task = get_task("speech")
    exp = task.experiments()[0]
    plans = plan_runs(task, RunRequest(task="speech", experiments=(exp.name,), seeds=(3, 4, 5)))
    models = exp.models or task.default_models
    assert [(p.seed, p.model) for p in plans] == [(s, m) for s in (3, 4, 5) for m in models]
    assert all(p.dataset == exp.train and p.experiment == exp.name for p in plans)
    assert [p.model for p in plans if p.timing] == list(models) if exp.timed else []


def test_profile_overrides_and_named_data_set() -> None:
    plans = plan_runs(get_task("image"), RunRequest(task="image", models=("dnn",), dataset="mnist", epochs=2,
                                                    batch_size=32, profile="quick"))  # fmt: skip
    (plan,) = plans
    assert (plan.dataset, plan.profile_name, plan.profile.epochs, plan.profile.batch_size) == ("mnist", "quick", 2, 32)
    assert plan.experiment is None and plan.timing


def test_cross_validation_expands_folds_and_times_the_first_only() -> None:
    plans = plan_runs(get_task("text"), RunRequest(task="text", models=("boe",), dataset="mr", cv=3, seeds=(0,)))
    assert [p.fold for p in plans] == [(0, 3), (1, 3), (2, 3)]
    assert [p.timing for p in plans] == [True, False, False]


def test_timing_only_plans_no_data_set() -> None:
    (plan,) = plan_runs(get_task("image"), RunRequest(task="image", models=("vgg16",), timing_only=True))
    assert plan.dataset is None and plan.timing


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (RunRequest(task="image", models=("nope",)), "unknown model of task 'image'"),
        (RunRequest(task="speech", experiments=("nope",)), "unknown experiment 'nope'"),
        (RunRequest(task="image", cv=3), "does not support --cv"),
        (RunRequest(task="text", cv=1), "--cv must be between 2 and 100"),
        (RunRequest(task="image", epochs=0), "epochs must be between 1"),
        (RunRequest(task="image", time_budget_s=-1), "the time budget"),
        (RunRequest(task="image", time_budget_s=float("nan")), "the time budget"),
        (RunRequest(task="image", seed=-1), "--seed must be between 0"),
        (RunRequest(task="image", options={"x": "1" * 5000}), "5,000 characters"),
        (RunRequest(task="image", timing_only=True, timing=False), "leave nothing to do"),
        (RunRequest(task="image", profile="huge"), "unknown profile"),
        (RunRequest(task="image", models=("dnn",), save_to=Path("m.pt"), seeds=(0, 1)), "--save needs exactly one"),
        (RunRequest(task="image", models=("dnn",), timing_only=True, save_to=Path("m")), "timing-only trains nothing"),
        (RunRequest(task="image", models=("vgg16",), save_to=Path("m.pt")), "this command only times its models"),
        (RunRequest(task="image", amp="fp16", device=torch.device("cpu")), "fp16"),
        (RunRequest(task="image", train_flops=float("nan")), "the training FLOPs budget"),
        (RunRequest(task="image", train_flops=0.0), "the training FLOPs budget"),
        (RunRequest(task="image", match_flops="nope"), "unknown model of task 'image'"),
        (RunRequest(task="image", match_flops="dnn", train_flops=1e12), "give one"),
        (RunRequest(task="image", match_flops="dnn", timing_only=True), "no training with --timing-only"),
        (RunRequest(task="speech", experiments=("male-to-female-equal-flops",), match_flops="dnn"),
         "already matches another model's compute"),
        (RunRequest(task="speech", experiments=("male-to-female-equal-flops",), train_flops=1e12),
         "already budgets its runs by another model's compute"),
    ],
)
def test_impossible_requests_fail_before_any_work(request_: RunRequest, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        plan_runs(get_task(request_.task), request_)


def test_option_contradicting_an_experiment_is_refused() -> None:
    task = get_task("text")
    exp = next(e for e in task.experiments() if e.options)
    key, value = next(iter(exp.options.items()))
    other = next(v for v in ("glove-50", "random", "w2v-own") if v != value)
    with pytest.raises(UsageError, match=f"experiment {exp.name!r} sets {key}="):
        plan_runs(task, RunRequest(task="text", experiments=(exp.name,), options={key: other}))


def test_parsers_of_seeds_and_pairs() -> None:
    assert parse_seeds("3", 5) == (5, 6, 7)
    assert parse_seeds("1,4,2", 0) == (1, 4, 2)
    for bad in ("x", "0", "1,1", ","):
        with pytest.raises(UsageError, match="--seeds"):
            parse_seeds(bad, 0)
    assert parse_pairs(["a=1", "b=x=y"], "--option", "KEY=VALUE") == {"a": "1", "b": "x=y"}
    with pytest.raises(UsageError, match="--data expects NAME=PATH"):
        parse_pairs(["fsdd="], "--data", "NAME=PATH")


def test_an_equal_flops_experiment_carries_its_reference_model_and_profile() -> None:
    task = get_task("speech")
    plans = plan_runs(task, RunRequest(task="speech", experiments=("male-to-female-equal-flops",), epochs=3))
    assert [p.model for p in plans] == ["freq-cnn"] * 3
    assert all(p.flops_match == ("cnn-2d", task.profile("default", "cnn-2d").replace(epochs=3)) for p in plans)
    one = RunRequest(task="speech", dataset="synth-digits", models=("dnn",), match_flops="cnn-2d", seeds=(0,))
    (plan,) = plan_runs(task, one)
    assert plan.flops_match is not None and plan.flops_match[0] == "cnn-2d"


def test_a_compute_budget_becomes_samples_and_epochs_for_the_model() -> None:
    import types

    from cnnbench.measure.counting import count_flops
    from cnnbench.run.runner import compute_budget
    from cnnbench.spec import TensorData

    task = get_task("image")
    one = RunRequest(task="image", models=("dnn",), dataset="mnist", match_flops="lecture-cnn", seeds=(0,))
    (plan,) = plan_runs(task, one)
    train = TensorData(torch.zeros(1000, 1, 28, 28), torch.zeros(1000, dtype=torch.long), 10, "zeros")
    build = task.context("dnn", plan.options)
    ctx = types.SimpleNamespace(task=task, plan=plan, splits=types.SimpleNamespace(train=train), build=build)

    def train_flops(model: str) -> int:
        return count_flops(task.build(model, build), task.example_input(model, 1, build))["flops_train"]

    cnn, dnn = train_flops("lecture-cnn"), train_flops("dnn")
    profile = compute_budget(ctx, dnn)
    assert profile.train_flops == 1000 * plan.flops_match[1].epochs * cnn
    assert profile.max_samples == int(profile.train_flops // dnn) > 1000 * plan.profile.epochs  # the DNN is cheaper
    assert profile.epochs == -(-profile.max_samples // 1000)
    # --train-flops: the budget as given
    given = RunRequest(task="image", models=("dnn",), dataset="mnist", train_flops=1e10, seeds=(0,))
    ctx.plan = plan_runs(task, given)[0]
    assert compute_budget(ctx, dnn).max_samples == int(1e10 // dnn)

class _OneSplit:
    """Stands in for the runner's DataCache: four male speakers' samples in each split."""

    def get(self, name: str, *args: object, **kwargs: object) -> Splits:
        data = TensorData(torch.zeros(4, 1, 28, 28), torch.zeros(4, dtype=torch.long), 10, name,
                          {"sex": np.array(["male"] * 4)})  # fmt: skip
        return Splits(data, data)


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ({"train_where": {"sex": "female"}}, "data set mnist: no training samples with sex=female"),
        ({"test_where": {"sex": "female"}, "test_dataset": "other"}, "data set other: no test samples with sex=female"),
    ],
)
def test_an_empty_split_says_which_and_why(where: dict, message: str) -> None:
    task = get_task("image")
    plan = RunPlan("image", "dnn", "mnist", "quick", task.profile("quick", "dnn"), **where)
    with pytest.raises(UsageError, match=message):
        prepare_splits(task, plan, _OneSplit(), torch.device("cpu"))  # type: ignore[arg-type]


def test_match_flops_inside_an_experiment_uses_the_experiment_budget_of_the_reference() -> None:
    task = get_task("image")
    one = RunRequest(task="image", experiments=("properties",), models=("dnn",), match_flops="lecture-cnn", seeds=(0,))
    (plan,) = plan_runs(task, one)
    assert plan.flops_match is not None and plan.flops_match[1].epochs == 2 and plan.flops_match[1].train_limit == 10000
