"""The run record: one typed definition of what a run wrote, its JSON form, and migrations of old versions.

A record is written once by the runner (`Record.to_json`) and read by every table, comparison, plot and
task summary through `read_record` (`Record.from_json`), never as a raw dict. Version 2 is the first typed
schema; version-1 files (the dict literal of the old runner) are migrated on reading, and
`cnnbench migrate` rewrites them in place (as asv migrates its results). Every field has one meaning:
the column README in results/README.md documents what the tables derive from them.
"""

from __future__ import annotations

import dataclasses
import json
import math
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cnnbench.errors import UsageError, reason
from cnnbench.io import atomic_write_text, create_new
from cnnbench.measure.timing import Stats
from cnnbench.spec import Profile

SCHEMA_VERSION = 2
TTA_SUFFIX = "_tta"  # metrics.scores[primary + TTA_SUFFIX]: the primary metric with test-time augmentation
READABLE_VERSIONS = (1, 2)

# primary metric of records written before it was recorded (schema 1 without `primary_metric`): accuracy,
# except in the records that scored top-1 (move prediction), the only other primary metric then
_V1_OTHER_PRIMARY = "top1"


@dataclass(frozen=True)
class SpeedOptions:
    """--amp, --channels-last and --compile of the run (fp32, default layout, eager when unset)."""

    amp: str | None = None
    channels_last: bool = False
    compile: bool = False


@dataclass(frozen=True)
class Config:
    """The profile the run trained and was timed with, after command-line overrides, and how it ran."""

    profile: Profile
    throughput_batch: int
    input_shape: tuple[int, ...]
    precision: SpeedOptions = SpeedOptions()
    threads: int | None = None  # --threads, when given
    # the model whose training FLOPs (in its own epochs, on this run's training data) were this run's budget
    flops_matched_to: str | None = None

    def to_json(self) -> dict[str, Any]:
        out = dataclasses.asdict(self.profile) | {
            "throughput_batch": self.throughput_batch,
            "input_shape": list(self.input_shape),
            "precision": dataclasses.asdict(self.precision),
        }
        optional = {"threads": self.threads, "flops_matched_to": self.flops_matched_to}
        return out | {k: v for k, v in optional.items() if v is not None}

    @classmethod
    def from_json(cls, data: Mapping[str, Any], where: str) -> Config:
        names = {f.name for f in dataclasses.fields(Profile)}
        own = {"throughput_batch", "input_shape", "precision", "threads", "flops_matched_to"}
        _no_unknown(data, names | own, where)
        profile = _build(Profile, {k: v for k, v in data.items() if k in names}, where)
        return _build(cls, {k: v for k, v in data.items() if k in own} | {"profile": profile}, where)


@dataclass(frozen=True)
class Dataset:
    name: str | None  # data set trained on; None: timing only
    source: str | None = None
    test: str | None = None  # data set whose test split was evaluated, when not the training one's
    test_source: str | None = None
    train_where: dict[str, str] = field(default_factory=dict)
    test_where: dict[str, str] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)
    fold: tuple[int, int] | None = None  # (held-out fold, folds) of a cross-validation run


@dataclass(frozen=True)
class Device:
    type: str
    torch_threads: int | None = None
    OMP_NUM_THREADS: str | None = None
    MKL_NUM_THREADS: str | None = None


@dataclass(frozen=True)
class Machine:
    cpu: str
    arch: str
    cores: int
    memory_gb: float
    os: str
    gpu: str | None = None
    gpu_memory_gb: float | None = None


@dataclass(frozen=True)
class Versions:
    python: str
    torch: str
    torchvision: str | None = None
    numpy: str | None = None
    cuda: str | None = None
    cudnn: int | str | None = None


@dataclass(frozen=True)
class Commit:
    sha: str | None
    dirty: bool | None = None


@dataclass(frozen=True)
class Environment:
    """What could disturb a timing: clock, governor, thread settings (timed runs only)."""

    governor: str | None = None
    clock_ghz: float | None = None
    clock_method: str | None = None
    nominal_mhz: float | None = None
    torch_threads: int | None = None
    OMP_NUM_THREADS: str | None = None
    MKL_NUM_THREADS: str | None = None
    OPENBLAS_CORETYPE_set: bool | None = None
    gpu_sharers: dict[str, Any] | None = None
    other_cpu_cores_at_start: float | None = None  # cores other processes kept busy when the run started


@dataclass(frozen=True)
class Ceiling:
    """The machine's measured peaks the run's FLOPs are compared with (timed runs only)."""

    copy_gb_per_s: float
    cached: bool
    matmul_fp32: float | None = None
    matmul_bf16: float | None = None


