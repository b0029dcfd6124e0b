"""Plain tables of run records: printed after a run and written to results/README.md."""

from __future__ import annotations

import json
import statistics
from collections.abc import Sequence
from typing import Any

from cnnbench.machine.ceiling import matmul_peak

COLUMNS = (
    ("task", "task"),
    ("model", "model"),
    ("experiment", "the task's experiment, if the run was one"),
    ("dataset", "data set trained on (-> the one tested on, when different; none: timing only)"),
    ("options", "the task's options of the run (e.g. the text task's word vectors), then --amp / --channels-last"),
    ("profile", "the task's hyper-parameter profile (quick, default, full)"),
    ("device", "device type of the run"),
    ("runs", "records in the row: seeds x cross-validation folds (metrics are their mean ± sample std)"),
    (
        "score",
        "the task's primary metric on the test split, in % (accuracy; go: top-1 move accuracy); "
        "mean ± std over the row's runs",
    ),
    ("by_group", "the primary metric per group of the test set (e.g. per speaker sex), in %, mean over runs"),
    ("params", "trainable and frozen parameters"),
    ("MFLOPs", "forward FLOPs per sample, millions (FlopCounterMode: convolutions and matmuls)"),
    ("trained", "epochs trained (mean over runs), and the time budget when it stopped the training"),
    ("train_s", "training wall time in seconds (mean over runs; includes dev-split scoring where used)"),
    ("fwd_b1_ms", "forward latency at batch 1, median ms"),
    ("fwd_sps", "forward throughput at the throughput batch, samples/s"),
    ("step_sps", "training-step throughput at the throughput batch, samples/s"),
    ("noisy", "phases whose IQR exceeded 10% of the median"),
    ("interfered", "phases during which other processes kept > 0.15 core busy even after re-measuring"),
    (
        "fwd_gflops",
        "achieved GFLOP/s of the forward pass at the throughput batch (% of the machine's matmul ceiling in the "
        "run's precision: bf16 for --amp runs, fp32 otherwise; none for fp32 on CUDA, where cuDNN's convolutions "
        "run in TF32, a ceiling not measured)",
    ),
)


def _rate(v: float) -> str:
    return f"{v:,.0f}" if v >= 100 else f"{v:.3g}"


def largest_batch(phase: dict[str, Any] | None) -> dict[str, Any] | None:
    if not phase:
        return None
    return max(phase.values(), key=lambda s: s["batch"])


def primary_score(record: dict[str, Any]) -> float | None:
    """The task's primary metric on the test split (accuracy for records that do not name one)."""
    m = record["metrics"]
    return m.get(record.get("primary_metric", "accuracy"), m.get("accuracy"))


def speed_words(record: dict[str, Any]) -> list[str]:
    """The run's speed options (--amp, --channels-last, --compile, --nproc, --threads) as short words."""
    prec = (record.get("config") or {}).get("precision") or {}
    words = [f"amp={prec['amp']}"] if prec.get("amp") else []
    words += [w for w in ("channels_last", "compile") if prec.get(w)]
    nproc = (record.get("distributed") or {}).get("world_size") or 1
    threads = (record.get("config") or {}).get("threads")
    return words + ([f"nproc={nproc}"] if nproc > 1 else []) + ([f"threads={threads}"] if threads else [])


def option_words(record: dict[str, Any]) -> list[str]:
    """The task's options, then the run's speed options (--amp, --channels-last, --compile, --nproc) when set."""
    words = [f"{k}={v}" for k, v in sorted((record.get("options") or {}).items()) if v != ""]
    words += speed_words(record)
    return words



def _ceiling_fraction(record: dict[str, Any], gflops: float | None) -> float | None:
    """gflops over the matmul ceiling of the precision the run computed in (None where unknown).

    Computed here rather than read from the record: records made before matmul_peak stored a
    fraction of the fp32 ceiling for every run."""
    amp = ((record.get("config") or {}).get("precision") or {}).get("amp")
    peak = matmul_peak(record.get("ceiling") or {}, amp, (record.get("device") or {}).get("type", "cpu"))
    return gflops / peak if gflops is not None and peak else None


# the profile's fields that change what a run learns: records that differ in one are not averaged together
# (e.g. the same profile with --time-budget 300 and 1200)
TRAINING_FIELDS = ("epochs", "batch_size", "lr", "optimizer", "momentum", "weight_decay", "schedule",
                   "time_budget_s", "train_limit", "test_limit")  # fmt: skip


def training_config(record: dict[str, Any]) -> dict[str, Any]:
    """The record's training hyper-parameters (TRAINING_FIELDS present in its config)."""
    config = record.get("config") or {}
    return {k: config[k] for k in TRAINING_FIELDS if k in config}


def trained_words(group: Sequence[dict[str, Any]]) -> str:
    """Epochs trained (mean over the group) and the time budget when it stopped any of them."""
    runs = [r["training"] for r in group if r.get("training")]
    if not runs:
        return "-"
    epochs = statistics.fmean(t["epochs_run"] for t in runs)
    words = f"{epochs:.3g} ep"
    budget = training_config(group[0]).get("time_budget_s")
    if budget is not None and any(t.get("stopped_by") == "time_budget" for t in runs):
        words += f", {budget:g} s budget"
    return words


