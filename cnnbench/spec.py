"""The task interface every modality plugin implements, and the small value types it uses."""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

from cnnbench.data.stream import StreamedInputs
from cnnbench.errors import UsageError

if TYPE_CHECKING:
    from cnnbench.explain.render import Renderer
    from cnnbench.results.record import Record  # the record imports Profile from here

PROFILES = ("quick", "default", "full")
SCHEDULES = ("cosine", "constant", "step", "linear")
PAD_MODES = ("zeros", "reflect")


@dataclass(frozen=True)
class Augment:
    """Data augmentation of a run: random transforms of every training batch, made on the device where the batch
    lives from a generator seeded by the run's seed (two runs of one seed see the same batches), and test-time
    views. What each transform means for a sample is the task's (`Task.augmentation`); the words below are the
    spatial ones of the modules in cnnbench.data.augment. Never applied to test data, except as the separately
    reported test-time score (tta)."""

    flip: bool = False  # mirror the last axis, each sample with probability 1/2
    translate: int = 0  # shift by up to this many places along each of the last two axes (pad, then crop)
    pad: str = "zeros"  # what the shift uncovers: "zeros" (the mean of normalised data) or "reflect"
    cutout: int = 0  # zero a square of this side at a random centre in each sample (DeVries & Taylor 2017)
    # also score the test split on the average of the logits over the views of these transforms (a mirror; shifts
    # by one place): recorded as the primary metric with the suffix "_tta", beside the plain score
    tta: bool = False

    @property
    def active(self) -> bool:
        """True when training batches are transformed."""
        return self.flip or self.translate > 0 or self.cutout > 0

    def words(self) -> str:
        """A short description, e.g. 'flip translate=4 tta'; 'none' when nothing is asked."""
        parts = []
        if self.flip:
            parts.append("flip")
        if self.translate:
            parts.append(f"translate={self.translate}" + ("" if self.pad == "zeros" else f" pad={self.pad}"))
        if self.cutout:
            parts.append(f"cutout={self.cutout}")
        if self.tta:
            parts.append("tta")
        return " ".join(parts) or "none"


NO_AUGMENT = Augment()


@dataclass(frozen=True)
class Profile:
    """Hyper-parameters and budgets of one run profile; every task gives one per name in PROFILES."""

    epochs: int
    batch_size: int
    lr: float
    optimizer: str = "adam"  # "adam" | "sgd"
    momentum: float = 0.9
    weight_decay: float = 0.0
    nesterov: bool = True  # Nesterov momentum for sgd (momentum > 0); False: the heavy ball (He et al. 2016)
    # the learning rate over training, a factor of lr: "cosine" (to 0), "constant", "step" (lr_points: from each
    # fraction of the planned steps on, its factor) or "linear" (through the lr_points (fraction, factor),
    # straight lines between them, flat beyond)
    schedule: str = "cosine"
    lr_points: tuple[tuple[float, float], ...] = ()
    label_smoothing: float = 0.0  # of the training loss's targets (Szegedy et al. 2016); never of the scores
    # Lookahead (Zhang et al. 2019) as Jordan 2024 uses it: every `lookahead` steps the weights (and every float
    # buffer) move to an average of themselves that decays 0.95^k x (step / planned steps)^3, and training ends
    # on the average; 0: off
    lookahead: int = 0
    augment: Augment = NO_AUGMENT
    # a machine-independent cap on training: stop after this many samples (the schedule is sized from it)
    max_samples: int | None = None
    # a compute budget: train for this many training FLOPs (counted per sample: forward + backward), the
    # epochs and max_samples then follow from the model's cost; set by --train-flops or an experiment's
    # match_flops_of, so models of different cost can be compared at equal compute
    train_flops: float | None = None
    # wall clock: only when the user asks (--time-budget); the record, tables and summaries say so
    time_budget_s: float | None = None  # stop training when exceeded (checked per batch)
    train_limit: int | None = None  # use only the first N training samples (after a seeded shuffle)
    test_limit: int | None = None
    timing_min_runs: int = 10
    timing_min_time_s: float = 0.5
    timing_max_time_s: float = 20.0
    timing_warmup: int = 3
    seeds: int = 1  # runs per configuration (seed, seed + 1, ...) unless --seeds says otherwise
    curve_points: int = 10  # learning-curve points: the score at evenly spaced steps of training
    curve_limit: int | None = None  # test samples scored at each curve point (a seeded subset; None: all)

    def __post_init__(self) -> None:
        # from JSON or a checkpoint (dataclasses.asdict): the augment spec as a dict, the points as lists
        if isinstance(self.augment, Mapping):
            object.__setattr__(self, "augment", Augment(**self.augment))
        if not isinstance(self.lr_points, tuple) or any(not isinstance(p, tuple) for p in self.lr_points):
            object.__setattr__(self, "lr_points", tuple(tuple(p) for p in self.lr_points))

    def replace(self, **changes: Any) -> Profile:
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})


