"""The Go task: local patterns that recur anywhere, but no subsampling: AlphaGo's policy network."""

from __future__ import annotations

import functools
import math
import statistics
from collections.abc import Mapping
from typing import TYPE_CHECKING

import torch
from torch import nn

from cnnbench.measure.statistics import estimate
from cnnbench.results import claims
from cnnbench.spec import (
    BuildContext,
    DataRequest,
    DataSpec,
    ModelSpec,
    Profile,
    Splits,
    Target,
    Task,
    TaskOption,
    int_at_least,
    one_of,
    positive_int,
)
from cnnbench_tasks.go import data
from cnnbench_tasks.go.explain import GoRenderer
from cnnbench_tasks.go.models import AlphaGoPolicy, DensePolicy, Policy, packed_bytes
from cnnbench_tasks.go.positions import LAYOUTS, planes_of

if TYPE_CHECKING:
    from cnnbench.results.record import Record

# Move-prediction accuracy on held-out expert games, to print beside ours
CLAIM_ANCHORS = {
    "alphago-policy-pool": "AlphaGo's policy net has no pooling (Silver et al. 2016); no published pooled twin",
    "dnn": "CNN policies 44-57% top-1 (Clark & Storkey 2015; Silver et al. 2016); no published DNN anchor",
}
ANCHORS = (
    "Clark & Storkey 2015: ~44%",
    "Maddison et al. 2015: 55%",
    "AlphaGo SL (Silver et al. 2016), one k=192 net: 55.4%; 57.0% with the 8-symmetry ensemble and k=256",
)
THROUGHPUT_BATCH = 128
UNIFORM_LOSS = math.log(361)  # cross-entropy of a uniform guess over the board


def _net(model: str, planes: int, options: Mapping[str, str]) -> nn.Module:
    k, layers = int(options.get("filters", 64)), int(options.get("layers", 6))
    if model == "alphago-policy":
        return AlphaGoPolicy(planes, k, layers)
    if model == "alphago-policy-pool":
        return AlphaGoPolicy(planes, k, layers, pool=True)
    return DensePolicy(planes)


def _planes(options: Mapping[str, str]) -> int:
    """Feature planes of the options' layout: the one number the model, its inputs and the data agree on."""
    return planes_of(options.get("features", "alphago48"))


def _build(name: str, ctx: BuildContext) -> nn.Module:
    planes = _planes(ctx.options)
    return Policy(_net(name, planes, ctx.options), planes, ensemble=ctx.options.get("ensemble") == "1")


def _spec(name: str, description: str) -> ModelSpec:
    return ModelSpec(
        name,
        functools.partial(_build, name),
        description,
        (packed_bytes(planes_of("alphago48")),),
        num_classes=361,
        throughput_batch=THROUGHPUT_BATCH,
        default_dataset="sgf",
    )


