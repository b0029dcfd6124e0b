"""Plain tables of run records: printed after a run and written to results/README.md."""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from cnnbench.machine.ceiling import matmul_peak
from cnnbench.measure.statistics import estimate
from cnnbench.results.record import PhaseStats, Record, TargetTime, config_key, speed_words

COLUMNS = (
    ("task", "task"),
    ("model", "model"),
    ("experiment", "the task's experiment, if the run was one"),
    ("dataset", "data set trained on (-> the one tested on, when different or scored by `cnnbench eval`; none: "
                "timing only)"),
    ("options", "the task's options of the run (e.g. word vectors, feature planes), then --amp / --channels-last"),
    ("profile", "the task's hyper-parameter profile (quick, default, full)"),
    ("device", "device type of the run"),
    ("runs", "records in the row: seeds x cross-validation folds, the n of the score's interval"),
    (
        "score",
        "the task's primary metric on the test split, in % (each task's is named by `cnnbench list`); over n > 1 runs "
        "their mean ± the half-width of its 95% t-interval (Student's t, n - 1 degrees of freedom); one run: its "
        "score alone; then, for runs whose profile asks for test-time augmentation, 'tta' and the same metric on "
        "the logits averaged over the task's test-time views (e.g. mirror and 1-pixel shifts), the same way",
    ),
    ("by_group", "the primary metric per group of the test set (e.g. per speaker sex), in %, mean over runs"),
    ("params", "trainable and frozen parameters"),
    ("MFLOPs", "forward FLOPs per sample, millions (FlopCounterMode: convolutions and matmuls)"),
    (
        "trained",
        "epochs trained (mean over runs) and what stopped the training when not the profile's epochs: "
        "'(samples budget)' for the profile's machine-independent sample cap, '(N TFLOPs budget)' for a "
        "training-compute budget (--train-flops, or an experiment matching another model's compute; mean over "
        "runs), 'cut by N s wall clock' when a --time-budget stopped any run of the row (with how many, when not "
        "all); 'eval of a checkpoint' for the records of `cnnbench eval` (the split scored: test or all)",
    ),
    (
        "to_target",
        "per target score of the task on the data set tested (as a % of the primary metric): the training the "
        "runs that reached it first took on their learning curve, mean epochs / seconds, and reached/n runs; "
        "'not reached (0/n)'; with several targets only the highest reached and the lowest not reached; "
        "- when the records carry no target",
    ),
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
    """Epochs trained (mean over the group) and what stopped the training when it was not the epochs: the
    samples budget, or a wall clock (said for any run it stopped, so such a row is never mistaken)."""
    runs = [r.training for r in group if r.training]
    if not runs:
        evaluated = {r.evaluation.split for r in group if r.evaluation}
        return f"eval of a checkpoint ({', '.join(sorted(evaluated))})" if evaluated else "-"
    epochs = statistics.fmean(t.epochs_run for t in runs)
    words = f"{epochs:.3g} ep"
    if any(t.stopped_by == "samples" for t in runs):
        words += " (samples budget)"
    budgets = [r.config.profile.train_flops for r in group if r.training and r.training.stopped_by == "flops"]
    if budgets:
        words += f" ({statistics.fmean(b for b in budgets if b is not None) / 1e12:.3g} TFLOPs budget)"
    cut = sum(t.cut_by_wall_clock for t in runs)
    if cut:
        budget = group[0].config.profile.time_budget_s
        words += f", cut by {budget:g} s wall clock" if budget is not None else ", cut by a wall clock"
        if cut < len(runs):
            words += f" ({cut}/{len(runs)} runs)"
    return words


def _percent(score: float) -> str:
    return f"{100 * score:.4g}%"


def _seconds(v: float) -> str:
    return f"{v:,.0f} s" if v >= 10 else f"{v:.2g} s"


def target_groups(group: Sequence[Record], tta: bool = False) -> list[tuple[float, str, list[TargetTime]]]:
    """The targets of a group's records in the records' order: (score, source, the runs' TargetTime entries);
    tta: those judged on the score with test-time augmentation, else those on the learning curve."""
    by_target: dict[tuple[float, str], list[TargetTime]] = {}
    for r in group:
        for t in r.training.time_to_target if r.training else []:
            if t.tta == tta:
                by_target.setdefault((t.score, t.source), []).append(t)
    return [(score, source, hits) for (score, source), hits in by_target.items()]


def target_text(score: float, hits: Sequence[TargetTime]) -> str:
    """'99%: 2.1 ep / 35 s (3/3)' (means over the runs that reached it), or '99%: not reached (0/3)'."""
    reached = [t for t in hits if t.reached]
    counts = f"({len(reached)}/{len(hits)})"
    if not reached:
        return f"{_percent(score)}: not reached {counts}"
    epochs = [t.epochs for t in reached if t.epochs is not None]
    secs = [t.seconds for t in reached if t.seconds is not None]
    cost = [f"{statistics.fmean(epochs):.2g} ep"] if epochs else []
    cost += [_seconds(statistics.fmean(secs))] if secs else []
    return f"{_percent(score)}: {' / '.join(cost) or 'reached'} {counts}"


def to_target_words(group: Sequence[Record]) -> str:
    """Time to each target of the group; with several targets only the highest reached by any run and the
    lowest reached by none, so the cell stays short. '-' when the records carry no targets."""
    words = []
    for tta in (False, True):
        by_score: dict[float, list[TargetTime]] = {}
        for score, _, hits in target_groups(group, tta):
            by_score.setdefault(score, hits)  # two sources of one score: the runs reached both or neither
        reached = [s for s, hits in by_score.items() if any(t.reached for t in hits)]
        missed = [s for s, hits in by_score.items() if not any(t.reached for t in hits)]
        shown = ([max(reached)] if reached else []) + ([min(missed)] if missed else [])
        words += [("with TTA at the end, " if tta else "") + target_text(s, by_score[s]) for s in shown]
    return "; ".join(words) or "-"


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
    return {
        "task": record.task,
        "model": record.model,
        "experiment": record.experiment or "-",
        "dataset": (record.dataset.name or "-") + (f" -> {record.dataset.test}" if record.dataset.test else ""),
        "options": " ".join(option_words(record)) or "-",
        "profile": record.profile or "-",
        "device": record.device.type,
        "runs": "1",
        "score": _score_cell([record]),
        "by_group": _by_group_words(record) or "-",
        "params": f"{m.params:,}",
        "MFLOPs": f"{m.flops_fwd / 1e6:,.2f}",
        "trained": trained_words([record]),
        "to_target": to_target_words([record]),
        "train_s": f"{m.train_seconds:.1f}" if m.train_seconds is not None else "-",
        "fwd_b1_ms": f"{fwd_b1.median_ms:.2f}" if fwd_b1 else "-",
        "fwd_sps": f"{_rate(fwd_big.per_second)} (b{fwd_big.batch})" if fwd_big else "-",
        "step_sps": f"{_rate(step_big.per_second)} (b{step_big.batch})" if step_big else "-",
        "noisy": ", ".join(noisy) or "-",
        "interfered": ", ".join(interfered) or "-",
        "fwd_gflops": "-" if gflops is None else f"{gflops:.1f}" + (f" ({100 * frac:.0f}%)" if frac else ""),
    }


def score_words(values: Sequence[float]) -> str:
    """Scores of a row's runs, in %: the bare score of one run; over n > 1 runs the mean ± the half-width of its
    95% t-interval (the n is the row's `runs`)."""
    if not values:
        return "-"
    est = estimate(values)
    if est.half_width is None:
        return f"{100 * est.mean:.2f}"
    return f"{100 * est.mean:.2f} ± {100 * est.half_width:.2f}"


def _score_cell(group: Sequence[Record]) -> str:
    """The primary metric's score words, and the test-time-augmented score's when the runs have one."""
    plain = score_words([r.score for r in group if r.score is not None])
    tta = [r.score_tta for r in group if r.score_tta is not None]
    return f"{plain}; tta {score_words(tta)}" if tta else plain


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
            base["score"] = _score_cell(group)
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
            base["to_target"] = to_target_words(group)
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
