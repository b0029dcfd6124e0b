"""What each speed option buys: every record run with --amp, --channels-last, --compile, --nproc or
--threads against its plain twin: the record of the same run key without the speed options (same model,
data, options, profile, seed, fold, training hyper-parameters, machine and timing batch)."""

from __future__ import annotations

from cnnbench.results.claims import cut_by_wall_clock
from cnnbench.results.record import Record, run_key, speed_words
from cnnbench.results.table import largest_batch

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
    ("score", "option minus plain score, in points (marked when a wall clock cut either run's training)"),
    ("compile_s", "seconds spent compiling in the warm-up (--compile runs)"),
)


def _twin_key(record: Record) -> str:
    """The run key without the speed options: an option's record and its plain twin share it."""
    return run_key(record, speed=False)


def _median(record: Record, phase: str, largest: bool) -> tuple[float, int] | None:
    per_batch = (record.timing or {}).get(phase) or {}
    stats = largest_batch(per_batch) if largest else per_batch.get("b1")
    return (stats.median_ms, stats.batch) if stats else None


def _ratio(num: float | None, den: float | None) -> str:
    return "-" if not num or not den else f"{num / den:.2f}x"


def _throughput(record: Record, phase: str) -> float | None:
    m = _median(record, phase, largest=True)
    return m[1] / m[0] if m else None


def _train_seconds(record: Record) -> float | None:
    return record.training.train_seconds if record.training else None


def speed_rows(records: list[Record]) -> list[dict[str, str]]:
    """One row per record with speed options that has a plain twin (the newest plain twin is used)."""
    plain: dict[str, Record] = {}
    for r in sorted(records, key=lambda r: r.started_utc):
        if not speed_words(r):
            plain[_twin_key(r)] = r
    rows = []
    for r in records:
        base = plain.get(_twin_key(r))
        if not speed_words(r) or base is None:
            continue
        b1_base, b1 = _median(base, "forward", False), _median(r, "forward", False)
        t_base, t = _train_seconds(base), _train_seconds(r)
        s_base, s = base.score, r.score
        compile_s = r.metrics.compile_seconds
        rows.append(
            {
                "model": r.model,
                "dataset": r.dataset.name or "-",
                "speed": " ".join(speed_words(r)),
                "fwd_b1": _ratio(b1_base[0] if b1_base else None, b1[0] if b1 else None),
                "fwd_tput": _ratio(_throughput(r, "forward"), _throughput(base, "forward")),
                "step_tput": _ratio(_throughput(r, "train_step"), _throughput(base, "train_step")),
                "train": _ratio(t_base, t),
                "score": "-" if s is None or s_base is None else f"{100 * (s - s_base):+.2f}"
                + (" (cut by wall clock)" if cut_by_wall_clock([r, base]) else ""),
                "compile_s": "-" if compile_s is None else f"{compile_s:.1f}",
            }
        )
    return sorted(rows, key=lambda row: (row["model"], row["dataset"], row["speed"]))


def format_speed_markdown(rows: list[dict[str, str]]) -> str:
    keys = [k for k, _ in SPEED_COLUMNS]
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(row[k] for k in keys) + " |" for row in rows]
    return "\n".join(lines)
