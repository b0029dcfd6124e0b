"""Plain tables of run records: printed after a run and written to results/README.md."""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from cnnbench.machine.ceiling import matmul_peak
from cnnbench.results.record import PhaseStats, Record, config_key, speed_words

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


def largest_batch(phase: dict[str, PhaseStats] | None) -> PhaseStats | None:
    if not phase:
        return None
    return max(phase.values(), key=lambda s: s.batch)


def option_words(record: Record) -> list[str]:
    """The task's options, then the run's speed options (--amp, --channels-last, --compile, --nproc) when set."""
    words = [f"{k}={v}" for k, v in sorted(record.options.items()) if v != ""]
    words += speed_words(record)
    return words


def _ceiling_fraction(record: Record, gflops: float | None) -> float | None:
    """gflops over the matmul ceiling of the precision the run computed in (None where unknown).

    Computed here rather than read from the record: records made before matmul_peak stored a
    fraction of the fp32 ceiling for every run."""
    c = record.ceiling
    peaks = {} if c is None else {"matmul_fp32": c.matmul_fp32, "matmul_bf16": c.matmul_bf16}
    peak = matmul_peak(peaks, record.config.precision.amp, record.device.type)
    return gflops / peak if gflops is not None and peak else None


def trained_words(group: Sequence[Record]) -> str:
    """Epochs trained (mean over the group) and the time budget when it stopped any of them."""
    runs = [r.training for r in group if r.training]
    if not runs:
        return "-"
    epochs = statistics.fmean(t.epochs_run for t in runs)
    words = f"{epochs:.3g} ep"
    budget = group[0].config.profile.time_budget_s
    if budget is not None and any(t.stopped_by == "time_budget" for t in runs):
        words += f", {budget:g} s budget"
    return words


def _by_group_words(record: Record) -> str:
    return " ".join(f"{g}={100 * v:.1f}" for d in record.metrics.by_group.values() for g, v in d.items())


def row(record: Record) -> dict[str, str]:
    m = record.metrics
    timing = record.timing or {}
    fwd = timing.get("forward", {})
    fwd_b1 = fwd.get("b1")
    fwd_big = largest_batch(fwd)
    step_big = largest_batch(timing.get("train_step"))
    noisy = sorted(f"{p}@{k}" for p, d in timing.items() for k, s in d.items() if s.noisy)
    interfered = sorted(f"{p}@{k}" for p, d in timing.items() for k, s in d.items() if s.interfered)
    gflops = fwd_big.gflops if fwd_big else None
    frac = _ceiling_fraction(record, gflops)
    acc = record.score
    return {
        "task": record.task,
        "model": record.model,
        "experiment": record.experiment or "-",
        "dataset": (record.dataset.name or "-") + (f" -> {record.dataset.test}" if record.dataset.test else ""),
        "options": " ".join(option_words(record)) or "-",
        "profile": record.profile or "-",
        "device": record.device.type,
        "runs": "1",
        "score": f"{100 * acc:.2f}" if acc is not None else "-",
        "by_group": _by_group_words(record) or "-",
        "params": f"{m.params:,}",
        "MFLOPs": f"{m.flops_fwd / 1e6:,.2f}",
        "trained": trained_words([record]),
        "train_s": f"{m.train_seconds:.1f}" if m.train_seconds is not None else "-",
        "fwd_b1_ms": f"{fwd_b1.median_ms:.2f}" if fwd_b1 else "-",
        "fwd_sps": f"{_rate(fwd_big.per_second)} (b{fwd_big.batch})" if fwd_big else "-",
        "step_sps": f"{_rate(step_big.per_second)} (b{step_big.batch})" if step_big else "-",
        "noisy": ", ".join(noisy) or "-",
        "interfered": ", ".join(interfered) or "-",
        "fwd_gflops": "-" if gflops is None else f"{gflops:.1f}" + (f" ({100 * frac:.0f}%)" if frac else ""),
    }


def _mean_std(values: list[float]) -> str:
    pct = [100 * v for v in values]
    return f"{statistics.fmean(pct):.2f} ± {statistics.stdev(pct):.2f}"


def groups(records: Sequence[Record]) -> list[list[Record]]:
    """The records grouped by configuration (config_key: they differ only by seed or fold), in first-seen order."""
    out: dict[str, list[Record]] = {}
    for r in records:
        out.setdefault(config_key(r), []).append(r)
    return list(out.values())


def rows(records: Sequence[Record]) -> list[dict[str, str]]:
    """One row per group of records that differ only by seed or fold, in first-seen order."""
    out = []
    for group in groups(records):
        base = row(next((r for r in group if r.timing), group[0]))
        if len(group) > 1:
            base["runs"] = str(len(group))
            accs = [r.score for r in group if r.score is not None]
            if len(accs) > 1:
                base["score"] = _mean_std(accs)
            by_group: dict[str, list[float]] = {}
            for r in group:
                for d in r.metrics.by_group.values():
                    for g, v in d.items():
                        by_group.setdefault(g, []).append(v)
            if by_group:
                base["by_group"] = " ".join(f"{g}={100 * statistics.fmean(v):.1f}" for g, v in by_group.items())
            secs = [r.metrics.train_seconds for r in group if r.metrics.train_seconds is not None]
            if secs:
                base["train_s"] = f"{statistics.fmean(secs):.1f}"
            base["trained"] = trained_words(group)
        out.append(base)
    return out


def format_run_table(records: Sequence[Record]) -> str:
    """A fixed-width text table, one row per group of records that differ only by seed or fold."""
    rows_ = rows(records)
    keys = [k for k, _ in COLUMNS]
    widths = {k: max(len(k), *(len(r[k]) for r in rows_)) for k in keys} if rows_ else {k: len(k) for k in keys}
    lines = ["  ".join(k.ljust(widths[k]) for k in keys)]
    lines += ["  ".join(r[k].ljust(widths[k]) for k in keys) for r in rows_]
    return "\n".join(lines)


def format_markdown(records: Sequence[Record]) -> str:
    keys = [k for k, _ in COLUMNS]
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(r[k] for k in keys) + " |" for r in rows(records)]
    return "\n".join(lines)
