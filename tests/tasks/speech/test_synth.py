from pathlib import Path

import numpy as np
import pytest

from cnnbench.errors import UsageError
from cnnbench_tasks.speech import generate, synth


def test_variants_are_read_from_the_voice_data() -> None:
    v = synth.variants()
    assert v["m3"].sex == "male" and v["f2"].sex == "female"
    assert all(f"m{i}" in v for i in range(1, 9)) and all(f"f{i}" in v for i in range(1, 6))


@pytest.mark.parametrize(
    "accent, variant, message",
    [("en-us", "m99", "unknown voice variant 'm99'"), ("xx-yy", "m1", "unknown accent 'xx-yy'")],
)
def test_unknown_voice_names_are_refused(accent: str, variant: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        synth.validate_voice(accent, variant)


def test_corpus_params_validate_voices() -> None:
    with pytest.raises(UsageError, match="unknown voice variant 'q9'"):
        generate.jobs(generate.CorpusParams(("yes",), 2, variants=("m1", "q9")))


def test_clip_has_audio_and_phonemes_in_order_inside_the_clip() -> None:
    corpus = generate.synthesize(generate.CorpusParams(generate.DIGITS, 12, seed=5), workers=1, progress=False)
    assert corpus.sample_rate > 8000
    for i, meta in enumerate(corpus.meta):
        clip = corpus.clip(i)
        assert len(clip) > corpus.sample_rate // 10 and np.abs(clip).max() > 1000  # real sound, not silence
        starts = [s for _, s in meta["phonemes"]]
        assert len(starts) >= 3
        assert starts == sorted(starts)
        assert 0 <= starts[0] and starts[-1] <= len(clip)
        assert meta["sex"] in ("male", "female") and meta["text"] == generate.DIGITS[meta["label"]]


def test_same_seed_same_bytes_regardless_of_workers() -> None:
    params = generate.CorpusParams(generate.COMMANDS, 2 * generate.CHUNK + 3, seed=7)
    a = generate.synthesize(params, workers=2, progress=False)
    b = generate.synthesize(params, workers=1, progress=False)
    assert a.audio.tobytes() == b.audio.tobytes()
    assert a.meta == b.meta
    c = generate.synthesize(generate.CorpusParams(generate.COMMANDS, 10, seed=8), workers=1, progress=False)
    assert c.audio.tobytes() != a.audio[: len(c.audio)].tobytes()


def test_cache_roundtrip(tmp_path) -> None:
    params = generate.CorpusParams(("yes", "no"), 4, seed=1)
    first, path = generate.cached_corpus(params, tmp_path, progress=False)
    again, path2 = generate.cached_corpus(params, tmp_path, progress=False)
    assert path == path2 and path.name == f"synth-{params.key()}.npz"
    assert again.audio.tobytes() == first.audio.tobytes() and again.meta == first.meta
    assert generate.CorpusParams(("yes", "no"), 4, seed=2).key() != params.key()


def _tiny_corpus(params: generate.CorpusParams, workers: int | None = None, progress: bool = True) -> generate.Corpus:
    """Stands in for espeak-ng: two clips of a tone, so the cache tests synthesise nothing."""
    audio = (1000 * np.sin(np.arange(800) / 5)).astype(np.int16)
    meta = [{"text": "yes", "label": 0}, {"text": "no", "label": 1}]
    return generate.Corpus(audio, np.array([0, 300, 800], np.int64), meta, 16000)


@pytest.mark.parametrize("damage", ["truncate", "zero offsets", "empty"])
def test_a_damaged_cached_corpus_is_generated_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, damage: str
) -> None:
    monkeypatch.setattr(generate, "synthesize", _tiny_corpus)
    params = generate.CorpusParams(("yes", "no"), 2, seed=1)
    first, path = generate.cached_corpus(params, tmp_path, progress=False)
    if damage == "truncate":
        path.write_bytes(path.read_bytes()[:-100])
    elif damage == "zero offsets":  # a well-formed archive whose offsets do not split the audio
        np.savez(path, audio=first.audio, offsets=np.zeros(3, np.int64), meta=np.array("[{}, {}]"),
                 sample_rate=np.array(16000))  # fmt: skip
        (path.parent / f"{path.name}.complete").unlink()
    else:
        path.write_bytes(b"")
    again, _ = generate.cached_corpus(params, tmp_path, progress=False)
    assert again.audio.tobytes() == first.audio.tobytes() and again.meta == first.meta
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{path.name}: cached speech corpus unusable (" in err and "rebuilding" in err
    generate.cached_corpus(params, tmp_path, progress=False)
    assert capsys.readouterr().err == ""
