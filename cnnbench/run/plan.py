"""Planning: what a request to run a task expands to, one RunPlan per run (experiments x models x seeds x
folds), checked before any work starts. A library function: the CLI only turns its arguments into a
RunRequest and prints."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from cnnbench.errors import UsageError, check_count, check_range
from cnnbench.measure.precision import FP32, Precision
from cnnbench.spec import PAD_MODES, PROFILES, SCHEDULES, Experiment, ModelSpec, Profile, Task


@dataclass(frozen=True)
class RunRequest:
    """What a user asks of `cnnbench run`, typed; every field has the CLI's default."""

    task: str
    models: tuple[str, ...] = ()  # () = the task's default models
    dataset: str | None = None  # a named data set instead of the task's experiments
    experiments: tuple[str, ...] = ()  # () = all of the task's experiments (unless a data set is named)
    profile: str = "default"
    epochs: int | None = None  # overrides of the profile
    time_budget_s: float | None = None
    train_flops: float | None = None
    match_flops: str | None = None  # --match-flops MODEL: train for the FLOPs MODEL spends in its epochs
    batch_size: int | None = None
    seed: int = 0  # the data split's seed and the first run's
    seeds: tuple[int, ...] | None = None  # None = the profile's count, from seed on
    cv: int | None = None  # K-fold cross-validation
    options: Mapping[str, str] = field(default_factory=dict)  # task options as given
    timing: bool = True
    timing_only: bool = False
    timing_batch: int | None = None
    progress: bool = True
    threads: int | None = None
    amp: str | None = None
    channels_last: bool | None = None  # None = the model's own choice for the device
    compile: bool = False
    device: torch.device = torch.device("cpu")  # resolved already
    save_to: Path | None = None
    command: str | None = None


@dataclass(frozen=True)
class RunPlan:
    """One run: a model trained (or only timed) on one data set with one seed and fold."""

    task: str
    model: str
    dataset: str | None  # data set trained on; None: timing only
    profile_name: str
    profile: Profile
    seed: int = 0
    # the data split's seed: --seed, the same for every seed of a --seeds request, except for a data set whose
    # split follows the seed (DataSpec.split_follows_seed): then the run's own seed
    split_seed: int = 0
    timing: bool = True
    progress: bool = True
    test_dataset: str | None = None  # evaluated on this data set's test split (default: dataset's)
    train_where: Mapping[str, str] = field(default_factory=dict)
    test_where: Mapping[str, str] = field(default_factory=dict)
    experiment: str | None = None
    command: str | None = None  # the command line that asked for the run, for the record
    options: Mapping[str, str] = field(default_factory=dict)  # the task's options, defaults filled in
    fold: tuple[int, int] | None = None  # (index, count) of a cross-validation run
    save_to: Path | None = None  # write a checkpoint of the trained model here
    precision: Precision = FP32  # --amp / --channels-last / --compile
    timing_batch: int | None = None  # --timing-batch: the throughput batch instead of the model's own
    threads: int | None = None  # --threads, when given (the threads used are in the record's device)
    # the experiment's compute match: (model, its profile); the runner sets profile.train_flops from them
    flops_match: tuple[str, Profile] | None = None

    @property
    def label(self) -> str:
        return f"{self.task}/{self.experiment + '/' if self.experiment else ''}{self.model}"


def parse_seeds(text: str, first: int) -> tuple[int, ...]:
    """--seeds: a count N (first .. first+N-1) or a comma-separated list; at most MAX_SEEDS seeds."""
    if len(text) > 20 * MAX_SEEDS:
        raise UsageError(f"--seeds: at most {MAX_SEEDS} seeds")
    try:
        if "," in text:
            seeds = tuple(int(s) for s in text.split(",") if s.strip())
        else:
            count = int(text)
            check_range(count, 1, MAX_SEEDS, "the --seeds count")
            seeds = tuple(range(first, first + count))
    except ValueError:
        raise UsageError(f"--seeds expects a count or a comma-separated list of integers, got {text[:40]!r}") from None
    if not seeds or len(set(seeds)) != len(seeds):
        raise UsageError(f"--seeds needs at least one seed and no repeats, got {text[:40]!r}")
    if len(seeds) > MAX_SEEDS:
        raise UsageError(f"--seeds: at most {MAX_SEEDS} seeds, got {len(seeds)}")
    for seed in seeds:
        check_range(seed, 0, MAX_SEED, "a seed")
    return seeds