def row(record: dict[str, Any]) -> dict[str, str]:
    m = record["metrics"]
    timing = record.get("timing") or {}
    fwd = timing.get("forward", {})
    fwd_b1 = fwd.get("b1")
    fwd_big = largest_batch(fwd)
    step_big = largest_batch(timing.get("train_step"))
    noisy = sorted(f"{p}@{k}" for p, d in timing.items() for k, s in d.items() if s.get("noisy"))
    interfered = sorted(f"{p}@{k}" for p, d in timing.items() for k, s in d.items() if s.get("interfered"))
    gflops = fwd_big.get("gflops") if fwd_big else None
    frac = _ceiling_fraction(record, gflops)
    acc = primary_score(record)
    return {
        "task": record["task"],
        "model": record["model"],
        "experiment": record.get("experiment") or "-",
        "dataset": (record["dataset"]["name"] or "-")
        + (f" -> {record['dataset']['test']}" if record["dataset"].get("test") else ""),
        "options": " ".join(option_words(record)) or "-",
        "profile": record.get("profile") or "-",
        "device": record["device"]["type"],
        "runs": "1",
        "score": f"{100 * acc:.2f}" if acc is not None else "-",
        "by_group": " ".join(
            f"{g}={100 * v:.1f}" for k, d in m.items() if "_by_" in k and isinstance(d, dict) for g, v in d.items()
        )
        or "-",
        "params": f"{m['params']:,}",
        "MFLOPs": f"{m['flops_fwd'] / 1e6:,.2f}",
        "trained": trained_words([record]),
        "train_s": f"{m['train_seconds']:.1f}" if "train_seconds" in m else "-",
        "fwd_b1_ms": f"{fwd_b1['median_ms']:.2f}" if fwd_b1 else "-",
        "fwd_sps": f"{_rate(fwd_big['per_second'])} (b{fwd_big['batch']})" if fwd_big else "-",
        "step_sps": f"{_rate(step_big['per_second'])} (b{step_big['batch']})" if step_big else "-",
        "noisy": ", ".join(noisy) or "-",
        "interfered": ", ".join(interfered) or "-",
        "fwd_gflops": "-" if gflops is None else f"{gflops:.1f}" + (f" ({100 * frac:.0f}%)" if frac else ""),
    }


def group_key(record: dict[str, Any]) -> str:
    """Records that differ only by seed or cross-validation fold (not by training budget) share a key."""
    d = record["dataset"]
    return json.dumps(
        [
            record.get("machine_slug"),
            record["task"],
            record.get("experiment"),
            record["model"],
            d["name"],
            d.get("test"),
            d.get("train_where"),
            d.get("test_where"),
            record["device"]["type"],
            record.get("profile"),
            record.get("options") or {},
            speed_words(record),  # --amp, --channels-last, --compile, --nproc, --threads
            (record.get("config") or {}).get("throughput_batch"),
            training_config(record),
            (d.get("fold") or [None, None])[1],
        ],
        sort_keys=True,
    )


def _mean_std(values: list[float]) -> str:
    pct = [100 * v for v in values]
    return f"{statistics.fmean(pct):.2f} ± {statistics.stdev(pct):.2f}"


def rows(records: Sequence[dict[str, Any]]) -> list[dict[str, str]]:
    """One row per group of records that differ only by seed or fold, in first-seen order."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in records:
        groups.setdefault(group_key(r), []).append(r)
    out = []
    for group in groups.values():
        base = row(next((r for r in group if r.get("timing")), group[0]))
        if len(group) > 1:
            base["runs"] = str(len(group))
            accs = [a for a in map(primary_score, group) if a is not None]
            if len(accs) > 1:
                base["score"] = _mean_std(accs)
            by_group: dict[str, list[float]] = {}
            for r in group:
                for k, d in r["metrics"].items():
                    if "_by_" in k and isinstance(d, dict):
                        for g, v in d.items():
                            by_group.setdefault(g, []).append(v)
            if by_group:
                base["by_group"] = " ".join(f"{g}={100 * statistics.fmean(v):.1f}" for g, v in by_group.items())
            secs = [r["metrics"]["train_seconds"] for r in group if "train_seconds" in r["metrics"]]
            if secs:
                base["train_s"] = f"{statistics.fmean(secs):.1f}"
            base["trained"] = trained_words(group)
        out.append(base)
    return out


def format_run_table(records: Sequence[dict[str, Any]]) -> str:
    """A fixed-width text table, one row per group of records that differ only by seed or fold."""
    rows_ = rows(records)
    keys = [k for k, _ in COLUMNS]
    widths = {k: max(len(k), *(len(r[k]) for r in rows_)) for k in keys} if rows_ else {k: len(k) for k in keys}
    lines = ["  ".join(k.ljust(widths[k]) for k in keys)]
    lines += ["  ".join(r[k].ljust(widths[k]) for k in keys) for r in rows_]
    return "\n".join(lines)


def format_markdown(records: Sequence[dict[str, Any]]) -> str:
    keys = [k for k, _ in COLUMNS]
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(r[k] for k in keys) + " |" for r in rows(records)]
    return "\n".join(lines)