@dataclass(frozen=True)
class Distributed:
    world_size: int
    backend: str
    launcher: str
    global_batch: int
    per_rank_batch: int  # the largest share of a global batch
    nodes: int


@dataclass(frozen=True)
class Metrics:
    """What was counted and scored. `scores` holds the task's metrics on the test split (its primary
    metric among them); `by_group` the primary metric per value of a test-set attribute (e.g. sex)."""

    params: int
    flops_fwd: int
    macs_fwd: int
    flops_train: int
    params_trainable: int | None = None
    scores: dict[str, float] = field(default_factory=dict)
    by_group: dict[str, dict[str, float]] = field(default_factory=dict)
    eval_seconds: float | None = None
    train_seconds: float | None = None
    train_samples_per_second: float | None = None
    compile_seconds: float | None = None
    graphs_compiled_in_training: int | None = None

    _NAMED = (
        "params", "flops_fwd", "macs_fwd", "flops_train", "params_trainable", "eval_seconds",
        "train_seconds", "train_samples_per_second", "compile_seconds", "graphs_compiled_in_training",
    )  # fmt: skip

    def to_json(self, primary: str) -> dict[str, Any]:
        out: dict[str, Any] = {k: getattr(self, k) for k in self._NAMED if getattr(self, k) is not None}
        out |= self.scores
        out |= {f"{primary}_by_{key}": values for key, values in self.by_group.items()}
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any], primary: str, where: str) -> Metrics:
        named = {k: v for k, v in data.items() if k in cls._NAMED}
        prefix = f"{primary}_by_"
        groups = {k: v for k, v in data.items() if k.startswith(prefix)}
        by_group = {k[len(prefix) :]: _convert(dict[str, float], v, f"{where}.{k}") for k, v in groups.items()}
        scores = {k: _number(float, v, f"{where}.{k}") for k, v in data.items() if k not in named and k not in groups}
        return _build(cls, named | {"scores": scores, "by_group": by_group}, where)


@dataclass(frozen=True)
class CurvePoint:
    """One point of a learning curve: the score after so much training."""

    samples: int
    epochs: float
    flops: float  # training FLOPs spent so far (flops_train x samples)
    seconds: float  # training wall time so far, evaluation excluded
    score: float
    split: str  # the split scored: "test", "dev", or a recorded subset of one


@dataclass(frozen=True)
class TargetTime:
    """What a run took to first reach a target score on its learning curve (None: not reached). tta: judged on
    the score with test-time augmentation, which is scored once, after training: reached or not at the end of
    the run, and then the whole run's samples, FLOPs and training seconds are what it took."""

    score: float
    source: str
    reached: bool
    samples: int | None = None
    epochs: float | None = None
    flops: float | None = None
    seconds: float | None = None
    tta: bool = False


@dataclass(frozen=True)
class Training:
    epochs_run: float  # fractional when a budget cut an epoch short
    steps: int
    samples: int
    train_seconds: float
    samples_per_second: float
    final_loss: float | None
    stopped_by: str  # "epochs" | "samples" | "flops" (machine-independent budgets) | "time_budget" (a wall clock)
    train_samples: int
    test_samples: int
    dev_samples: int | None = None
    best_epoch: float | None = None
    dev_scores: list[float] | None = None
    checkpoint: str | None = None
    planned_steps: int | None = None  # the steps the budget allowed (the schedule's length)
    other_cpu_cores: float | None = None  # cores other processes kept busy during training (machine load)
    eval_seconds: float | None = None  # scoring the curve and the dev split: outside train_seconds
    learning_curve: list[CurvePoint] = field(default_factory=list)
    time_to_target: list[TargetTime] = field(default_factory=list)

    @property
    def cut_by_wall_clock(self) -> bool:
        return self.stopped_by == "time_budget"


@dataclass(frozen=True)
class PhaseStats(Stats):
    """One timed phase at one batch size: the timer's Stats, with the efficiency the runner adds to them."""

    gflops: float | None = None
    ceiling_fraction: float | None = None


Timing = dict[str, dict[str, PhaseStats]]  # phase -> "b<batch>" -> stats


@dataclass(frozen=True)
class Evaluation:
    """A record of `cnnbench eval`: a trained checkpoint scored on data, no training in this run. The record's
    dataset names the data set trained on (name, source) and the one scored (test, test_source); profile, seed,
    options and config are the training run's."""

    checkpoint: str  # the checkpoint's path
    split: str  # "test": the data set's test split as a run scores it; "all": every sample the loader gave
    samples: int  # samples scored
    trained_record: str | None = None  # the training run's record, as the checkpoint names it
    trained_experiment: str | None = None


