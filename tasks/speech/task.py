"""The speech task: is a filter that slides only along frequency the right structure for speech?"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING

from cnnbench.errors import UsageError
from cnnbench.results import claims
from cnnbench.spec import DataRequest, DataSpec, Experiment, ModelSpec, Profile, Splits, Target, Task, TensorData
from cnnbench_tasks.speech import data
from cnnbench_tasks.speech.features import band_normalizer
from cnnbench_tasks.speech.models import DNN, CNN2d, FreqCNN, FreqCNNLSTM

if TYPE_CHECKING:
    from cnnbench.results.record import Record

CLIP_SHAPE = (1, 40, 101)  # 40 log-mel bands x 101 frames (1 s at a 10 ms hop)
# the lecture's frequency-shift claim: train on one sex's voices, test on the other's
SEX_SHIFTS = (("male", "female"), ("female", "male"))
CLIP_DATASETS = ("synth-digits", "synth-words", "fsdd", "speechcommands")


def _shift_name(seen: str, unseen: str) -> str:
    return f"{seen}-to-{unseen}"


def _spec(name: str, builder: Callable, description: str, datasets: tuple[str, ...]) -> ModelSpec:
    return ModelSpec(
        name,
        builder,
        description,
        CLIP_SHAPE,
        num_classes=10,
        throughput_batch=64,
        default_dataset="synth-digits",
        datasets=datasets,
    )


class SpeechTask(Task):
    name = "speech"
    modality = "audio"
    primary_metric = "accuracy"
    # FSDD publishes no benchmark score; 95% on its official split is cnnbench's own aim, stated as such
    targets = (Target("fsdd", 0.95, "cnnbench's aim for FSDD's official split (no published benchmark)"),)
    report_groups = ("sex",)
    datasets = {
        "synth-digits": DataSpec("synth-digits", "digits 0-9 spoken by 104 eSpeak NG voices (8 accents x 13)"),
        "synth-words": DataSpec("synth-words", "the 10 Speech Commands core words, same voices"),
        "synth-phonemes": DataSpec("synth-phonemes", "frame phoneme labels from the synthetic clips, 11-frame windows"),
        "fsdd": DataSpec("fsdd", "Free Spoken Digit Dataset, real 8 kHz recordings; test = takes 0-4", True),
        "speechcommands": DataSpec("speechcommands", "Speech Commands folder layout (16 kHz, resampled)", True),
    }
    models = {
        "freq-cnn": _spec(
            "freq-cnn",
            lambda k, s: FreqCNN(k, s),
            "filters span all frames and 8 bands, slide along frequency only (Abdel-Hamid et al. 2014)",
            CLIP_DATASETS + ("synth-phonemes",),
        ),
        "cnn-2d": _spec(
            "cnn-2d",
            lambda k, s: CNN2d(k, s),
            "3x3 filters over time and frequency, 2x2 pooling",
            CLIP_DATASETS + ("synth-phonemes",),
        ),
        "dnn": _spec("dnn", lambda k, s: DNN(k, s), "fully connected, 2 x 512", CLIP_DATASETS + ("synth-phonemes",)),
        "freq-cnn-lstm": _spec(
            "freq-cnn-lstm",
            lambda k, s: FreqCNNLSTM(k, s),
            "frequency CNN per 5-frame window, LSTM over time",
            CLIP_DATASETS,
        ),
    }
    default_models = ("freq-cnn", "cnn-2d", "dnn", "freq-cnn-lstm")
    profiles = {
        # quick: smoke test, seconds per model
        "quick": Profile(
            epochs=2,
            batch_size=64,
            lr=1e-3,
            time_budget_s=3,
            train_limit=600,
            test_limit=400,
            timing_min_runs=3,
            timing_min_time_s=0.05,
            timing_max_time_s=1.0,
            timing_warmup=1,
        ),
        # default: the whole task in < 3 minutes on 2 cores, cold cache included: an equal 5 s of
        # training per model and experiment, short timings
        "default": Profile(
            epochs=30,
            batch_size=64,
            lr=1e-3,
            time_budget_s=5,
            timing_min_runs=5,
            timing_min_time_s=0.2,
            timing_max_time_s=1.0,
        ),
        # full: longer training (20 epochs or 60 s per model), longer timings; the published records
        "full": Profile(epochs=20, batch_size=64, lr=1e-3, time_budget_s=60),
    }

    def load(self, request: DataRequest) -> Splits:
        if request.dataset in data.CORPORA:
            return data.load_synth_words(request.dataset, request)
        if request.dataset == "synth-phonemes":
            return data.load_synth_phonemes(request)
        if request.dataset == "fsdd":
            assert request.data_dir is not None
            return data.load_fsdd(request.data_dir, request.device)
        if request.dataset == "speechcommands":
            assert request.data_dir is not None
            return data.load_speechcommands(request.data_dir, request.device)
        raise UsageError(f"unknown data set {request.dataset!r}")

    def normalizer(self, train: TensorData) -> Callable[[TensorData], TensorData]:
        """Per-band mean and variance from the training data only (also for a test set from elsewhere)."""
        norm = band_normalizer(train.x)

        def apply(d: TensorData) -> TensorData:
            return dataclasses.replace(d, x=norm(d.x))

        return apply

    def summarize(self, records: list[Record]) -> list[str]:
        """The lecture's claim over seeds: a frequency-only CNN loses less accuracy than the DNN and the 2-D CNN
        when the test voices are of the other sex (the drop is accuracy on held-out seen-sex voices minus
        accuracy on unseen-sex voices, per run)."""
        lines = []
        for seen, unseen in SEX_SHIFTS:
            exp = _shift_name(seen, unseen)

            def drop(r: Record, seen: str = seen, unseen: str = unseen) -> float | None:
                by_sex = r.metrics.by_group.get("sex", {})
                return by_sex[seen] - by_sex[unseen] if seen in by_sex and unseen in by_sex else None

            runs = {m: claims.pick(records, lambda r, m=m, exp=exp: r.experiment == exp and r.model == m)
                    for m in ("freq-cnn", "dnn", "cnn-2d")}  # fmt: skip
            if not runs["freq-cnn"]:
                continue
            freq = claims.side("freq-cnn drop", runs["freq-cnn"], drop)
            for other in ("dnn", "cnn-2d"):
                if runs[other]:
                    statement = (f"{exp} (trained on {seen} voices), the frequency-only CNN loses less accuracy on "
                                 f"{unseen} voices than {other}")  # fmt: skip
                    lines.append(claims.judge(statement, freq, claims.side(f"{other} drop", runs[other], drop),
                                              expect="less"))  # fmt: skip
        if lines:
            lines.append(f"Drops in points of accuracy (seen-sex held-out speakers minus unseen sex); records: "
                         f"{claims.PICK_RULE}.")  # fmt: skip
        return lines

    def experiments(self) -> list[Experiment]:
        clip = self.default_models
        shifts = [
            Experiment(
                _shift_name(seen, unseen),
                f"train on {seen} voices only; test on held-out {seen} and on {unseen} voices",
                "synth-digits",
                train_where={"sex": seen},
                models=clip,
                timed=False,
            )
            for seen, unseen in SEX_SHIFTS
        ]
        return [
            Experiment("digits", "synthetic digits, unseen speakers", "synth-digits", models=clip),
            *shifts,
            Experiment("phonemes", "frame phoneme classification", "synth-phonemes", models=clip[:3]),
            Experiment("fsdd", "real recordings, official split", "fsdd", models=clip, timed=False),
            Experiment(
                "synth-to-fsdd",
                "train on synthetic digits, test on real FSDD recordings",
                "synth-digits",
                test="fsdd",
                models=clip,
                timed=False,
            ),
        ]
