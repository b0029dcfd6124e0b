"""Two sets of run records lined up: what changed, and which timing changes are regressions.

A timing change is a regression only when the new median exceeds the old one by more than a relative
threshold **and** by more than the measurements' own spread (the larger of the two IQRs).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from cnnbench.results.table import option_words

DEFAULT_THRESHOLD = 0.10  # relative; see README ("Comparing runs") for why 10%


def line_key(r: dict[str, Any]) -> str:
    d = r["dataset"]
    fold = d.get("fold")
    parts = [r["task"], r.get("experiment") or "-", r["model"], d.get("name") or "timing-only"]
    if d.get("test"):
        parts.append(f"->{d['test']}")
    opts = " ".join(option_words(r))
    return " ".join(
        [*parts, r["device"]["type"], f"seed{r.get('seed', 0)}"]
        + ([f"fold{fold[0]}/{fold[1]}"] if fold else [])
        + ([opts] if opts else [])
    )


def latest_by_key(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """One record per key: the most recent when a configuration was run more than once."""
    out: dict[str, dict[str, Any]] = {}
    for r in sorted(records, key=lambda r: r.get("started_utc", "")):
        out[line_key(r)] = r
    return out


@dataclass(frozen=True)
class Change:
    key: str
    metric: str
    old: float
    new: float
    regression: bool
    note: str = ""

    @property
    def relative(self) -> float:
        return (self.new - self.old) / self.old if self.old else float("inf") if self.new else 0.0


def _environment(r: dict[str, Any]) -> str:
    v = r.get("versions", {})
    return json.dumps([r.get("machine_slug"), v.get("torch"), v.get("cuda")])


def environments_differ(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[str]:
    """Machine or version differences between the two sides, described; empty when alike."""
    a, b = {_environment(r) for r in old}, {_environment(r) for r in new}
    if a == b:
        return []
    return [f"old: {', '.join(sorted(a))}", f"new: {', '.join(sorted(b))}"]


def compare(old: dict[str, dict[str, Any]], new: dict[str, dict[str, Any]], threshold: float) -> list[Change]:
    """Changes of the primary metric, parameters, FLOPs, training time and every timed phase."""
    changes = []
    for key in sorted(old.keys() & new.keys()):
        a, b = old[key], new[key]
        metric = b.get("primary_metric", "accuracy")
        ma, mb = a["metrics"], b["metrics"]
        if metric in ma and metric in mb:
            changes.append(Change(key, metric, ma[metric], mb[metric], False))
        for name in ("params", "flops_fwd"):
            if name in ma and name in mb and ma[name] != mb[name]:
                changes.append(Change(key, name, ma[name], mb[name], False, "the model changed"))
        if "train_seconds" in ma and "train_seconds" in mb:
            changes.append(Change(key, "train_seconds", ma["train_seconds"], mb["train_seconds"], False))
        ta, tb = a.get("timing") or {}, b.get("timing") or {}
        for phase in sorted(ta.keys() & tb.keys()):
            for batch in sorted(ta[phase].keys() & tb[phase].keys()):
                sa, sb = ta[phase][batch], tb[phase][batch]
                grew = sb["median_ms"] - sa["median_ms"]
                spread = max(sa.get("iqr_ms", 0.0), sb.get("iqr_ms", 0.0))
                slower = grew > threshold * sa["median_ms"] and grew > spread
                note = f"spread {spread:.3f} ms" + (
                    " (interfered)" if sa.get("interfered") or sb.get("interfered") else ""
                )
                changes.append(Change(key, f"{phase}@{batch} ms", sa["median_ms"], sb["median_ms"], slower, note))
    return changes


def format_changes(changes: list[Change]) -> str:
    rows = [("configuration", "metric", "old", "new", "change", "verdict")]
    for c in changes:
        verdict = "REGRESSION" if c.regression else ""
        change = f"{100 * c.relative:+.1f}%" if c.old else "new"
        rows.append((c.key, c.metric, f"{c.old:.4g}", f"{c.new:.4g}", change, (verdict + " " + c.note).strip()))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows)