@dataclass(frozen=True)
class Migration:
    from_version: int
    to_version: int
    by: str  # the cnnbench version that migrated it
    filled: list[str]  # fields the old version lacked, filled in (see MIGRATIONS)


@dataclass(frozen=True)
class Record:
    task: str
    model: str
    experiment: str | None
    primary_metric: str
    dataset: Dataset
    options: dict[str, str]
    profile: str
    config: Config
    seed: int
    device: Device
    machine: Machine
    machine_slug: str
    versions: Versions
    commit: Commit
    started_utc: str
    command: str | None  # the command line; None only in records migrated from a version without it
    metrics: Metrics
    training: Training | None = None
    timing: Timing | None = None
    environment: Environment | None = None
    ceiling: Ceiling | None = None
    distributed: Distributed | None = None
    migrations: list[Migration] = field(default_factory=list)
    # optional, absent from the JSON when None (records of version 2 without them read as before):
    factory: str | None = None  # package.module:function of a model from outside the task
    evaluation: Evaluation | None = None  # a `cnnbench eval` record: where the model came from
    schema_version: int = SCHEMA_VERSION

    # --- derived values every reader needs, defined once ---
    @property
    def score(self) -> float | None:
        """The task's primary metric on the test split."""
        return self.metrics.scores.get(self.primary_metric)

    @property
    def score_tta(self) -> float | None:
        """The primary metric on the test split with test-time augmentation (None: not scored)."""
        return self.metrics.scores.get(self.primary_metric + TTA_SUFFIX)

    @property
    def world_size(self) -> int:
        return self.distributed.world_size if self.distributed else 1

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"schema_version": self.schema_version}
        for f in dataclasses.fields(self):
            if f.name == "schema_version":
                continue
            value = getattr(self, f.name)
            if f.name == "config":
                value = self.config.to_json()
            elif f.name == "metrics":
                value = self.metrics.to_json(self.primary_metric)
            elif f.name in ("distributed", "migrations", "factory", "evaluation") and not value:
                continue
            else:
                value = plain(value)
            out[f.name] = value
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any], where: str = "record") -> Record:
        """A record from its JSON form, migrating older schema versions; UsageError names the bad field."""
        if not isinstance(data, Mapping):
            raise UsageError(f"{where}: a run record must be a JSON object")
        version = data.get("schema_version")
        if version not in READABLE_VERSIONS:
            raise UsageError(
                f"{where}: unsupported schema_version {version!r} (this cnnbench reads {READABLE_VERSIONS})"
            )
        data = dict(data)
        while data["schema_version"] != SCHEMA_VERSION:
            data = MIGRATIONS[data["schema_version"]](data)
        _no_unknown(data, {f.name for f in dataclasses.fields(cls)}, where)
        for key in ("task", "model", "metrics", "dataset", "config", "machine", "versions", "commit"):
            if data.get(key) is None:
                raise UsageError(f"{where}: run record lacks {key}")
        primary = data.get("primary_metric")
        if not isinstance(primary, str):
            raise UsageError(f"{where}: primary_metric must be a string, got {primary!r}")
        if not isinstance(data["metrics"], Mapping):
            raise UsageError(f"{where}.metrics: must be an object")
        if not isinstance(data["config"], Mapping):
            raise UsageError(f"{where}.config: must be an object")
        fields = dict(data)
        fields["config"] = Config.from_json(data["config"], f"{where}.config")
        fields["metrics"] = Metrics.from_json(data["metrics"], primary, f"{where}.metrics")
        return _build(cls, fields, where)


def _migrate_1_to_2(data: dict[str, Any]) -> dict[str, Any]:
    """Version 1 was the runner's dict literal, which grew fields without a version change: older files
    lack primary_metric, options and command. Fill them with what those runs had (their task's primary
    metric: top1 where the metrics hold it, accuracy otherwise; no options recorded; command unknown) and
    note what was filled."""
    filled = []
    out = dict(data)
    if "primary_metric" not in out:
        metrics = out.get("metrics") if isinstance(out.get("metrics"), Mapping) else {}
        out["primary_metric"] = _V1_OTHER_PRIMARY if _V1_OTHER_PRIMARY in metrics else "accuracy"
        filled.append("primary_metric")
    if "options" not in out:
        out["options"] = {}
        filled.append("options")
    if "command" not in out:
        out["command"] = None
        filled.append("command")
    if isinstance(out.get("dataset"), Mapping) and out["dataset"].get("fold") is not None:
        out["dataset"] = dict(out["dataset"], fold=tuple(out["dataset"]["fold"]))
    from cnnbench import __version__

    migration = {"from_version": 1, "to_version": 2, "by": f"cnnbench {__version__}", "filled": filled}
    out["migrations"] = [*out.get("migrations", []), migration]
    out["schema_version"] = 2
    return out


