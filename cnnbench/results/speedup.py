"""What each speed option buys: every record run with --amp, --channels-last, --compile, --nproc or
--threads against the plain record of the same model, data, options, seed, training hyper-parameters, machine and
timing batch."""

from __future__ import annotations

import json
from typing import Any

from cnnbench.results.table import largest_batch, primary_score, speed_words, training_config

SPEED_COLUMNS = (
    ("model", "model"),
    ("dataset", "data set trained on (none: timing only)"),
    (
        "speed",
        "the speed options of the run compared with the plain run (fp32, NCHW, eager, 1 process, torch's "
        "default threads)",
    ),
    ("fwd_b1", "plain / option forward latency at batch 1 (above 1: the option is faster)"),
    ("fwd_tput", "option / plain forward throughput at the throughput batch"),
    ("step_tput", "option / plain training-step throughput at the throughput batch"),
    ("train", "plain / option training wall time (whole run, compile warm-up excluded)"),
    ("score", "option minus plain score, in points"),
    ("compile_s", "seconds spent compiling in the warm-up (--compile runs)"),
)


def _base_key(record: dict[str, Any]) -> str:
    d, cfg = record["dataset"], record.get("config") or {}
    return json.dumps(
        [record.get("machine_slug"), record["task"], record.get("experiment"), record["model"], d["name"],
         d.get("test"), d.get("fold"), record.get("options"), record.get("seed"), record.get("profile"),
         cfg.get("throughput_batch"), (record.get("device") or {}).get("type"), training_config(record)],
        sort_keys=True,
    )  # fmt: skip


def _median(record: dict[str, Any], phase: str, largest: bool) -> tuple[float, int] | None:
    per_batch = (record.get("timing") or {}).get(phase) or {}
    stats = largest_batch(per_batch) if largest else per_batch.get("b1")
    return (stats["median_ms"], stats["batch"]) if stats else None


def _ratio(num: float | None, den: float | None) -> str:
    return "-" if not num or not den else f"{num / den:.2f}x"


def _throughput(record: dict[str, Any], phase: str) -> float | None:
    m = _median(record, phase, largest=True)
    return m[1] / m[0] if m else None


def speed_rows(records: list[dict[str, Any]]) -> list[dict[str, str]]:
    """One row per record with speed options that has a plain twin (the newest plain twin is used)."""
    plain: dict[str, dict[str, Any]] = {}
    for r in sorted(records, key=lambda r: r.get("started_utc", "")):
        if not speed_words(r):
            plain[_base_key(r)] = r
    rows = []
    for r in records:
        base = plain.get(_base_key(r))
        if not speed_words(r) or base is None:
            continue
        b1_base, b1 = _median(base, "forward", False), _median(r, "forward", False)
        t_base, t = (base.get("training") or {}).get("train_seconds"), (r.get("training") or {}).get("train_seconds")
        s_base, s = primary_score(base), primary_score(r)
        compile_s = (r.get("metrics") or {}).get("compile_seconds")
        rows.append(
            {
                "model": r["model"],
                "dataset": r["dataset"]["name"] or "-",
                "speed": " ".join(speed_words(r)),
                "fwd_b1": _ratio(b1_base[0] if b1_base else None, b1[0] if b1 else None),
                "fwd_tput": _ratio(_throughput(r, "forward"), _throughput(base, "forward")),
                "step_tput": _ratio(_throughput(r, "train_step"), _throughput(base, "train_step")),
                "train": _ratio(t_base, t),
                "score": "-" if s is None or s_base is None else f"{100 * (s - s_base):+.2f}",
                "compile_s": "-" if compile_s is None else f"{compile_s:.1f}",
            }
        )
    return sorted(rows, key=lambda row: (row["model"], row["dataset"], row["speed"]))


def format_speed_markdown(rows: list[dict[str, str]]) -> str:
    keys = [k for k, _ in SPEED_COLUMNS]
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(row[k] for k in keys) + " |" for row in rows]
    return "\n".join(lines)