def parse_pairs(items: list[str] | None, flag: str, what: str) -> dict[str, str]:
    """KEY=VALUE items of a repeatable flag (--option, --data)."""
    out = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key or not value and flag == "--data":
            raise UsageError(f"{flag} expects {what}, got {item!r}")
        out[key] = value
    return out


# bounds of the numbers a user controls: beyond them a request is refused in one line, before any work
MAX_SEED = 2**32 - 1  # numpy's seeds
MAX_SEEDS = 1000  # runs per configuration
MAX_EPOCHS = 100_000
MAX_BATCH = 2**20
MAX_FOLDS = 100
MAX_THREADS = 4096
MAX_OPTION_LENGTH = 4096  # an option value (a path at most)
MAX_TIME_BUDGET_S = 30 * 24 * 3600.0
MAX_TRAIN_FLOPS = 1e24
MAX_AUGMENT = 4096  # places of a shift or a cutout square


def check_profile(profile: Profile) -> None:
    """Budgets a user can set must be finite and positive, and bounded; say which one is not."""
    check_count(profile.epochs, 1, MAX_EPOCHS, "epochs")
    if profile.time_budget_s is not None:
        check_range(profile.time_budget_s, 1e-3, MAX_TIME_BUDGET_S, "the time budget (seconds)")
    check_count(profile.batch_size, 1, MAX_BATCH, "the batch size")
    if profile.max_samples is not None:
        check_range(profile.max_samples, 1, 2**62, "the samples budget")
    if profile.train_flops is not None:
        check_range(profile.train_flops, 1.0, MAX_TRAIN_FLOPS, "the training FLOPs budget")
    _check_schedule(profile)
    if not 0.0 <= profile.label_smoothing < 1.0:
        raise UsageError(f"label smoothing must be in [0, 1), got {profile.label_smoothing}")
    check_count(profile.lookahead, 0, 10**6, "the lookahead period (steps)")
    aug = profile.augment
    if aug.pad not in PAD_MODES:
        raise UsageError(f"augment pad {aug.pad!r} is not one of {', '.join(PAD_MODES)}")
    check_count(aug.translate, 0, MAX_AUGMENT, "the augmentation's translate")
    check_count(aug.cutout, 0, MAX_AUGMENT, "the augmentation's cutout")


def _check_schedule(profile: Profile) -> None:
    """A known schedule; step and linear need lr_points of increasing fractions in [0, 1] and factors >= 0."""
    if profile.schedule not in SCHEDULES:
        raise UsageError(f"unknown schedule {profile.schedule!r}; valid: {', '.join(SCHEDULES)}")
    points = profile.lr_points
    if profile.schedule in ("step", "linear") and not points:
        raise UsageError(f"the {profile.schedule} schedule needs lr_points (fraction of training, lr factor)")
    fractions = [p[0] for p in points]
    if any(len(p) != 2 for p in points) or fractions != sorted(fractions) or any(not 0 <= x <= 1 for x in fractions):
        raise UsageError(f"lr_points must be (fraction, factor) pairs in increasing fractions in [0, 1], got {points}")
    if any(not 0 <= f < math.inf for _, f in points):
        raise UsageError(f"lr_points factors must be finite and >= 0, got {points}")