MIGRATIONS = {1: _migrate_1_to_2}


# --- a small typed reader: dataclasses from JSON objects, with the bad field named ---


def _no_unknown(data: Mapping[str, Any], known: set[str], where: str) -> None:
    unknown = sorted(set(data) - known)
    if unknown:
        raise UsageError(f"{where}: unknown field {unknown[0]!r} (a record of a newer cnnbench?)")


def _build(cls: type, data: Any, where: str) -> Any:
    if isinstance(data, cls):
        return data
    if not isinstance(data, Mapping):
        raise UsageError(f"{where}: expected an object, got {type(data).__name__}")
    _no_unknown(data, {f.name for f in dataclasses.fields(cls)}, where)
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for f in dataclasses.fields(cls):
        if f.name not in data:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise UsageError(f"{where}: lacks {f.name}")
            continue
        kwargs[f.name] = _convert(hints[f.name], data[f.name], f"{where}.{f.name}")
    return cls(**kwargs)


def _convert(hint: Any, value: Any, where: str) -> Any:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _convert(inner[0], value, where) if len(inner) == 1 else value
    if dataclasses.is_dataclass(hint):
        return _build(hint, value, where)
    if origin is list:
        if not isinstance(value, list):
            raise UsageError(f"{where}: expected a list, got {type(value).__name__}")
        return [_convert(args[0], v, f"{where}[{i}]") for i, v in enumerate(value)] if args else value
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise UsageError(f"{where}: expected a list, got {type(value).__name__}")
        kinds = [args[0]] * len(value) if len(args) == 2 and args[1] is Ellipsis else list(args)
        if len(kinds) != len(value):
            raise UsageError(f"{where}: expected a list of {len(kinds)} values, got {len(value)}")
        return tuple(_convert(k, v, f"{where}[{i}]") for i, (k, v) in enumerate(zip(kinds, value, strict=True)))
    if origin is dict:
        if not isinstance(value, Mapping):
            raise UsageError(f"{where}: expected an object, got {type(value).__name__}")
        return {k: _convert(args[1], v, f"{where}.{k}") for k, v in value.items()} if args else dict(value)
    if hint in (int, float):
        return _number(hint, value, where)
    if hint is str and not isinstance(value, str):
        raise UsageError(f"{where}: expected a string, got {value!r}")
    if hint is bool and not isinstance(value, bool):
        raise UsageError(f"{where}: expected true or false, got {value!r}")
    return value


MAX_INT = 2**63  # JSON readers elsewhere take integers as 64-bit; larger ones overflow floats in the tables


def _number(hint: type, value: Any, where: str) -> int | float:
    """A finite number (a record is written without NaN or infinities); an int field takes a whole number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UsageError(f"{where}: expected a number, got {_shown(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise UsageError(f"{where}: expected a finite number, got {value!r}")
    if isinstance(value, int) and abs(value) >= MAX_INT:
        raise UsageError(f"{where}: {_shown(value)} is out of range (a record's integers are below 2^63)")
    if hint is int:
        if isinstance(value, float) and not value.is_integer():
            raise UsageError(f"{where}: expected a whole number, got {value!r}")
        return int(value)
    return value


def _shown(value: Any) -> str:
    """A value for a message: short, on one line."""
    text = json.dumps(value) if isinstance(value, (str, list, dict)) or value is None else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def plain(value: Any) -> Any:
    """JSON-ready form of a record part: dataclasses as objects, tuples as lists."""
    if dataclasses.is_dataclass(value):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


# --- files ---


def record_text(record: Record) -> str:
    return json.dumps(record.to_json(), indent=2, sort_keys=False, allow_nan=False) + "\n"


def write_record(record: Record, path: Path) -> Path:
    """Serialise first (so an unserialisable record fails before any file exists), then write atomically."""
    text = record_text(record)
    atomic_write_text(path, text)
    return path


def create_record(record: Record, folder: Path, stem: str, prepare: Callable[[Path], None] | None = None) -> Path:
    """Write a new record as folder/stem.json, or stem-2.json, ... : never over another record, and never a
    partial or empty file at the name, even when the process is killed (cnnbench.io.create_new); two runs
    started in the same second get two files. `prepare(path)` runs before the record appears at path."""
    text = record_text(record)
    names = (folder / (f"{stem}.json" if n == 1 else f"{stem}-{n}.json") for n in range(1, 10_000))
    path = create_new(names, text, prepare)
    if path is None:
        raise UsageError(f"{folder}: 10,000 records named {stem}*.json already exist")
    return path


def read_record(path: Path) -> Record:
    """Load a record (migrating an old schema version), rejecting unreadable files with a clear message."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{path}: no such record file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise UsageError(f"{path}: not a readable JSON run record ({reason(e)})") from None
    return parse_record(text, str(path))


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number (a record holds finite numbers only)")


