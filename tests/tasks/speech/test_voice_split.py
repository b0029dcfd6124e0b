"""The synthetic speech split holds out whole voices, drawn by the seed; the runner gives each seed its split."""

import itertools

import numpy as np

from cnnbench_tasks.speech import data, generate


def _meta() -> list[dict]:
    accents = ("en-us", "en-gb-x-rp", "en")
    return [
        {"variant": v, "sex": "male" if v.startswith("m") else "female", "speaker": f"{a}+{v}", "accent": a}
        for a, v in itertools.product(accents, generate.MALE + generate.FEMALE)
    ]


def test_held_out_voices_are_never_in_training_in_any_accent() -> None:
    meta = _meta()
    test = data.voice_split(meta, seed=0)
    train_voices = {m["variant"] for m, t in zip(meta, test, strict=True) if not t}
    test_voices = {m["variant"] for m, t in zip(meta, test, strict=True) if t}
    assert train_voices.isdisjoint(test_voices)
    assert sum(v.startswith("m") for v in test_voices) == 2 and sum(v.startswith("f") for v in test_voices) == 1
    # every accent of a held-out voice is in the test set
    assert all(t for m, t in zip(meta, test, strict=True) if m["variant"] in test_voices)


def test_the_split_follows_the_seed() -> None:
    meta = _meta()
    drawn = {tuple(sorted(data.held_out_voices(meta, seed))) for seed in range(10)}
    assert len(drawn) > 3
    assert np.array_equal(data.voice_split(meta, 7), data.voice_split(meta, 7))


def test_a_sex_with_one_voice_keeps_it_for_training() -> None:
    meta = [{"variant": "m1", "sex": "male"}, {"variant": "f1", "sex": "female"}, {"variant": "f2", "sex": "female"}]
    assert data.held_out_voices(meta, 0) in ({"f1"}, {"f2"})


def test_the_data_cache_loads_a_seeded_split_per_seed(monkeypatch) -> None:
    import torch

    from cnnbench.run.runner import DataCache
    from cnnbench.spec import Splits, TensorData
    from cnnbench_tasks.speech.task import SpeechTask

    seen = []

    def fake_load(self, request):  # noqa: ANN001
        seen.append((request.dataset, request.seed))
        d = TensorData(torch.zeros(2, 1, 40, 101), torch.tensor([0, 1]), 10, "fake")
        return Splits(d, d)

    monkeypatch.setattr(SpeechTask, "load", fake_load)
    cache = DataCache(SpeechTask(), {"fsdd": "/nowhere"}, seed=5, device=torch.device("cpu"))
    for seed in (0, 1, 1):
        cache.get("synth-digits", (1, 40, 101), seed=seed)
        cache.get("fsdd", (1, 40, 101), seed=seed)  # the official split: loaded once, with --seed
    assert seen == [("synth-digits", 0), ("fsdd", 5), ("synth-digits", 1)]
