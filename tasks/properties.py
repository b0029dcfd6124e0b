"""The lecture's three properties as a ladder of models and the claims read from it, shared by the tasks that
run it (images, spectrograms).

The lecture: a CNN is a fully connected net with neurons taken away, justified by three properties of the data
(a pattern is small: locality; it appears anywhere: weight sharing; subsampling keeps the object: pooling). The
ladder adds one property per rung under one training budget, after LeCun et al. 1998's motivation of the
convolutional net: a DNN; a DNN with the CNN's parameter count (so "fewer parameters" and "a better bias" can
be told apart); the CNN's layers locally connected (locality only); the CNN without pooling (locality and
sharing); the CNN (all three). Controls switch a property off in the data (a fixed permutation of the input
positions) or test it (inputs shifted at test time, inputs averaged down)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from torch import nn

from cnnbench.modules.locally_connected import LocallyConnected2d
from cnnbench.results import claims

if TYPE_CHECKING:
    from cnnbench.results.record import Record

ANCHOR = "the lecture's argument; no published measurement of this ladder (LeCun et al. 1998 motivate it)"


class LadderNet(nn.Module):
    """Two 3x3 layers (`maps` maps each, no padding), then Dense `hidden` and the classes, with the lecture CNN's
    dropout (0.25 after the layers, 0.5 after Dense). kind="conv": shared weights (locality and sharing);
    kind="local": a locally connected layer per position (the same receptive fields and maps, unshared:
    locality only). pool=True puts 2x2 max pooling after each layer (all three properties): with the lecture's
    maps (25, 50) on 1x28x28 it is the lecture's CNN. Inputs (C, H, W), any size the layers fit."""

    def __init__(
        self,
        kind: str,
        num_classes: int,
        shape: Sequence[int],
        maps: tuple[int, int] = (25, 50),
        hidden: int = 100,
        pool: bool = False,
    ) -> None:
        super().__init__()
        if kind not in ("conv", "local") or (pool and kind == "local"):
            raise ValueError(f"a ladder rung is conv (pooled or not) or local (unpooled), got {kind!r} pool={pool}")
        c, h, w = shape

        def layer(cin: int, cout: int, size: tuple[int, int]) -> nn.Module:
            return nn.Conv2d(cin, cout, 3) if kind == "conv" else LocallyConnected2d(cin, cout, size, 3)

        def after(size: tuple[int, int]) -> tuple[int, int]:  # a 3x3 layer, then the pooling when there is one
            return ((size[0] - 2) // 2, (size[1] - 2) // 2) if pool else (size[0] - 2, size[1] - 2)

        first = after((h, w))
        out = after(first)
        if min(out) < 1:
            raise ValueError(f"input {tuple(shape)} is too small for two 3x3 layers{' with pooling' if pool else ''}")
        maybe_pool = (lambda: nn.MaxPool2d(2)) if pool else nn.Identity
        self.features = nn.Sequential(
            layer(c, maps[0], (h, w)), nn.ReLU(), maybe_pool(),
            layer(maps[0], maps[1], first), nn.ReLU(), maybe_pool(), nn.Dropout(0.25),
        )  # fmt: skip
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(maps[1] * out[0] * out[1], hidden), nn.ReLU(),
                                  nn.Dropout(0.5), nn.Linear(hidden, num_classes))  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def hidden_for_params(params: int, in_features: int, num_classes: int = 10) -> int:
    """The width h of a 2-hidden-layer DNN (in-h-h-k) with about `params` parameters."""
    # in*h + h + h*h + h + h*k + k = params  ->  h^2 + (in + k + 2) h + (k - params) = 0
    b, c = in_features + num_classes + 2, num_classes - params
    return max(1, round((-b + (b * b - 4 * c) ** 0.5) / 2))


@dataclass(frozen=True)
class Ladder:
    """One modality's property experiments and how their claims word them."""

    data: str  # how the claims name the data: "MNIST", "CIFAR-10", "digits"
    experiment: str  # the ladder's experiment (every rung, shifted test inputs)
    cnn: str  # the top rung: the pooled CNN
    shift_group: str  # the by_group key of the shifted test inputs
    shifted: str  # "test images shifted by 2 pixels" (the claims compare the drop at shift "2")
    shift_note: str  # what a shift does to an input, for the closing note
    inputs: str = "images"  # what a training sample is, for the budget
    permuted: str | None = None  # the experiment with one fixed permutation of the input positions
    permutation: str = ""  # "permuting the pixels"
    downsampled: str | None = None  # the experiment on inputs averaged down by 2
    downsampling: str = ""  # "the CNN on images averaged down to 14x14 beats the DNN on the 28x28 originals"
    sizes: tuple[str, str] = ("downsampled", "full size")  # the two sides' input sizes: ("14x14", "28x28")
    # rungs whose shift drop is compared with the DNN's, and rungs whose permutation drop is (name, words)
    shift_rungs: tuple[str, ...] = ("cnn-nopool",)
    permuted_rungs: tuple[tuple[str, str], ...] = ()
    cnn_words: str = "the lecture's CNN"
    dnn_words: str = "the lecture's DNN"
    dnn: str = "dnn"
    small: str = "dnn-small"
    local: str = "local-nopool"
    nopool: str = "cnn-nopool"