def parse_record(text: str, where: str) -> Record:
    """A record from its JSON text; NaN and Infinity, which Python's json reads but a record never holds
    (it is written with allow_nan=False), are refused."""
    try:
        data = json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError) as e:  # JSONDecodeError is a ValueError
        raise UsageError(f"{where}: not a readable JSON run record ({reason(e)})") from None
    return Record.from_json(data, where)


def read_records(folder: Path) -> list[tuple[Path, Record]]:
    """Every record under a folder, sorted by path."""
    return [(p, read_record(p)) for p in sorted(Path(folder).rglob("*.json"))]


def migrate_file(path: Path, dry_run: bool = False) -> bool:
    """Rewrite one record file at the current schema version (unless dry_run); True when it changes."""
    record = read_record(path)
    text = record_text(record)
    if Path(path).read_text(encoding="utf-8") == text:
        return False
    if not dry_run:
        atomic_write_text(Path(path), text)
    return True


# --- the one definition of "the same configuration" ---

# the profile's fields that change what a run learns: records that differ in one are not the same
# configuration (e.g. the same profile with --time-budget 300 and 1200)
TRAINING_FIELDS = ("epochs", "batch_size", "lr", "optimizer", "momentum", "weight_decay", "schedule",
                   "max_samples", "train_flops", "time_budget_s", "train_limit", "test_limit")  # fmt: skip
# fields added to the profile after records were published: in the key only when not at their default (what
# every older record had), so the keys of older records stay as they were
LATER_TRAINING_FIELDS = ("nesterov", "lr_points", "label_smoothing", "augment", "lookahead")


def training_config(record: Record) -> dict[str, Any]:
    """The record's training hyper-parameters (TRAINING_FIELDS of its profile), as asked: under a compute
    budget the epochs and samples it took follow from the split's size (which may vary with the seed), and a
    matched budget from the reference model, so those are left out and the budget (or the match) kept."""
    profile = record.config.profile
    out = {k: getattr(profile, k) for k in TRAINING_FIELDS}
    defaults = {f.name: f.default for f in dataclasses.fields(Profile)}
    out |= {k: plain(getattr(profile, k)) for k in LATER_TRAINING_FIELDS if getattr(profile, k) != defaults[k]}
    if profile.train_flops is not None:
        del out["epochs"], out["max_samples"]
        if record.config.flops_matched_to is not None:
            out["train_flops"] = f"matched to {record.config.flops_matched_to}"
    return out


def speed_words(record: Record) -> list[str]:
    """The run's speed options (--amp, --channels-last, --compile, --nproc, --threads) as short words."""
    prec = record.config.precision
    words = [f"amp={prec.amp}"] if prec.amp else []
    words += [w for w in ("channels_last", "compile") if getattr(prec, w)]
    words += [f"nproc={record.world_size}"] if record.world_size > 1 else []
    return words + ([f"threads={record.config.threads}"] if record.config.threads else [])


def config_key(record: Record, *, machine: bool = True, speed: bool = True) -> str:
    """Records with the same key are the same configuration and differ only by seed or cross-validation
    fold: the tables average them, `compare` pairs them (by seed and fold too), and the speed-option table
    pairs a run with its plain twin (speed=False). machine=False lines up runs of different machines."""
    d = record.dataset
    parts = [
        record.machine_slug if machine else None,
        record.task,
        record.experiment,
        record.model,
        d.name,
        d.test,
        d.train_where,
        d.test_where,
        record.device.type,
        record.profile,
        record.options,
        speed_words(record) if speed else None,
        record.config.throughput_batch,
        training_config(record),
        d.fold[1] if d.fold else None,
    ]
    if record.evaluation is not None:  # scores of a checkpoint are not runs of its training configuration
        parts.append({"evaluation": record.evaluation.split})
    return json.dumps(parts, sort_keys=True)


def run_key(record: Record, *, machine: bool = True, speed: bool = True) -> str:
    """config_key plus the seed and the fold: one run of a configuration."""
    fold = record.dataset.fold
    return json.dumps([config_key(record, machine=machine, speed=speed), record.seed, fold[0] if fold else None])
