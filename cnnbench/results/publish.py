"""Published results from raw run records only: results/README.md, one CSV per task and device, the
HTML report with its plots. Every file is written to a temporary file and renamed."""

from __future__ import annotations

import csv
import io
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cnnbench.errors import UsageError
from cnnbench.io import atomic_write_text
from cnnbench.measure.statistics import estimate
from cnnbench.registry import default_registry
from cnnbench.results.claims import Claim
from cnnbench.results.record import Record, read_records
from cnnbench.results.speedup import SPEED_COLUMNS, format_speed_markdown, speed_rows
from cnnbench.results.table import COLUMNS, format_markdown, groups, largest_batch, target_groups

# how the tables and claims are computed: the Method section of results/README.md and of the report
METHOD = (
    "**Scores over seeds.** A row groups the runs of one configuration that differ only by seed or "
    "cross-validation fold (`runs` = n). Its score is the mean over the n runs ± the half-width of the mean's "
    "95% confidence interval from Student's t with n - 1 degrees of freedom (t(0.975, n - 1) x sample std / "
    "sqrt(n)); a row of one run shows that run's score alone, with no interval. Other metrics of a row are "
    "means over its runs.",
    '**Claims.** A claim under a table (e.g. "A beats B") is a comparison over seeds, never two single runs: '
    "the difference of the two means with its 95% interval and a two-sided p-value, from Welch's t-test, or "
    "from a paired t-test on the per-seed differences when both sides ran the same seeds and folds (the same "
    "splits). The verdict comes from the interval: *supported* when it lies entirely on the side the claim "
    "predicts, *contradicted* when it lies entirely on the other side, else *inconclusive at n = ...* "
    "(always so with a single run on either side; also when one side's runs, or the per-seed differences, "
    "are all the same: runs without spread give no interval, and the sentence says so). Each claim's "
    "sentence says what the comparison held equal: "
    "epochs (then the training compute of the two sides usually differs, by the factor given), or training "
    "FLOPs (one side trained for the FLOPs the other spent in its epochs). Which records stand for a model: "
    "per model, the plain-option configuration with the most runs, newest first. Where a data set's split "
    "follows the seed (the synthetic speech sets hold out other voices, MR draws another split), the "
    "interval includes the variance of the split.",
    "**Budgets.** A profile's training budget is epochs, a number of training samples or a number of "
    "training FLOPs: all machine-independent, so the same profile trains the same amount on every machine. "
    "A wall-clock budget "
    "(`--time-budget`) is used only when asked for; a row any of whose runs a wall clock stopped says so in "
    '`trained` ("cut by N s wall clock"), and its score depends on the machine\'s speed.',
    "**trained** is the epochs the runs trained (mean), and what stopped them when not the profile's epochs. "
    "**to_target** is, for each target score the task names for the data set tested (a published or stated "
    "result), the training the runs took to first reach it on their learning curve (mean epochs and seconds "
    "over the runs that reached it, and how many of the n did), or that none did. **Learning curves** (in the "
    "report) are the score on the test split (or the split named in the legend) at evenly spaced points of "
    "training, against the training samples seen and the training seconds spent (evaluation excluded); each "
    "seed is drawn thin and the configuration's mean over seeds bold. Records made before learning curves "
    "were recorded show - for to_target and draw no curve.",
)


@dataclass
class Section:
    """The records of one machine and task."""

    machine: str
    task: str
    records: list[tuple[Path, Record]] = field(default_factory=list)

    @property
    def plain(self) -> list[Record]:
        return [r for _, r in self.records]


def _sort_key(pr: tuple[Path, Record]) -> tuple:
    r = pr[1]
    fold = r.dataset.fold or (0, 0)
    return (r.experiment or "", r.dataset.name or "~", r.model, r.device.type, r.seed, fold[0])


def collect(runs: Path) -> list[Section]:
    found = read_records(runs)
    if not found:
        raise UsageError(f"{runs}: no run records (*.json) found")
    sections: dict[tuple[str, str], Section] = {}
    for path, rec in found:
        key = (rec.machine_slug, rec.task)
        sections.setdefault(key, Section(*key)).records.append((path, rec))
    for s in sections.values():
        s.records.sort(key=_sort_key)
    return [sections[k] for k in sorted(sections)]


def machine_line(rec: Record) -> str:
    m, v = rec.machine, rec.versions
    gpu = f", GPU {m.gpu} ({m.gpu_memory_gb} GB)" if m.gpu else ""
    host = f"{m.cpu}, {m.cores} cores, {m.memory_gb} GB{gpu}"
    return f"{host}; Python {v.python}, torch {v.torch}, torchvision {v.torchvision or '?'}"


def summary_lines(section: Section) -> list[str]:
    registry = default_registry()
    if section.task not in registry.names():
        return []
    return registry.get(section.task).summarize(section.plain)


