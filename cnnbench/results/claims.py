"""Claims as comparisons over seeds: which records stand for a model (a stated rule), and one sentence with
both sides' scores (mean ± 95% interval, n), their costs, the difference with its interval and p-value,
and a verdict (see cnnbench.measure.statistics). Task summaries build their claims from these."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cnnbench.measure.statistics import Comparison, compare, compare_to, estimate
from cnnbench.results.record import Record, config_key, speed_words

PICK_RULE = "per model, the plain-option configuration with the most runs, newest first"


def pick(records: Sequence[Record], where: Callable[[Record], bool]) -> list[Record]:
    """The runs (seeds, folds) of one configuration among the records that satisfy `where`: PICK_RULE."""
    groups: dict[str, list[Record]] = {}
    for r in records:
        if where(r) and r.training is not None and r.score is not None:
            groups.setdefault(config_key(r), []).append(r)
    if not groups:
        return []
    plain = {k: g for k, g in groups.items() if not speed_words(g[0])} or groups
    return max(plain.values(), key=lambda g: (len(g), max(r.started_utc for r in g)))


def cut_by_wall_clock(runs: Sequence[Record]) -> bool:
    return any(r.training is not None and r.training.cut_by_wall_clock for r in runs)


def cost_words(runs: Sequence[Record]) -> str:
    """Parameters, forward MFLOPs per sample, training PFLOPs and training time (means over the runs)."""
    r = runs[0]
    words = f"{r.metrics.params:,} params, {r.metrics.flops_fwd / 1e6:,.2f} MFLOPs/sample"
    trained = [x for x in runs if x.training is not None]
    if trained:
        seconds = statistics.fmean(x.training.train_seconds for x in trained)
        epochs = statistics.fmean(x.training.epochs_run for x in trained)
        words += f", {epochs:.3g} epochs = {_training_tflops(trained):,.3g} training TFLOPs in {seconds:,.1f} s"
    if cut_by_wall_clock(runs):
        words += ", CUT BY A WALL-CLOCK BUDGET"
    return words


def _training_tflops(runs: Sequence[Record]) -> float:
    """Training TFLOPs (per-sample training FLOPs x samples trained), mean over the trained runs."""
    trained = [x for x in runs if x.training is not None]
    return statistics.fmean(x.metrics.flops_train * x.training.samples for x in trained) / 1e12


def _design(runs: Sequence[Record]) -> str:
    """How a side's runs differ: k-fold cross-validation, or seeds (the split follows the seed where the task's
    design has one)."""
    folds = sorted({r.dataset.fold[1] for r in runs if r.dataset.fold})
    return "/".join(f"{k}-fold CV" for k in folds) if folds else "seeds"


def _unlike(a: Sequence[Record], b: Sequence[Record]) -> str:
    """What differs between the two sides' protocols (profile, cross-validation or seeds), said before the
    budget so that a reader sees that the sides were not run alike; empty when they were."""
    said = []
    pa, pb = sorted({r.profile for r in a}), sorted({r.profile for r in b})
    if pa != pb:
        said.append(f"UNLIKE PROFILES ({'/'.join(pa)} vs {'/'.join(pb)})")
    da, db = _design(a), _design(b)
    if da != db:
        said.append(f"UNLIKE PROTOCOLS ({da} vs {db})")
    elif da != "seeds":
        said.append(da)
    return "; ".join(said)


def matched_on(a: Sequence[Record], b: Sequence[Record]) -> str:
    """What the comparison holds equal: training FLOPs (a compute budget), epochs, or neither (said so);
    preceded by the protocol when it is cross-validation, and by what differs when the sides ran unalike."""
    if not any(r.training for r in a) or not any(r.training for r in b):
        return ""
    budget = _budget(a, b)
    unlike = _unlike(a, b)
    return f"{unlike}; {budget}" if unlike else budget


def _budget(a: Sequence[Record], b: Sequence[Record]) -> str:
    fa, fb = _training_tflops(a), _training_tflops(b)
    budgeted = any(r.training is not None and r.training.stopped_by == "flops" for r in [*a, *b])
    if budgeted and abs(fa - fb) <= 0.02 * max(fa, fb):
        return f"equal training compute ({fa:,.3g} vs {fb:,.3g} training TFLOPs)"
    ea = {r.training.epochs_run for r in a if r.training}
    eb = {r.training.epochs_run for r in b if r.training}
    ratio = max(fa, fb) / min(fa, fb) if min(fa, fb) > 0 else float("inf")
    compute = "equal training compute" if ratio <= 1.02 else f"training compute differs {ratio:.2g}x"
    if ea == eb and len(ea) == 1:
        return f"equal epochs ({ea.pop():g} each); {compute}"
    return f"unequal budgets; {compute}"


class Claim(str):
    """A claim's sentence (a str, as task summaries print it) that also keeps its parts for the Claims
    section of the published results: the statement, the verdict, both sides with their n, the difference,
    what the comparison held equal, and the published anchor it is read against."""

    statement: str
    verdict: str
    sides: str
    difference: str
    matched: str
    anchor: str

    def __new__(cls, text: str, **parts: str) -> Claim:
        claim = super().__new__(cls, text)
        for key, value in parts.items():
            setattr(claim, key, value)
        return claim

    def __add__(self, more: str) -> Claim:
        """The sentence with more said after it (e.g. a baseline that did not converge); the parts stay."""
        return Claim(str(self) + more, **vars(self))


@dataclass(frozen=True)
class Side:
    label: str
    runs: list[Record]
    values: list[float]  # one per run, in the runs' order


def side(label: str, runs: Sequence[Record], value: Callable[[Record], float | None] = lambda r: r.score) -> Side:
    kept = [(r, value(r)) for r in runs]
    kept = [(r, v) for r, v in kept if v is not None]
    return Side(label, [r for r, _ in kept], [float(v) for _, v in kept])


def paired_drop(label: str, plain: Sequence[Record], changed: Sequence[Record]) -> Side:
    """Per seed and fold, the score one model lost between two experiments' runs (plain minus changed): the
    effect of a control that switches a property off in the data."""
    by_run = {(r.seed, r.dataset.fold): r.score for r in plain}
    kept = [r for r in changed if (r.seed, r.dataset.fold) in by_run and r.score is not None]
    return Side(label, kept, [by_run[(r.seed, r.dataset.fold)] - r.score for r in kept])


def _aligned(side: Side, keys: list[tuple]) -> Side:
    """The side's runs in the order of `keys` (seed, fold) when it ran exactly those, else as it is."""
    order = {(r.seed, r.dataset.fold): i for i, r in enumerate(side.runs)}
    if sorted(order) != sorted(keys) or len(order) != len(side.runs):
        return side
    idx = [order[k] for k in keys]
    return Side(side.label, [side.runs[i] for i in idx], [side.values[i] for i in idx])