@dataclass(frozen=True)
class TaskOption:
    """A named setting of a task that is neither a model nor a data set, e.g. a choice of word vectors.

    check returns an error message for a bad value, or None when the value is good. changes_results: False
    for an option that only says how the work is done (e.g. how many processes decode the data) and cannot
    change a score; such options are not part of a record's options (nor of its configuration key), the
    record says what they did where it matters (e.g. the data set's notes).
    """

    name: str
    description: str
    default: str
    check: Callable[[str], str | None] = lambda value: None
    changes_results: bool = True


def positive_int(value: str) -> str | None:
    """A TaskOption check: a positive integer."""
    return int_at_least(1)(value)


def int_at_least(low: int) -> Callable[[str], str | None]:
    """A TaskOption check: an integer >= low."""
    what = "a positive integer" if low == 1 else f"an integer >= {low}"
    return lambda value: None if value.isdigit() and int(value) >= low else f"{what} is expected"


def one_of(*values: str) -> Callable[[str], str | None]:
    """A TaskOption check: one of the given values."""
    return lambda value: None if value in values else f"one of {', '.join(values)} is expected"


def file_or_empty(value: str) -> str | None:
    """A TaskOption check: empty (not set) or an existing file."""
    return None if value == "" or Path(value).is_file() else "not an existing file"


@dataclass(frozen=True)
class Target:
    """A score of the primary metric on a data set's test split that a run may reach, with its source
    (e.g. MNIST 99%, the lecture's; CIFAR-10 94%, DAWNBench's). Records carry the samples, training
    FLOPs and seconds each target took, or that it was not reached."""

    dataset: str
    score: float
    source: str


@dataclass(frozen=True)
class DataSpec:
    """A data set a task offers, by name."""

    name: str
    description: str
    needs_dir: bool = False  # True when there is no default source and --data-dir is required
    # True when the loader draws its train/test split from DataRequest.seed (e.g. which speakers are held
    # out): every seed of a multi-seed run then gets its own split, so intervals include split variance
    split_follows_seed: bool = False