def claims_section(sections: list[Section]) -> list[str]:
    """Every claim the task summaries judged, per machine: the claim, our result, the verdict, what the
    comparison held equal and the anchor (the full sentences, with costs, follow each task's table)."""
    rows = []
    for s in sections:
        for line in summary_lines(s):
            if isinstance(line, Claim):
                cells = (s.machine, s.task, line.statement, f"{line.sides}; {line.difference}", line.verdict,
                         line.matched or "-", line.anchor or "-")  # fmt: skip
                rows.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
    if not rows:
        return []
    return [
        "## Claims",
        "",
        "Each claim of the lecture that a task's experiments test, judged over seeds (or cross-validation folds) "
        "from the records below: supported or contradicted when the 95% interval of the difference excludes "
        "zero, else inconclusive at that n (see Method). Scores in %; a \"drop\" is the accuracy a model lost "
        "under a change (a shift, a permutation, the other sex), in points.",
        "",
        "| machine | task | claim | our result (mean ± 95% CI, n; difference) | verdict | compared at | anchor |",
        "|---|---|---|---|---|---|---|",
        *rows,
        "",
    ]


def render_markdown(
    sections: list[Section],
    runs: Path,
    report: str | None,
    pictures: list[str] | None = None,
    benchmarks: list[str] | None = None,
) -> str:
    """results/README.md; benchmarks: its section on the interleaved benchmarks (cnnbench.results.bench)."""
    lines = [
        "# cnnbench results",
        "",
        "Generated by `cnnbench publish` from the raw run records listed under each table; do not edit by hand.",
        "Rows group the records that differ only by seed or cross-validation fold: scores are their mean ± the "
        "half-width of its 95% t-interval (see Method).",
    ]
    if report:
        lines += ["", f"Plots and the same tables as a web page: [{report}]({report})."]
    lines += ["", *claims_section(sections)]
    machine = None
    for s in sections:
        if s.machine != machine:
            machine = s.machine
            lines += [f"## {machine}", "", machine_line(s.records[0][1]), ""]
        lines += [f"### {s.task}", "", format_markdown(s.plain), ""]
        lines += [line for line in summary_lines(s)] + ([""] if summary_lines(s) else [])
        speed = speed_rows(s.plain)
        if speed:
            lines += ["Speed options against the plain run of the same model, data, seed and timing batch on this "
                      "machine (see the speed columns below). Each ratio compares two records made one after the "
                      "other, so on a shared machine it carries that machine's drift; the interleaved benchmarks "
                      "in `benchmarks/` give ratios with confidence intervals.", "",
                      format_speed_markdown(speed), ""]  # fmt: skip
        lines += ["<details><summary>Records</summary>", ""]
        for path, rec in s.records:
            sha = (rec.commit.sha or "unknown")[:10]
            dirty = " (dirty)" if rec.commit.dirty else ""
            lines.append(f"- `{path.relative_to(runs)}` — profile {rec.profile}, commit {sha}{dirty}")
        lines += ["", "</details>", ""]
    lines += benchmarks or []
    if pictures:
        lines += ["## What the models learned", "", "Made by `cnnbench explain` (see the main README):", ""]
        lines += [f"- [{Path(p).stem}]({p})" for p in pictures] + [""]
    lines += ["## Method", ""] + [line for paragraph in METHOD for line in (paragraph, "")]
    lines += ["## Columns", ""] + [f"- **{k}**: {doc}" for k, doc in COLUMNS]
    lines += ["", "## Speed columns", ""] + [f"- **{k}**: {doc}" for k, doc in SPEED_COLUMNS]
    lines += ["", "## CSV columns (`csv/<task>_<device>.csv`: raw numbers, one row per table row)", ""]
    lines += [f"- **{k}**: {doc}" for k, doc in CSV_FIELDS]
    return "\n".join(lines) + "\n"