def plan_runs(task: Task, request: RunRequest) -> list[RunPlan]:
    """Every run the request asks for, checked: unknown names and impossible combinations fail here."""
    _check_request(task, request)
    models = list(request.models or task.default_models)
    for m in models:
        task.model_spec(m)  # unknown names fail here, before any work
    if request.match_flops is not None:
        task.model_spec(request.match_flops)
        if request.train_flops is not None:
            raise UsageError("--match-flops and --train-flops both set the compute budget: give one")
    all_models = set(models) | {m for e in task.experiments() for m in (*(e.models or ()), e.match_flops_of) if m}
    all_models |= {request.match_flops} if request.match_flops else set()
    profiles = {m: task.profile(request.profile, m).replace(**_overrides(request)) for m in all_models}
    for profile in profiles.values():
        check_profile(profile)
    seeds = request.seeds or tuple(range(request.seed, request.seed + task.profile(request.profile).seeds))
    if request.timing_only:  # kernel timings do not depend on the seed: one run per model
        seeds = seeds[:1]
    plans = []
    for fold in _folds(task, request.cv):
        for i, seed in enumerate(seeds):
            for plan in _plans_one_seed(task, request, models, profiles):
                # kernel timings do not depend on the seed: time the first seed's runs only
                first = i == 0 and (fold is None or fold[0] == 0)
                precision = _precision(request, task.model_spec(plan.model))
                follows = plan.dataset is not None and task.data_spec(plan.dataset).split_follows_seed
                split_seed = seed if follows else plan.split_seed
                plans.append(dataclasses.replace(plan, seed=seed, fold=fold, timing=plan.timing and first,
                                                 precision=precision, split_seed=split_seed))  # fmt: skip
    if request.match_flops is not None:
        if any(p.dataset is None for p in plans):
            raise UsageError("--match-flops sets a training budget; there is no training with --timing-only")
        if any(p.flops_match is not None for p in plans):
            raise UsageError("--match-flops: an experiment asked for already matches another model's compute")
        experiments = {e.name: e for e in task.experiments()}
        plans = [dataclasses.replace(p, flops_match=(request.match_flops, _reference_profile(
            task, request, experiments.get(p.experiment or ""), profiles[request.match_flops])))
            for p in plans]  # fmt: skip
    elif request.train_flops is not None and any(p.flops_match is not None for p in plans):
        raise UsageError("--train-flops: an experiment asked for already budgets its runs by another model's compute")
    for augment in {p.profile.augment for p in plans if p.dataset is not None}:
        task.augmentation(augment)  # a spec the task cannot carry out fails here, before any work
    if request.save_to is not None:
        problem = _save_problem(request, plans)
        if problem:
            raise UsageError(f"--save needs exactly one trained run; {problem}")
        plans = [dataclasses.replace(plans[0], save_to=request.save_to)]
    return plans


def _save_problem(request: RunRequest, plans: list[RunPlan]) -> str | None:
    """Why the planned runs leave --save nothing, or more than one model, to save; None when one is planned."""
    if request.timing_only:
        return "--timing-only trains nothing"
    if all(p.dataset is None for p in plans):
        return "this command only times its models (name a --dataset or --experiment to train one)"
    if len(plans) != 1:
        return f"this command plans {len(plans)} runs (name one --model, one --dataset or --experiment, one seed)"
    return None


def _check_request(task: Task, request: RunRequest) -> None:
    check_range(request.seed, 0, MAX_SEED, "--seed")
    for name, value in request.options.items():
        if len(value) > MAX_OPTION_LENGTH:
            raise UsageError(f"option {name}: a value of {len(value):,} characters (at most {MAX_OPTION_LENGTH})")
    if request.cv is not None:
        check_range(request.cv, 2, MAX_FOLDS, "--cv")
    if request.threads is not None:
        check_range(request.threads, 1, MAX_THREADS, "--threads")
    if request.timing_batch is not None:
        check_range(request.timing_batch, 1, MAX_BATCH, "--timing-batch")
    if request.profile not in PROFILES:
        raise UsageError(f"unknown profile {request.profile!r}; valid: {', '.join(PROFILES)}")
    if request.timing_only and not request.timing:
        raise UsageError("--timing-only and --no-timing together leave nothing to do")
    if request.dataset is not None:
        task.data_spec(request.dataset)


def _folds(task: Task, cv: int | None) -> list[tuple[int, int] | None]:
    if cv is None:
        return [None]
    if not task.supports_cv:
        raise UsageError(f"task {task.name!r} does not support --cv (its data sets come with a fixed split)")
    return [(i, cv) for i in range(cv)]