@dataclass(frozen=True)
class DataExtra:
    """What a data set gives a task's models and preprocessing beside its tensors, made from the training split
    only: a vocabulary and its word vectors, a normaliser's statistics. A task subclasses it as a frozen
    dataclass (its `data_type`) whose fields are tensors or plain values (str, int, float, bool, None, and
    tuples, lists and dicts of them), so a checkpoint carries it and `torch.load(weights_only=True)` reads it
    back: a trained model is always evaluated with the preprocessing it was trained with."""

    def state(self) -> dict[str, Any]:
        """The fields by name: what a checkpoint stores (`Task.data_type(**state)` rebuilds it)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


@dataclass(frozen=True)
class BuildContext:
    """Everything a model is built from, and all a model factory is given: `factory(ctx) -> nn.Module`.

    options are the task's options with defaults filled in (e.g. text: kmax_k; go: features, filters);
    data is the task's DataExtra from the training data (e.g. text: the vocabulary and its vectors), None
    when the model is built without data (timing only, `cnnbench summary`)."""

    task: str
    num_classes: int
    input_shape: tuple[int, ...]  # one sample, without the batch dimension
    options: Mapping[str, str] = field(default_factory=dict)
    data: DataExtra | None = None


ModelFactory = Callable[[BuildContext], nn.Module]


class Augmentation(ABC):
    """A task's augmentation of batches (N, ...) on their device, from a profile's Augment spec."""

    @abstractmethod
    def train(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """A randomly transformed training batch of the same shape and dtype; all draws from generator (on x's
        device), batched: no per-sample Python."""

    @abstractmethod
    def views(self, x: torch.Tensor) -> list[tuple[float, torch.Tensor]]:
        """Test-time views of a batch with their weights (summing to 1): the model's logits are averaged over
        them for the `_tta` score."""


@dataclass(frozen=True)
class ModelSpec:
    """A model a task offers: a builder plus the shapes the timer needs."""

    name: str
    builder: ModelFactory
    description: str
    input_shape: tuple[int, ...]  # one sample, without the batch dimension
    num_classes: int = 10
    throughput_batch: int = 256  # batch for the throughput timing
    default_dataset: str | None = None  # None: timing only unless a data set is named
    datasets: tuple[str, ...] = ()  # data sets it can train on; () means any of the task's
    profile_overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # per profile name
    # device types where channels_last is this model's default layout (where it was measured to win);
    # --channels-last / --no-channels-last override it
    channels_last_on: tuple[str, ...] = ()
    factory: str | None = None  # "package.module:function" of a model from outside the task (None: the task's own)


@dataclass
class TensorData:
    """One split, ready for the training loop: inputs and integer labels as tensors.

    x is a tensor, or for a data set larger than memory a StreamedInputs (cnnbench.data.stream): read in
    batches by worker processes, the labels and groups in memory all the same.
    groups holds per-sample string attributes (e.g. a speaker's sex) that experiments filter on.
    """

    x: torch.Tensor | StreamedInputs
    y: torch.Tensor
    num_classes: int
    source: str  # where the data came from, recorded in the run record
    groups: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.x) != len(self.y):
            raise ValueError(f"{len(self.x)} inputs but {len(self.y)} labels")
        for key, values in self.groups.items():
            if len(values) != len(self.y):
                raise ValueError(f"group {key!r} has {len(values)} values for {len(self.y)} samples")

    def __len__(self) -> int:
        return len(self.y)

    def to(self, device: torch.device) -> TensorData:
        return dataclasses.replace(self, x=self.x.to(device), y=self.y.to(device))

    def select(self, idx: torch.Tensor | np.ndarray) -> TensorData:
        """The samples at the given indices, groups included."""
        idx_np = np.asarray(idx.cpu() if isinstance(idx, torch.Tensor) else idx, dtype=np.int64)
        x = (
            self.x.subset(idx_np)
            if isinstance(self.x, StreamedInputs)
            else self.x[torch.from_numpy(idx_np).to(self.x.device)]
        )
        y = self.y[torch.from_numpy(idx_np).to(self.y.device)]
        return dataclasses.replace(self, x=x, y=y, groups={k: v[idx_np] for k, v in self.groups.items()})

    def take(self, n: int | None, seed: int) -> TensorData:
        """A seeded random subset of n samples (all when n is None or >= len)."""
        if n is None or n >= len(self):
            return self
        return self.select(torch.randperm(len(self), generator=torch.Generator().manual_seed(seed))[:n])

    @classmethod
    def concat(cls, parts: list[TensorData]) -> TensorData:
        """The samples of several splits of one data set, in order (their groups too)."""
        if any(isinstance(p.x, StreamedInputs) for p in parts):
            raise UsageError(f"{parts[0].source}: streamed splits cannot be joined; raise the memory cap to load them")
        groups = {k: np.concatenate([p.groups[k] for p in parts]) for k in parts[0].groups}
        return cls(torch.cat([p.x for p in parts]), torch.cat([p.y for p in parts]), parts[0].num_classes,
                   " + ".join(p.source for p in parts), groups)  # fmt: skip

    def where(self, conditions: Mapping[str, str]) -> TensorData:
        """The samples whose groups match every key=value condition."""
        mask = np.ones(len(self), dtype=bool)
        for key, value in conditions.items():
            if key not in self.groups:
                raise UsageError(f"data from {self.source} has no attribute {key!r}; it has: {sorted(self.groups)}")
            mask &= self.groups[key] == value
        return self.select(np.flatnonzero(mask))


@dataclass(frozen=True)
class DataRequest:
    """What the user asked for: a data set name, an optional directory and the cache root."""

    dataset: str
    data_dir: Path | None
    cache_dir: Path
    input_shape: tuple[int, ...]
    seed: int = 0
    device: torch.device = torch.device("cpu")  # where feature extraction may run
    progress: bool = True
    profile: str = "default"  # generated data sets may size themselves by profile
    options: Mapping[str, str] = field(default_factory=dict)  # the task's options, defaults filled in
    fold: tuple[int, int] | None = None  # (index, count): cross-validation fold to hold out as test
    # the training data's DataExtra when this data set is only tested on (another data set's test split, or
    # `cnnbench eval` of a checkpoint): the loader encodes with it (e.g. its vocabulary) instead of making its own
    fitted: DataExtra | None = None


@dataclass(frozen=True)
class Experiment:
    """A named train/test pairing a task runs by default, e.g. train on male voices, test on female."""

    name: str
    description: str
    train: str  # data set to train on
    test: str | None = None  # data set whose test split is evaluated (default: train's)
    train_where: Mapping[str, str] = field(default_factory=dict)
    test_where: Mapping[str, str] = field(default_factory=dict)
    models: tuple[str, ...] | None = None  # None: the task's default models
    # compare at equal compute: every model trains for the training FLOPs this model spends in its epochs
    # (on the same training split), so a cheaper model trains more epochs; None: every model gets its epochs
    match_flops_of: str | None = None
    timed: bool = True  # time the models' kernels in this experiment (once per model is enough)
    options: Mapping[str, str] = field(default_factory=dict)  # task options set for this experiment
    # False: run only when named (--experiment), e.g. a family of controlled experiments too long for the
    # task's default run
    default: bool = True
    # per profile name, the experiment's own training budget (e.g. fewer samples for a ladder of many
    # models); the model's overrides apply first, the command line's (--epochs, ...) last
    profile_overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


@dataclass
class Splits:
    """A data set ready to run: train and test, an optional dev split for model selection.

    notes go into the run record; data is what the task's models and preprocessing take from the training
    split (the task's DataExtra, e.g. a vocabulary and its word vectors), not recorded but kept in checkpoints.
    """

    train: TensorData
    test: TensorData
    notes: dict[str, Any] = field(default_factory=dict)
    dev: TensorData | None = None
    data: DataExtra | None = None


class Task(ABC):
    """One modality: its data sets, models, loss, metrics and profile defaults."""

    name: str
    modality: str
    datasets: Mapping[str, DataSpec]
    models: Mapping[str, ModelSpec]
    default_models: tuple[str, ...]
    primary_metric: str = "accuracy"
    profiles: Mapping[str, Profile]
    report_groups: tuple[str, ...] = ()  # test-set attributes to break the primary metric down by
    options: Mapping[str, TaskOption] = {}
    supports_cv: bool = False  # load() honours DataRequest.fold
    targets: tuple[Target, ...] = ()  # time to target is recorded for each that fits a run's test data
    data_type: type[DataExtra] | None = None  # the DataExtra its loader and fit() make (None: none)

    @abstractmethod
    def load(self, request: DataRequest) -> Splits:
        """Build the train and test splits of a data set as tensors."""

    def test_variants(self, test: TensorData, options: Mapping[str, str]) -> dict[str, dict[str, TensorData]]:
        """Transformed copies of the (normalised) test split to score the trained model on as well, by group
        and value, e.g. {"shift": {"0": test, "2": test shifted by 2 pixels}}: recorded beside the report
        groups in the record's by_group. None by default; a task's options may ask for them."""
        return {}

    def input_shape(self, model: str, options: Mapping[str, str]) -> tuple[int, ...]:
        """One sample's shape for a model under the task's (resolved) options, without data; default: the spec's."""
        return self.model_spec(model).input_shape

    def context(
        self, model: str, options: Mapping[str, str] | None = None, splits: Splits | None = None
    ) -> BuildContext:
        """What a model is built from: sized for the data (its training split's classes and sample shape, its
        DataExtra) or, without data, for the spec and the options. options are resolved already (default: the
        task's defaults)."""
        options = dict(options) if options is not None else self.resolve_options({})
        if splits is None:
            spec = self.model_spec(model)
            return BuildContext(self.name, spec.num_classes, self.input_shape(model, options), options)
        train = splits.train
        return BuildContext(self.name, train.num_classes, tuple(train.x.shape[1:]), options, splits.data)

    def build(self, model: str, ctx: BuildContext | None = None) -> nn.Module:
        """The model, built from its context (default: without data, the task's default options)."""
        ctx = ctx or self.context(model)
        spec = self.model_spec(model)
        module = spec.builder(ctx)
        if not isinstance(module, nn.Module):
            raise UsageError(f"model {model!r} of task {self.name!r}: its factory returned a {type(module).__name__}, "
                             "not a torch.nn.Module")  # fmt: skip
        return module

    def example_input(self, model: str, batch: int, ctx: BuildContext | None = None) -> torch.Tensor:
        """A random batch for counting and timing, shaped as the context says (default: the model's without data)."""
        ctx = ctx or self.context(model)
        return torch.randn(batch, *ctx.input_shape)

    def loss(self, logits: torch.Tensor, target: torch.Tensor, label_smoothing: float = 0.0) -> torch.Tensor:
        """The training loss; label_smoothing is the profile's (0 for timing)."""
        return nn.functional.cross_entropy(logits, target, label_smoothing=label_smoothing)

    def augmentation(self, augment: Augment) -> Augmentation | None:
        """The batch transforms that carry out a profile's augment spec on this task's samples; None when the spec
        asks for nothing. A spec the task cannot carry out is a UsageError (checked when runs are planned).
        Default: the task has no augmentation."""
        if augment.active or augment.tta:
            raise UsageError(f"task {self.name!r} has no data augmentation (the profile asks for {augment.words()})")
        return None

    def evaluate(self, logits: torch.Tensor, target: torch.Tensor) -> dict[str, float]:
        """Metrics over a whole split from its logits; must include primary_metric."""
        return {"accuracy": (logits.argmax(1) == target).float().mean().item()}

    def fit(self, train: TensorData, data: DataExtra | None) -> DataExtra | None:
        """What is fitted on the (filtered, limited) training split only, e.g. a normaliser, added to the loader's
        DataExtra; the result is the run's, kept in its checkpoint. Default: the loader's as it is."""
        return data

    def preprocess(self, split: TensorData, data: DataExtra | None) -> TensorData:
        """A split as the model sees it, with what fit() made (e.g. normalised); the same for training,
        testing and `cnnbench eval`. Default: as loaded."""
        return split

    def renderer(self) -> Renderer | None:
        """How `cnnbench explain` draws this task's inputs and explanations (a cnnbench.explain.render.Renderer);
        None: as images (the core's default)."""
        return None

    def summarize(self, records: list[Record]) -> list[str]:
        """Sentences on what a set of this task's records shows (computed from them); default none."""
        return []

    def experiments(self) -> list[Experiment]:
        """The task's default experiments; empty means: train and test on each model's own data set."""
        return []

    def resolve_options(self, given: Mapping[str, str]) -> dict[str, str]:
        """Every option of the task, given values checked and defaults filled in."""
        for name, value in given.items():
            option: TaskOption = _lookup(self.options, name, f"option of task {self.name!r}")
            problem = option.check(value)
            if problem:
                raise UsageError(f"option {name}={value!r} of task {self.name!r}: {problem}")
        return {name: given.get(name, option.default) for name, option in self.options.items()}

    def model_spec(self, model: str) -> ModelSpec:
        """The task's own model, or one from outside it: a `cnnbench.models` entry point or package.module:factory."""
        if model in self.models:
            return self.models[model]
        from cnnbench.registry import user_model  # the registry imports this module: resolved on first use

        return user_model(self, model)

    def user_model_spec(self, name: str, factory: ModelFactory, reference: str, description: str) -> ModelSpec:
        """A model from outside the task, sized like its first default model (data set, input shape, classes,
        throughput batch); it may train on any of the task's data sets."""
        like = self.model_spec(self.default_models[0])
        return ModelSpec(name, factory, description, like.input_shape, like.num_classes, like.throughput_batch,
                         like.default_dataset, factory=reference)  # fmt: skip

    def data_spec(self, dataset: str) -> DataSpec:
        return _lookup(self.datasets, dataset, f"data set of task {self.name!r}")

    def profile(self, name: str, model: str | None = None) -> Profile:
        """A profile's defaults, with the model's own overrides for it when a model is given."""
        base: Profile = _lookup(self.profiles, name, f"profile of task {self.name!r}")
        if model is None:
            return base
        return dataclasses.replace(base, **self.model_spec(model).profile_overrides.get(name, {}))


def _lookup(table: Mapping[str, Any], name: str, what: str) -> Any:
    try:
        return table[name]
    except KeyError:
        raise UsageError(f"unknown {what}: {name!r}; valid: {', '.join(sorted(table)) or '(none)'}") from None
