"""Two sets of run records lined up: what changed, and which timing changes are regressions.

Records are paired by `run_key` (the configuration, seed and fold; machines may differ): a quick run is
never compared with a full one, nor runs with different training settings. A timing change is a
regression only when the new median exceeds the old one by more than a relative threshold **and** by
more than the measurements' own spread (the larger of the two IQRs).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from cnnbench.results.record import Record, run_key
from cnnbench.results.table import option_words

DEFAULT_THRESHOLD = 0.10  # relative; see README ("Comparing runs") for why 10%


def label(record: Record) -> str:
    """A readable name of a record's configuration, seed and fold, for printing (run_key pairs them)."""
    d, fold = record.dataset, record.dataset.fold
    parts = [record.task, record.experiment or "-", record.model, d.name or "timing-only"]
    parts += [f"->{d.test}"] if d.test else []
    parts += [record.profile, record.device.type, f"seed{record.seed}"]
    parts += [f"fold{fold[0]}/{fold[1]}"] if fold else []
    return " ".join(parts + option_words(record))


@dataclass(frozen=True)
class Latest:
    """One record per run_key(machine=False): the most recent of each; set_aside counts the older ones left out."""

    records: dict[str, Record]
    set_aside: int


def latest_by_key(records: list[Record]) -> Latest:
    """The most recent record of each configuration, seed and fold, and how many older ones were set aside."""
    out: dict[str, Record] = {}
    for r in sorted(records, key=lambda r: r.started_utc):
        out[run_key(r, machine=False)] = r
    return Latest(out, len(records) - len(out))


@dataclass(frozen=True)
class Change:
    key: str  # the label of the configuration
    metric: str
    old: float
    new: float
    regression: bool
    note: str = ""

    @property
    def relative(self) -> float:
        return (self.new - self.old) / self.old if self.old else float("inf") if self.new else 0.0


def _environment(r: Record) -> str:
    return json.dumps([r.machine_slug, r.versions.torch, r.versions.cuda])


def environments_differ(old: list[Record], new: list[Record]) -> list[str]:
    """Machine or version differences between the two sides, described; empty when alike."""
    a, b = {_environment(r) for r in old}, {_environment(r) for r in new}
    if a == b:
        return []
    return [f"old: {', '.join(sorted(a))}", f"new: {', '.join(sorted(b))}"]


def compare(
    old: Mapping[str, Record], new: Mapping[str, Record], threshold: float, labels: Mapping[str, str] | None = None
) -> list[Change]:
    """Changes of the primary metric, parameters, FLOPs, training time and every timed phase of the records
    with the same key on both sides (labelled by labels[key], or label() of the new record)."""
    changes = []
    names = {key: (labels or {}).get(key) or label(new[key]) for key in old.keys() & new.keys()}
    for key in sorted(names, key=lambda k: (names[k], k)):
        a, b, name = old[key], new[key], names[key]
        metric = b.primary_metric
        score_a, score_b = a.metrics.scores.get(metric), b.metrics.scores.get(metric)
        if score_a is not None and score_b is not None:
            changes.append(Change(name, metric, score_a, score_b, False))
        ma, mb = a.metrics, b.metrics
        for field in ("params", "flops_fwd"):
            if getattr(ma, field) != getattr(mb, field):
                changes.append(Change(name, field, getattr(ma, field), getattr(mb, field), False, "the model changed"))
        if ma.train_seconds is not None and mb.train_seconds is not None:
            changes.append(Change(name, "train_seconds", ma.train_seconds, mb.train_seconds, False))
        ta, tb = a.timing or {}, b.timing or {}
        for phase in sorted(ta.keys() & tb.keys()):
            for batch in sorted(ta[phase].keys() & tb[phase].keys()):
                sa, sb = ta[phase][batch], tb[phase][batch]
                grew = sb.median_ms - sa.median_ms
                spread = max(sa.iqr_ms, sb.iqr_ms)
                slower = grew > threshold * sa.median_ms and grew > spread
                note = f"spread {spread:.3f} ms" + (" (interfered)" if sa.interfered or sb.interfered else "")
                changes.append(Change(name, f"{phase}@{batch} ms", sa.median_ms, sb.median_ms, slower, note))
    return changes


def format_changes(changes: list[Change]) -> str:
    rows = [("configuration", "metric", "old", "new", "change", "verdict")]
    for c in changes:
        verdict = "REGRESSION" if c.regression else ""
        change = f"{100 * c.relative:+.1f}%" if c.old else "new"
        rows.append((c.key, c.metric, f"{c.old:.4g}", f"{c.new:.4g}", change, (verdict + " " + c.note).strip()))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows)