class GoTask(Task):
    name = "go"
    modality = "board"
    primary_metric = "top1"
    # move prediction on expert games: Clark & Storkey 2015 44.4% (GoGoD; the state of the art AlphaGo cites),
    # Silver et al. 2016 55.7% (SL policy on the raw board and history) and 57.0% (all 48 features), on KGS games
    targets = (
        Target("sgf", 0.444, "Clark & Storkey 2015: 44.4% top-1 on GoGoD"),
        Target("sgf", 0.557, "Silver et al. 2016: 55.7% top-1, SL policy on raw features"),
        Target("sgf", 0.570, "Silver et al. 2016: 57.0% top-1, SL policy on all 48 features"),
    )
    datasets = {
        "sgf": DataSpec("sgf", "a folder of SGF game records (19x19; e.g. ../shared/data/go/tom-9d)", needs_dir=True),
        "gnugo-selfplay": DataSpec("gnugo-selfplay", "GNU Go level 1 self-play games, generated offline and cached"),
    }
    models = {
        "alphago-policy": _spec("alphago-policy", "Silver et al. 2016: 5x5 then 3x3 filters, zero padding, no pooling"),
        "alphago-policy-pool": _spec("alphago-policy-pool", "the same with 2x2 max pooling after the first layer"),
        "dnn": _spec("dnn", "fully connected, 2 x 1024, on the same planes"),
    }
    default_models = ("alphago-policy", "alphago-policy-pool", "dnn")
    options = {
        "features": TaskOption("features", "feature planes: alphago48 or raw (board + history)", "alphago48",
                               one_of(*LAYOUTS)),
        "filters": TaskOption("filters", "k, filters per layer (AlphaGo: 192; smaller on CPU)", "64", positive_int),
        "layers": TaskOption("layers", "convolution layers in all, at least 3: 5x5, 3x3s, 1x1 (AlphaGo: 13; fewer "
                             "on CPU)", "6", int_at_least(3)),
        "ensemble": TaskOption("ensemble", "1: evaluate averaging over the 8 symmetries", "0", one_of("0", "1")),
        "selfplay_games": TaskOption("selfplay_games", "games of gnugo-selfplay to generate and use", "40",
                                     positive_int),
        "strict": TaskOption("strict", "1: a corrupt game or illegal move is fatal instead of skipped", "0",
                             one_of("0", "1")),
    }  # fmt: skip
    profiles = {
        # quick: 24 games (22 train = 4,537 positions, 1 test game = 284), 1 epoch, no wall clock: 51 s for the
        # three models (warm cache); top-1 policy 9.5%, pool 7.4%, dnn 1.4% (chance 0.3%); 3 epochs: 100 s,
        # 21.1 / 14.1 / 0.7% (measured 2026-11-30, 2-core EPYC)
        "quick": Profile(epochs=1, batch_size=64, lr=1e-3, timing_min_runs=3,
                         timing_min_time_s=0.05, timing_max_time_s=1.0, timing_warmup=1),
        # default: 160 games (132 train, 8 dev, 20 test games: ~4,100 test positions, about +-1.3 points at 95%;
        # 5% would be 8 games, +-2.1), 2 epochs, 3 seeds, no wall clock. s/epoch (with 144 training games):
        # alphago-policy 67, -pool 37, dnn 72 (470 / 860 / 440 positions/s); after 1 epoch top-1 23.7 / 14.5 /
        # 1.0%. Predicted ~20 min warm (3 seeds x 2 epochs x 175 s + ~75 s reading the SGF files); 2-epoch
        # accuracy not measured (measured 2026-11-30, 2-core EPYC)
        "default": Profile(epochs=2, batch_size=64, lr=1e-3, seeds=3, timing_min_runs=5,
                           timing_min_time_s=0.2, timing_max_time_s=2.0),
        # full: every game (1.9M training positions of tom-9d), at most 1 epoch or 500,000 positions (about 30 min
        # for the k=64 policy on 2 CPU cores at ~265 positions/s, measured 2026-11-23); AlphaGo trained 340M steps
        # of batch 16 with SGD, far beyond a CPU. No wall clock: --time-budget when a user wants one
        "full": Profile(epochs=1, batch_size=128, lr=1e-3, max_samples=500_000),
    }  # fmt: skip

    def load(self, request: DataRequest) -> Splits:
        return data.load(request)

    def input_shape(self, model: str, options: Mapping[str, str]) -> tuple[int, ...]:
        """Packed rows of the options' feature planes and the legal-move mask."""
        return (packed_bytes(_planes(options)),)

    def example_input(self, model: str, batch: int, ctx: BuildContext | None = None) -> torch.Tensor:
        """Random packed planes of the context's width (every bit random: some points illegal)."""
        ctx = ctx or self.context(model)
        return torch.randint(0, 256, (batch, *ctx.input_shape), dtype=torch.uint8)

    def renderer(self) -> GoRenderer:
        return GoRenderer()

    def evaluate(self, logits: torch.Tensor, target: torch.Tensor) -> dict[str, float]:
        top5 = logits.topk(5, dim=1).indices
        return {
            "top1": (top5[:, 0] == target).float().mean().item(),
            "top5": (top5 == target[:, None]).any(1).float().mean().item(),
        }

    def summarize(self, records: list[Record]) -> list[str]:
        """Move prediction over runs, and the lecture's claim: on a board, no pooling (subsampling changes the
        position); the CNN against the DNN, saying when the DNN's training did not converge."""
        got = [r for r in records if r.score is not None and r.training is not None]
        if not got:
            return []
        models = ("alphago-policy", "alphago-policy-pool", "dnn")
        # at equal epochs: the runs without a compute budget; the pooled net also at the policy's training FLOPs
        # (`--match-flops alphago-policy`: the cheaper pooled net trains about twice the epochs)
        unbudgeted = [r for r in got if r.config.profile.train_flops is None]
        runs = {m: claims.pick(unbudgeted, lambda r, m=m: r.model == m) for m in models}
        pooled_flops = claims.pick(got, lambda r: r.model == "alphago-policy-pool"
                                   and r.config.flops_matched_to == "alphago-policy")  # fmt: skip
        lines = []
        listed = [(m, picked, "") for m, picked in runs.items()]
        listed.append(("alphago-policy-pool", pooled_flops, " at alphago-policy's training FLOPs"))
        for model, picked, budget in listed:
            if picked:
                top1 = estimate([r.score for r in picked]).text()
                top5 = estimate([r.metrics.scores.get("top5", float("nan")) for r in picked]).text()
                games = picked[0].dataset.notes.get("games_used", "?")
                lines.append(f"{model}{budget} ({picked[0].profile} profile, {games} games): top-1 {top1}, "
                             f"top-5 {top5}")  # fmt: skip
        text = ["Move prediction on held-out games: " + "; ".join(lines) + ". Anchors: " + "; ".join(ANCHORS) + "."]
        text = text if lines else []
        policy = runs["alphago-policy"]
        comparisons = (("alphago-policy-pool", "Go, no pooling beats pooling after the first layer, at equal epochs",
                        runs["alphago-policy-pool"]),
                       ("alphago-policy-pool", "Go, no pooling beats pooling after the first layer, at equal training "
                        "FLOPs", pooled_flops),
                       ("dnn", "Go, the policy CNN beats the fully connected DNN", runs["dnn"]))  # fmt: skip
        for other, statement, theirs in comparisons:
            if policy and theirs:
                cnn = claims.side("alphago-policy", policy)
                sentence = claims.judge(statement, cnn, claims.side(other, theirs), anchor=CLAIM_ANCHORS[other])
                losses = [r.training.final_loss for r in theirs if r.training.final_loss is not None]
                if other == "dnn" and losses and statistics.fmean(losses) > 0.8 * UNIFORM_LOSS:
                    sentence += (f" The DNN did not converge: final training loss {statistics.fmean(losses):.2f} "
                                 f"against {UNIFORM_LOSS:.2f} for a uniform guess.")  # fmt: skip
                text.append(sentence)
        return text