def _experiments(task: Task, request: RunRequest) -> list[Experiment]:
    experiments = task.experiments()
    if request.experiments:
        known = {e.name: e for e in experiments}
        missing = [n for n in request.experiments if n not in known]
        if missing:
            valid = ", ".join(known) or "(this task has none)"
            raise UsageError(f"unknown experiment {missing[0]!r} of task {task.name!r}; valid: {valid}")
        return [known[n] for n in request.experiments]
    if request.dataset or request.timing_only:
        return []
    return [e for e in experiments if e.default]


def _plans_one_seed(
    task: Task, request: RunRequest, models: list[str], profiles: Mapping[str, Profile]
) -> list[RunPlan]:
    """One RunPlan per run of one seed: the task's experiments, or each model on its data set."""
    common = dict(
        task=task.name,
        profile_name=request.profile,
        seed=request.seed,
        split_seed=request.seed,
        timing=request.timing,
        progress=request.progress,
        command=request.command,
        timing_batch=request.timing_batch,
        threads=request.threads,
    )
    given = dict(request.options)
    experiments = _experiments(task, request)
    if not experiments:
        plans = []
        for m in models:
            spec = task.model_spec(m)
            dataset = None if request.timing_only else (request.dataset or spec.default_dataset)
            if dataset is not None and spec.datasets and dataset not in spec.datasets:
                raise UsageError(f"model {m!r} does not train on {dataset!r}; it takes: {', '.join(spec.datasets)}")
            plans.append(
                RunPlan(model=m, dataset=dataset, profile=profiles[m], options=task.resolve_options(given), **common)
            )
        return plans
    plans = []
    timed: set[tuple[str, str]] = set()  # (model, data set): one timing per input shape is enough
    for exp in experiments:
        clash = {k for k, v in given.items() if exp.options.get(k, v) != v}
        if clash:
            key = sorted(clash)[0]
            raise UsageError(
                f"experiment {exp.name!r} sets {key}={exp.options[key]}; --option {key}={given[key]} contradicts it "
                "(name a --dataset to run without the task's experiments)"
            )
        for m in request.models or exp.models or task.default_models:
            spec = task.model_spec(m)
            if spec.datasets and not {exp.train, exp.test or exp.train} <= set(spec.datasets):
                continue
            plans.append(
                RunPlan(
                    model=m,
                    dataset=exp.train,
                    profile=_experiment_profile(task, request, exp, m, profiles[m]),
                    test_dataset=exp.test,
                    train_where=exp.train_where,
                    test_where=exp.test_where,
                    experiment=exp.name,
                    options=task.resolve_options({**exp.options, **given}),
                    flops_match=(exp.match_flops_of, _experiment_profile(
                        task, request, exp, exp.match_flops_of, profiles[exp.match_flops_of]))
                    if exp.match_flops_of else None,
                    **common | {"timing": request.timing and exp.timed and (m, exp.train) not in timed},
                )
            )
            if plans[-1].timing:
                timed.add((m, exp.train))
    return plans


def _overrides(request: RunRequest) -> dict[str, Any]:
    """The profile fields the command line set (None: not set; Profile.replace keeps the profile's own)."""
    return {"epochs": request.epochs, "time_budget_s": request.time_budget_s, "batch_size": request.batch_size,
            "train_flops": request.train_flops}  # fmt: skip


def _reference_profile(task: Task, request: RunRequest, exp: Experiment | None, profile: Profile) -> Profile:
    """The budget of --match-flops' model: its profile, within an experiment with that experiment's budget."""
    return _experiment_profile(task, request, exp, request.match_flops or "", profile) if exp else profile


def _experiment_profile(task: Task, request: RunRequest, exp: Experiment, model: str, profile: Profile) -> Profile:
    """The model's profile with the experiment's budget for it; what the command line set still wins."""
    own = exp.profile_overrides.get(request.profile)
    if not own:
        return profile
    merged = dataclasses.replace(task.profile(request.profile, model), **own).replace(**_overrides(request))
    check_profile(merged)
    return merged


def _precision(request: RunRequest, spec: ModelSpec) -> Precision:
    """The run's speed options: as asked, the layout defaulting to the model's choice for the device."""
    device = request.device
    layout = request.channels_last if request.channels_last is not None else device.type in spec.channels_last_on
    precision = Precision(request.amp, layout, request.compile)
    if precision != FP32:
        precision.check(device, spec.input_shape)
    return precision