def judge(statement: str, a: Side, b: Side, expect: str = "greater", costs: bool = True, anchor: str = "") -> Claim:
    """One sentence: the claim, both sides, the comparison and its verdict (anchor: the published result
    the claim is read against, kept for the Claims section).

    The test is paired when both sides ran the same seeds and folds (same splits), else Welch's."""
    keys = [(r.seed, r.dataset.fold) for r in a.runs]
    b = _aligned(b, keys)
    paired = len(a.runs) > 1 and keys == [(r.seed, r.dataset.fold) for r in b.runs] and len(set(keys)) == len(keys)
    result: Comparison = compare(a.values, b.values, expect, paired=paired)
    parts = []
    for s in (a, b):
        words = f"{s.label} {estimate(s.values).text()}"
        if costs:
            words += f" [{cost_words(s.runs)}]"
        parts.append(words)
    single = " (single runs: no claim)" if len(a.values) < 2 or len(b.values) < 2 else ""
    matched = matched_on(a.runs, b.runs)
    text = (f"{statement}: {result.verdict.upper()}{single}. " + " vs ".join(parts)
            + f"; difference {result.text()}." + (f" Compared at {matched}." if costs and matched else ""))  # fmt: skip
    sides = " vs ".join(f"{s.label} {estimate(s.values).text()}" for s in (a, b))
    return Claim(text, statement=statement, verdict=result.verdict.upper() + single, sides=sides,
                 difference=result.text().rsplit(";", 1)[0], matched=matched, anchor=anchor)  # fmt: skip


def run_seconds(r: Record) -> float | None:
    """A run's time as the speed records count it: from its first training step to the end of its final
    evaluation (training plus the closing scoring; the learning curve's scoring is paused out of both)."""
    if r.training is None or r.metrics.eval_seconds is None:
        return None
    return r.training.train_seconds + r.metrics.eval_seconds


def judge_target(statement: str, s: Side, target: float, anchor: str = "", goal_seconds: float | None = None) -> Claim:
    """One sentence: a recipe's mean score over its runs against a fixed published target (the speed records'
    criterion: the mean over runs at or above it), one-sample interval and verdict, the gap when below, and
    the time the runs took against a goal of goal_seconds on this machine when one is set."""
    result = compare_to(s.values, target)
    est = estimate(s.values)
    speed = ", ".join(speed_words(s.runs[0]))
    parts = [f"{s.label} {est.text()} [{cost_words(s.runs)}{'; ' + speed if speed else ''}] against "
             f"{100 * target:.2f}%; difference {result.text()}."]  # fmt: skip
    if est.mean < target:
        parts.append(f"Gap to the target: {100 * (target - est.mean):.2f} points.")
    seconds = [t for t in (run_seconds(r) for r in s.runs) if t is not None]
    if seconds and goal_seconds is not None:
        took = estimate(seconds)
        form = ",.0f" if goal_seconds >= 120 else ".3g"  # a GPU's seconds against a goal of a few
        spread = f" ± {took.half_width:{form}}" if took.half_width is not None else ""
        took_text = f"{took.mean:{form}}{spread} s (n={took.n})"
        within = "within" if took.mean <= goal_seconds else "over"
        goal = f"{goal_seconds / 60:.0f} min" if goal_seconds >= 120 else f"{goal_seconds:g} s"
        parts.append(f"Time from the first step to the end of the final evaluation: {took_text}, {within} the "
                     f"goal of {goal} on this machine.")  # fmt: skip
    single = " (single runs: no claim)" if len(s.values) < 2 else ""
    text = f"{statement}: {result.verdict.upper()}{single}. " + " ".join(parts)
    return Claim(text, statement=statement, verdict=result.verdict.upper() + single, sides=f"{s.label} {est.text()}",
                 difference=result.text().rsplit(";", 1)[0], matched=f"a fixed target, {100 * target:.2f}%",
                 anchor=anchor)  # fmt: skip
