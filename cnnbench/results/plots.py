"""Plots of run records for the HTML report (matplotlib, SVG files)."""

from __future__ import annotations

import statistics
from pathlib import Path

from cnnbench.io import pyplot, save_figure
from cnnbench.results.record import PhaseStats, Record, config_key
from cnnbench.results.table import largest_batch, option_words


def _label(r: Record) -> str:
    return r.model + (f" ({r.experiment})" if r.experiment else "")


def _trained(records: list[Record]) -> list[Record]:
    """One record per configuration (the first), trained ones only."""
    seen, out = set(), []
    for r in records:
        key = config_key(r)
        if r.score is not None and key not in seen:
            seen.add(key)
            out.append(r)
    return out


def score_vs(records: list[Record], x_metric: str, xlabel: str, title: str, path: Path) -> Path | None:
    """The primary metric against a field of the metrics (params, train_seconds), one point per configuration."""
    pts = [
        (getattr(r.metrics, x_metric), 100 * r.score, _label(r))
        for r in _trained(records)
        if getattr(r.metrics, x_metric) is not None and r.score is not None
    ]
    if not pts:
        return None
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for x, y, label in pts:
        ax.scatter(x, y, s=25)
        ax.annotate(label, (x, y), fontsize=7, xytext=(3, 3), textcoords="offset points")
    ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("primary metric (%)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    return save_figure(fig, path, "svg")


def _forward(r: Record) -> dict[str, PhaseStats]:
    return (r.timing or {}).get("forward") or {}


def throughput_vs_batch(records: list[Record], title: str, path: Path) -> Path | None:
    """Forward samples/s at each timed batch size, one line per model and device."""
    lines: dict[str, list[tuple[int, float]]] = {}
    for r in records:
        fwd = _forward(r)
        if fwd:
            label = f"{r.model} [{r.device.type}]"
            lines.setdefault(label, [(s.batch, s.per_second) for s in fwd.values()])
    if not lines:
        return None
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for label, pts in sorted(lines.items()):
        pts.sort()
        ax.plot([b for b, _ in pts], [v for _, v in pts], marker="o", label=label)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("batch size")
    ax.set_ylabel("forward samples/s")
    ax.set_title(title)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    return save_figure(fig, path, "svg")


def cpu_vs_gpu(records: list[Record], title: str, path: Path) -> Path | None:
    """Forward throughput at the throughput batch per model, CPU beside GPU; None without both."""
    best: dict[tuple[str, str], float] = {}
    for r in records:
        big = largest_batch(_forward(r))
        if big:
            best[(r.model, r.device.type)] = big.per_second
    models = sorted({m for m, d in best if (m, "cpu") in best and (m, "cuda") in best})
    if not models:
        return None
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    xs = range(len(models))
    ax.bar([x - 0.2 for x in xs], [best[(m, "cpu")] for m in models], 0.4, label="cpu")
    ax.bar([x + 0.2 for x in xs], [best[(m, "cuda")] for m in models], 0.4, label="cuda")
    ax.set_xticks(list(xs), models, rotation=30, ha="right", fontsize=7)
    ax.set_yscale("log")
    ax.set_ylabel("forward samples/s")
    ax.set_title(title)
    ax.legend()
    return save_figure(fig, path, "svg")


def _curve_label(r: Record) -> str:
    """A configuration's name in a learning-curve legend: model, experiment, data, profile, options, device."""
    words = [r.model] + ([r.experiment] if r.experiment else [])
    words += [r.dataset.name] if r.dataset.name and r.dataset.name != r.experiment else []
    words += [r.profile, *option_words(r), r.device.type]
    p = r.config.profile
    words += [f"{p.max_samples:,} samples"] if p.max_samples else []
    words += [f"{p.time_budget_s:g} s wall clock"] if p.time_budget_s is not None else []
    split = r.training.learning_curve[0].split if r.training and r.training.learning_curve else "test"
    return " ".join(words) + ("" if split == "test" else f" [{split}]")


def learning_curves(records: list[Record], x: str, xlabel: str, title: str, path: Path) -> Path | None:
    """The score against training samples (x="samples") or seconds (x="seconds") over training: one colour
    per configuration, each seed's curve thin, their mean (point by point) bold; the task's targets dashed.
    None when no record has a learning curve (records made before curves were recorded)."""
    by_config: dict[str, list[Record]] = {}
    for r in records:
        if r.training is not None and r.training.learning_curve:
            by_config.setdefault(config_key(r), []).append(r)
    if not by_config:
        return None
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    labels: set[str] = set()
    for i, runs in enumerate(by_config.values()):
        color = f"C{i % 10}"
        curves = [[(getattr(p, x), 100 * p.score) for p in r.training.learning_curve] for r in runs if r.training]
        for pts in curves:
            ax.plot([a for a, _ in pts], [b for _, b in pts], color=color, linewidth=0.7, alpha=0.35)
        label = _curve_label(runs[0])
        label = label if label not in labels else f"{label} #{i + 1}"
        labels.add(label)
        n = min(len(c) for c in curves)
        mean = [tuple(statistics.fmean(c[k][j] for c in curves) for j in (0, 1)) for k in range(n)]
        ax.plot([a for a, _ in mean], [b for _, b in mean], color=color, linewidth=2, marker="o", markersize=3,
                label=f"{label} (n={len(curves)})")  # fmt: skip
    targets = sorted({(t.score, t.source) for r in records if r.training for t in r.training.time_to_target
                      if not t.tta})  # fmt: skip
    for score, _ in targets:
        ax.axhline(100 * score, color="grey", linestyle="--", linewidth=0.8)
        ax.annotate(f"target {100 * score:.4g}%", (0, 100 * score), xycoords=("axes fraction", "data"),
                    fontsize=6, color="grey", xytext=(2, 2), textcoords="offset points")  # fmt: skip
    return _finish(fig, ax, xlabel, title, path)


def _numeric(values: dict[str, float]) -> bool:
    try:
        [float(v) for v in values]
    except ValueError:
        return False
    return len(values) > 1


def score_by_group(records: list[Record], title: str, path: Path) -> list[Path]:
    """For each group of the records' by_group whose values are numbers (e.g. a test-time shift in pixels or
    bands): the primary metric against that number, one line per configuration (the mean over its runs,
    with the runs' range shaded). One plot per such group and data set trained on (a group seen on one data
    set only keeps the plain name); none when no record has one."""
    made = []
    groups = sorted({g for r in records for g, v in r.metrics.by_group.items() if _numeric(v)})
    for group in groups:
        by_data: dict[str, list[Record]] = {}
        for r in records:
            if _numeric(r.metrics.by_group.get(group, {})):
                by_data.setdefault(r.dataset.name or "", []).append(r)
        for data, recs in sorted(by_data.items()):
            name = f"{group}_{data}" if len(by_data) > 1 else group
            heading = f"{title}: score by {group}" + (f" ({data})" if len(by_data) > 1 else "")
            made.append(_score_by(recs, group, heading, path.with_name(f"{path.stem}_{name}{path.suffix}")))
    return made


def _score_by(records: list[Record], group: str, title: str, path: Path) -> Path:
    by_config: dict[str, list[Record]] = {}
    for r in records:
        by_config.setdefault(config_key(r), []).append(r)
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for i, runs in enumerate(by_config.values()):
        xs = sorted({float(k) for r in runs for k in r.metrics.by_group[group]}, key=float)
        rows = [[100 * r.metrics.by_group[group].get(_key(r, group, x), float("nan")) for x in xs] for r in runs]
        cols = list(zip(*rows, strict=True))
        options = " ".join(option_words(runs[0])) or "plain"
        # ten colours, then dashed: a ladder's rungs over its experiments can pass ten lines
        ax.plot(xs, [statistics.fmean(c) for c in cols], color=f"C{i % 10}", linestyle="-" if i < 10 else "--",
                marker="o", markersize=3, label=f"{_label(runs[0])} ({options}, n={len(runs)})")  # fmt: skip
        if len(rows) > 1:
            ax.fill_between(xs, [min(c) for c in cols], [max(c) for c in cols], color=f"C{i % 10}", alpha=0.15)
    return _finish(fig, ax, group, title, path)


def _key(r: Record, group: str, x: float) -> str:
    """The by_group key of record r whose number is x ("2" or "2.0")."""
    return next((k for k in r.metrics.by_group[group] if float(k) == x), "")


def _finish(fig, ax, xlabel: str, title: str, path: Path) -> Path:
    """Labels, legend and grid of a plot of the primary metric, saved as SVG."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel("primary metric (%)")
    ax.set_title(title)
    ax.legend(fontsize=6)
    ax.grid(alpha=0.3)
    return save_figure(fig, path, "svg")