def ladder_claims(ladder: Ladder, records: list[Record]) -> list[str]:
    """The claims of one ladder's experiments, with verdicts; none when its top rung has no runs."""

    def runs(model: str, experiment: str | None = ladder.experiment) -> list[Record]:
        return claims.pick(records, lambda r: r.experiment == experiment and r.model == model)

    def judge(statement: str, a: claims.Side, b: claims.Side, expect: str = "greater") -> str:
        return claims.judge(f"{ladder.data} property {statement}", a, b, expect=expect, anchor=ANCHOR)

    if not runs(ladder.cnn):
        return []
    lines = []
    rungs = [
        ("1, locality: local filters (unshared; far more weights, see the costs) beat a fully connected net of "
         "the CNN's size", ladder.local, ladder.small),
        (f"1, locality: local filters (unshared) beat {ladder.dnn_words}", ladder.local, ladder.dnn),
        ("2, weight sharing: shared local filters beat unshared ones", ladder.nopool, ladder.local),
        ("3, subsampling: the CNN with pooling after each layer beats the same CNN without pooling",
         ladder.cnn, ladder.nopool),
        (f"all three: {ladder.cnn_words} beats a DNN with the same parameter count", ladder.cnn, ladder.small),
    ]  # fmt: skip
    for statement, a, b in rungs:
        if runs(a) and runs(b):
            lines.append(judge(statement, claims.side(a, runs(a)), claims.side(b, runs(b))))
    drop = _drop(ladder.shift_group, "0", "2")
    for model in (ladder.cnn, *ladder.shift_rungs):
        shift = (claims.side(f"{model} drop", runs(model), drop), claims.side("dnn drop", runs(ladder.dnn), drop))
        if shift[0].values and shift[1].values:
            lines.append(judge(f"2, patterns anywhere: {ladder.shifted} cost {model} less accuracy than the DNN",
                               *shift, expect="less"))  # fmt: skip
    for model, words in ladder.permuted_rungs if ladder.permuted else ():
        permuted = [claims.paired_drop(f"{m} drop", runs(m), runs(m, ladder.permuted)) for m in (model, ladder.dnn)]
        if all(s.values for s in permuted):
            lines.append(judge(f"1 control: {ladder.permutation} (locality off) costs {words} more accuracy than "
                               "the DNN", *permuted))  # fmt: skip
    small, full = runs(ladder.cnn, ladder.downsampled), runs(ladder.dnn)
    if ladder.downsampled and small and full:
        lines.append(judge(f"3 control: subsampling keeps the object: {ladder.downsampling}",
                           claims.side(f"{ladder.cnn} {ladder.sizes[0]}", small),
                           claims.side(f"{ladder.dnn} {ladder.sizes[1]}", full)))  # fmt: skip
    lines.append(f"{ladder.data} properties: {budget_words(ladder, runs)}; drops are in points of accuracy; "
                 f"{ladder.shift_note}; records: {claims.PICK_RULE}.")  # fmt: skip
    return lines


def budget_words(ladder: Ladder, runs) -> str:
    """The training budget the ladder's runs had, read from their records (one budget, or each rung's)."""
    rungs = [m for m in (ladder.dnn, ladder.small, ladder.local, ladder.nopool, ladder.cnn, *ladder.shift_rungs)]
    budgets: dict[str, list[str]] = {}
    for model in dict.fromkeys(rungs):
        trained = [r.training for r in runs(model) if r.training is not None]
        if trained:
            epochs = sorted({round(t.epochs_run, 3) for t in trained})
            samples = sorted({t.train_samples for t in trained})
            words = (f"{'/'.join(f'{e:g}' for e in epochs)} epochs on {'/'.join(f'{n:,}' for n in samples)} "
                     f"training {ladder.inputs}")  # fmt: skip
            budgets.setdefault(words, []).append(model)
    where = f"the `{ladder.experiment}` experiment"
    if len(budgets) == 1:
        return f"every rung trained under one budget, {next(iter(budgets))} ({where})"
    return f"budgets in {where}: " + "; ".join(f"{', '.join(ms)} {w}" for w, ms in budgets.items())


def _drop(group: str, low: str, high: str):
    """Per run: the score at by_group[group][low] minus at [high] (e.g. unshifted minus shifted by 2), in points."""

    def value(r: Record) -> float | None:
        scores = r.metrics.by_group.get(group, {})
        return scores[low] - scores[high] if low in scores and high in scores else None

    return value