CSV_FIELDS = (
    ("machine", "machine folder of the records under results/runs"),
    ("task", "task"),
    ("model", "model"),
    ("experiment", "the task's experiment, if the run was one"),
    ("dataset", "data set trained on"),
    ("test_dataset", "data set tested on, when different"),
    ("options", "the task's options of the run (key=value)"),
    ("device", "device type"),
    ("profile", "hyper-parameter profile"),
    ("runs", "records in the row (seeds x folds)"),
    ("score_mean", "the task's primary metric on the test split, a fraction, mean over the runs"),
    ("score_std", "its sample standard deviation (empty for one run)"),
    ("score_ci95", "the half-width of the 95% t-interval of the mean, a fraction (empty for one run)"),
    (
        "score_tta_mean",
        "the primary metric with test-time augmentation (runs whose profile asks for it), a fraction, "
        "mean over the runs that have it (empty: not scored)",
    ),
    ("score_tta_ci95", "the half-width of its 95% t-interval, a fraction (empty for fewer than two runs)"),
    ("params", "trainable and frozen parameters"),
    ("flops_fwd", "forward FLOPs per sample"),
    ("epochs_run_mean", "epochs trained, mean over the runs (fractional when a samples or time budget stopped them)"),
    ("time_budget_s", "the training time budget in seconds (empty: none)"),
    (
        "stopped_by",
        "what stopped the runs' training: epochs, samples (the profile's samples budget), flops (a training-FLOPs "
        "budget) or time_budget (a wall "
        "clock); the distinct values separated by spaces (empty: not trained)",
    ),
    (
        "target_score",
        "the first target score of the record on the data set tested, a fraction (empty: none; the README's "
        "to_target shows every target)",
    ),
    ("target_reached_runs", "runs whose learning curve reached that target"),
    ("target_samples_mean", "training samples those runs took to first reach it, mean over them"),
    ("target_flops_mean", "training FLOPs they took to reach it, mean over them"),
    ("target_seconds_mean", "training seconds they took to reach it, mean over them"),
    ("train_seconds_mean", "training wall time in seconds, mean over the runs"),
    ("fwd_b1_median_ms", "forward latency at batch 1, median ms"),
    ("fwd_batch", "the throughput batch of the forward timing"),
    ("fwd_per_second", "forward throughput at that batch, samples/s"),
    ("step_batch", "the throughput batch of the training-step timing"),
    ("step_per_second", "training-step throughput at that batch, samples/s"),
    ("torch", "PyTorch version"),
    ("commits", "commits of cnnbench that made the records"),
)
CSV_COLUMNS = tuple(k for k, _ in CSV_FIELDS)


def csv_row(group: list[Record]) -> dict[str, Any]:
    """Raw numbers (no units, no thousands separators) of one configuration's records."""
    first = group[0]
    timed = next((r for r in group if r.timing), None)
    scores = [r.score for r in group if r.score is not None]
    tta = [r.score_tta for r in group if r.score_tta is not None]
    secs = [r.metrics.train_seconds for r in group if r.metrics.train_seconds is not None]
    epochs = [r.training.epochs_run for r in group if r.training]
    timing = timed.timing if timed and timed.timing else {}
    trained = [r.training for r in group if r.training]
    targets = target_groups(group)
    hits = [t for t in targets[0][2] if t.reached] if targets else []

    def hit_mean(name: str) -> float | str:
        values = [getattr(t, name) for t in hits if getattr(t, name) is not None]
        return statistics.fmean(values) if values else ""

    fwd, step = timing.get("forward", {}), timing.get("train_step", {})
    big_f, big_s = largest_batch(fwd), largest_batch(step)
    return {
        "machine": first.machine_slug,
        "task": first.task,
        "model": first.model,
        "experiment": first.experiment or "",
        "dataset": first.dataset.name or "",
        "test_dataset": first.dataset.test or "",
        "options": " ".join(f"{k}={v}" for k, v in sorted(first.options.items()) if v != ""),
        "device": first.device.type,
        "profile": first.profile,
        "runs": len(group),
        "score_mean": statistics.fmean(scores) if scores else "",
        "score_std": statistics.stdev(scores) if len(scores) > 1 else "",
        "score_ci95": estimate(scores).half_width if len(scores) > 1 else "",
        "score_tta_mean": statistics.fmean(tta) if tta else "",
        "score_tta_ci95": estimate(tta).half_width if len(tta) > 1 else "",
        "params": first.metrics.params,
        "flops_fwd": first.metrics.flops_fwd,
        "epochs_run_mean": statistics.fmean(epochs) if epochs else "",
        "time_budget_s": first.config.profile.time_budget_s or "",
        "stopped_by": " ".join(sorted({t.stopped_by for t in trained})),
        "target_score": targets[0][0] if targets else "",
        "target_reached_runs": len(hits) if targets else "",
        "target_samples_mean": hit_mean("samples"),
        "target_flops_mean": hit_mean("flops"),
        "target_seconds_mean": hit_mean("seconds"),
        "train_seconds_mean": statistics.fmean(secs) if secs else "",
        "fwd_b1_median_ms": fwd["b1"].median_ms if "b1" in fwd else "",
        "fwd_batch": big_f.batch if big_f else "",
        "fwd_per_second": big_f.per_second if big_f else "",
        "step_batch": big_s.batch if big_s else "",
        "step_per_second": big_s.per_second if big_s else "",
        "torch": first.versions.torch,
        "commits": " ".join(sorted({(r.commit.sha or "unknown")[:10] for r in group})),
    }


def render_csv(records: list[Record]) -> str:
    """One row per configuration (seeds and folds grouped by config_key), CSV_COLUMNS in that order."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\n")
    w.writeheader()
    for group in groups(records):
        w.writerow(csv_row(group))
    return buf.getvalue()


def write_csvs(sections: list[Section], out: Path) -> list[Path]:
    """results/csv/<task>_<device>.csv over every machine's records of that task and device."""
    by_file: dict[str, list[Record]] = {}
    for s in sections:
        for r in s.plain:
            by_file.setdefault(f"{s.task}_{r.device.type}.csv", []).append(r)
    paths = []
    for name, recs in sorted(by_file.items()):
        atomic_write_text(out / name, render_csv(recs))
        paths.append(out / name)
    return paths
