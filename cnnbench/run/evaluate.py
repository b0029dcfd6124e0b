"""A trained checkpoint scored on any data set its task can load: the data loaded as the training run loaded it
(its split seed and profile), encoded and preprocessed with what the model was fitted with (the checkpoint's
DataExtra: a vocabulary, a normaliser), scored with the task's metrics, and a run record that says where the
model was trained and what it was scored on. A library function: `cnnbench eval` only parses and prints."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from cnnbench.data.cache import cache_root
from cnnbench.errors import UsageError
from cnnbench.measure.precision import Precision
from cnnbench.registry import get_task
from cnnbench.results import record as rec
from cnnbench.run import checkpoint
from cnnbench.run.distributed import SINGLE
from cnnbench.run.plan import RunPlan
from cnnbench.run.runner import RunContext, count, make_record, score, scored_split, utc_now
from cnnbench.spec import PROFILES, DataRequest, Splits, TensorData

SPLITS = ("test", "all")
CPU = torch.device("cpu")


@dataclass(frozen=True)
class EvalRequest:
    """What a user asks of `cnnbench eval`, typed."""

    checkpoint: Path
    dataset: str | None = None  # default: the data set the training run tested on
    data_dir: Path | None = None
    split: str = "test"  # "test": the test split as a run scores it; "all": every sample the loader gives
    profile: str | None = None  # sizes data sets that size themselves by profile; default: the training run's
    device: torch.device = CPU
    progress: bool = True
    command: str | None = None


def checkpoint_data(
    ck: checkpoint.Checkpoint,
    dataset: str | None = None,
    data_dir: Path | None = None,
    split: str = "test",
    profile: str | None = None,
    device: torch.device = CPU,
    progress: bool = False,
) -> tuple[TensorData, Splits]:
    """The samples to score, prepared exactly as in training, and the splits they come from.

    split "test": the data set's test split as `cnnbench run` scores it (the training run's split seed and
    profile, its test limit drawn with its seed, and its test filter on the data set it tested on); "all":
    train, dev and test together."""
    task = get_task(ck.task)
    trained = ck.trained
    dataset = dataset or trained.tested_on
    profile = profile or trained.profile_name
    if split not in SPLITS:
        raise UsageError(f"unknown split {split!r}; valid: {', '.join(SPLITS)}")
    if profile not in PROFILES:
        raise UsageError(f"unknown profile {profile!r}; valid: {', '.join(PROFILES)}")
    if task.data_spec(dataset).needs_dir and data_dir is None:
        raise UsageError(f"data set {dataset!r} has no default source; pass --data {dataset}=PATH")
    fold = trained.fold if dataset == trained.dataset else None
    request = DataRequest(dataset, data_dir, cache_root(), ck.input_shape, trained.split_seed, device, progress,
                          profile, ck.context.options, fold, fitted=ck.context.data)  # fmt: skip
    splits = task.load(request)
    if split == "all":
        part = TensorData.concat([s for s in (splits.train, splits.dev, splits.test) if s is not None])
    else:
        where = trained.test_where if dataset == trained.tested_on else {}
        limit = task.profile(profile).test_limit if profile != trained.profile_name else trained.profile.test_limit
        part = scored_split(splits, where, limit, trained.seed, dataset)
    if part.num_classes > ck.context.num_classes:
        raise UsageError(f"data set {dataset!r} has {part.num_classes} classes; the model predicts "
                         f"{ck.context.num_classes}")  # fmt: skip
    return task.preprocess(part, ck.context.data), splits


def evaluate_checkpoint(request: EvalRequest) -> rec.Record:
    """Score a checkpoint on a data set; the record (not yet written) of the evaluation."""
    ck = checkpoint.load(request.checkpoint)
    task, trained, device = get_task(ck.task), ck.trained, request.device
    dataset = request.dataset or trained.tested_on
    data, splits = checkpoint_data(ck, dataset, request.data_dir, request.split, request.profile, device,
                                   request.progress)  # fmt: skip
    precision = Precision(trained.amp, trained.channels_last)  # as the training run evaluated
    model = precision.layout(ck.build().to(device))
    try:
        task.model_spec(ck.model)
        name = ck.model
    except UsageError:  # a registered model whose entry point is gone: named by its factory
        name = ck.factory or ck.model
    plan = RunPlan(task=ck.task, model=name, dataset=trained.dataset, profile_name=trained.profile_name,
                   profile=trained.profile, seed=trained.seed, split_seed=trained.split_seed, timing=False,
                   progress=request.progress, test_dataset=dataset, experiment=trained.experiment,
                   command=request.command, options=dict(ck.context.options), fold=trained.fold,
                   precision=precision)  # fmt: skip
    ctx = RunContext(task, plan, device, None, SINGLE, model, ck.context, utc_now())
    _check_fits(ctx, data, dataset)
    metrics = count(ctx) | score(ctx, data.to(device))
    where = trained.test_where if request.split == "test" and dataset == trained.tested_on else {}
    scored = rec.Dataset(name=trained.dataset, source=trained.source, test=dataset, test_source=data.source,
                         test_where=dict(where), notes=dict(splits.notes), fold=trained.fold)  # fmt: skip
    evaluation = rec.Evaluation(str(request.checkpoint), request.split, len(data), trained.record, trained.experiment)
    return make_record(ctx, metrics, None, None, scored, evaluation)


def _check_fits(ctx: RunContext, data: TensorData, dataset: str) -> None:
    """One sample through the model: data of another shape fails here in one line, not deep in a layer."""
    try:
        with torch.inference_mode():
            ctx.model(ctx.plan.precision.input(data.x[:1].to(ctx.device)))
    except RuntimeError as e:
        raise UsageError(f"the model does not take the samples of {dataset!r} (shape "
                         f"{tuple(data.x.shape[1:])}; trained on {ctx.build.input_shape}): "
                         f"{str(e).splitlines()[0]}") from None  # fmt: skip
