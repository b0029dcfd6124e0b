"""Speech data sets as log-mel tensors: synthetic words and phonemes, FSDD, Speech Commands."""

from __future__ import annotations

import dataclasses
import re
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from cnnbench.errors import UsageError, reason
from cnnbench.spec import DataRequest, Splits, TensorData
from cnnbench_tasks.speech import features, generate
from cnnbench_tasks.speech.features import SAMPLE_RATE, MelConfig

MEL = MelConfig()
# of each sex's synthetic voices (eSpeak NG variants m1-m8, f1-f5), held out for testing in every accent:
# 2 of 8 male, 1 of 5 female. A "speaker" (accent + variant) is not a new voice: the same variant under
# another accent sounds alike, and holding out speakers left same-sex test accuracy at 99-100%
TEST_VOICE_SHARE = 0.25
PHONEME_CONTEXT = 11  # frames around the labelled one: the TIMIT setup of Abdel-Hamid et al. 2014
PHONEME_FRAME_STRIDE = 2  # keep every 2nd frame: neighbours are near duplicates


# ---- reading audio -------------------------------------------------------------------------------


def _wav_problem(path: Path, error: Exception) -> str:
    """What a failure of the wave module means, in words (its EOFError carries no message)."""
    if isinstance(error, OSError):
        return error.strerror or reason(error)
    if isinstance(error, EOFError):
        return "empty file" if path.stat().st_size == 0 else "truncated: a chunk ends before its stated size"
    return reason(error)


def read_wav(path: Path, expect_rate: int | None = None) -> tuple[np.ndarray, int]:
    """16-bit PCM mono (or the first channel); every problem names the file."""
    try:
        with wave.open(str(path), "rb") as w:
            rate, width, channels, n = w.getframerate(), w.getsampwidth(), w.getnchannels(), w.getnframes()
            raw = w.readframes(n)
    except (wave.Error, EOFError, OSError, RuntimeError, ValueError) as e:  # RuntimeError: a chunk past the end
        raise UsageError(f"{path}: not a readable WAV file ({_wav_problem(path, e)})") from None
    if rate <= 0 or channels <= 0:
        raise UsageError(f"{path}: {rate} Hz and {channels} channels in its header; not a usable WAV file")
    if width != 2:
        raise UsageError(f"{path}: {8 * width}-bit samples; expected 16-bit PCM")
    if n == 0 or len(raw) < 2 * channels:
        raise UsageError(f"{path}: empty audio")
    if expect_rate is not None and rate != expect_rate:
        raise UsageError(f"{path}: sample rate {rate} Hz, expected {expect_rate} Hz")
    audio = np.frombuffer(raw[: len(raw) // (2 * channels) * 2 * channels], dtype="<i2")
    return audio.reshape(-1, channels)[:, 0].copy(), rate


def clips_to_mel(waves: list[torch.Tensor], device: torch.device) -> torch.Tensor:
    batch, _ = features.centre(waves)
    return features.log_mel(batch, MEL, device)


# ---- synthetic corpora --------------------------------------------------------------------------

CORPORA = {
    "synth-digits": generate.CorpusParams(generate.DIGITS, clips=3000, seed=0),
    "synth-words": generate.CorpusParams(generate.COMMANDS, clips=3000, seed=1),
}
QUICK_CLIPS = 400  # the quick profile generates smaller corpora (seconds on a cold cache)


def corpus_params(name: str, profile: str) -> generate.CorpusParams:
    params = CORPORA[name]
    return dataclasses.replace(params, clips=QUICK_CLIPS) if profile == "quick" else params


def corpus_waves(corpus: generate.Corpus) -> list[torch.Tensor]:
    """Every clip as float samples at the task's rate."""
    return features.resample([features.to_float(corpus.clip(i)) for i in range(len(corpus.meta))], corpus.sample_rate)


def held_out_voices(meta: list[dict], seed: int) -> set[str]:
    """The voice variants held out for testing: a share of each sex's variants, drawn by the seed."""
    rng = np.random.default_rng(seed)
    held: set[str] = set()
    for sex in sorted({m["sex"] for m in meta}):
        voices = sorted({m["variant"] for m in meta if m["sex"] == sex})
        k = min(len(voices) - 1, max(1, round(TEST_VOICE_SHARE * len(voices)))) if len(voices) > 1 else 0
        held |= set(rng.choice(voices, size=k, replace=False).tolist())
    return held


def voice_split(meta: list[dict], seed: int) -> np.ndarray:
    """True for test clips: every clip of a held-out voice, in every accent (the voice is never heard in training)."""
    held = held_out_voices(meta, seed)
    return np.array([m["variant"] in held for m in meta])


def _groups(meta: list[dict], keys: tuple[str, ...] = ("sex", "variant", "speaker", "accent")) -> dict[str, np.ndarray]:
    return {k: np.array([m[k] for m in meta]) for k in keys}


def _split(x: torch.Tensor, y: torch.Tensor, meta: list[dict], k: int, source: str, test: np.ndarray) -> Splits:
    data = TensorData(x, y, k, source, _groups(meta))
    return Splits(data.select(np.flatnonzero(~test)), data.select(np.flatnonzero(test)))


# the features of the last MEMO_ENTRIES data sets: a new seed only draws a new split (a run plans seed by seed,
# each seed's experiments on the digits and the phonemes in turn, so both are kept)
_FEATURES: dict[tuple, tuple] = {}
MEMO_ENTRIES = 2


def _memo(key: tuple, compute: Callable[[], tuple]) -> tuple:
    if key not in _FEATURES:
        while len(_FEATURES) >= MEMO_ENTRIES:
            del _FEATURES[next(iter(_FEATURES))]  # the oldest
        _FEATURES[key] = compute()
    return _FEATURES[key]


def load_synth_words(name: str, request: DataRequest) -> Splits:
    params = corpus_params(name, request.profile)

    def compute() -> tuple:
        corpus, path = generate.cached_corpus(params, request.cache_dir, request.progress)
        x = clips_to_mel(corpus_waves(corpus), request.device)
        return x, torch.tensor([m["label"] for m in corpus.meta]), corpus.meta, path

    x, y, meta, path = _memo(("words", params.key(), str(request.cache_dir), str(request.device)), compute)
    splits = _split(x, y, meta, len(params.words), f"espeak-ng:{path}", voice_split(meta, request.seed))
    splits.notes = {"words": list(params.words), "corpus": params.key(),
                    "test_voices": sorted(held_out_voices(meta, request.seed))}  # fmt: skip
    return splits


def phoneme_name(raw: str) -> str:
    """espeak-ng's mnemonic without stress marks; pauses become 'sil'."""
    name = raw.replace("'", "").replace(",", "")
    return "sil" if name.startswith("_") or not name else name


def frame_labels(phonemes: list[list], n_frames: int, shift: int, rate_ratio: float, length: int) -> list[str]:
    """The phoneme under each frame centre (frame t is centred at t*hop); 'sil' outside speech."""
    starts = [(round(s * rate_ratio) + shift, phoneme_name(p)) for p, s in phonemes]
    end = min(length, starts[-1][0]) if starts else 0
    labels = []
    for t in range(n_frames):
        c = t * MEL.hop
        label = "sil"
        for s, name in starts:
            if s <= c:
                label = name
            else:
                break
        labels.append(label if c < end else "sil")
    return labels


def load_synth_phonemes(request: DataRequest) -> Splits:
    """Frame classification: an 11-frame window of log-mel around each frame, labelled by its phoneme."""
    corpora = tuple(corpus_params(name, request.profile).key() for name in CORPORA)
    key = ("phonemes", corpora, str(request.cache_dir), str(request.device))
    x, y, meta_all, inventory = _memo(key, lambda: _phoneme_windows(request))
    splits = _split(x, y, meta_all, len(inventory), "espeak-ng:phonemes", voice_split(meta_all, request.seed))
    splits.notes = {"phonemes": inventory, "test_voices": sorted(held_out_voices(meta_all, request.seed))}
    return splits


def _phoneme_windows(request: DataRequest) -> tuple:
    metas, windows, labels = [], [], []
    half = PHONEME_CONTEXT // 2
    for name in CORPORA:
        corpus, _ = generate.cached_corpus(corpus_params(name, request.profile), request.cache_dir, request.progress)
        ratio = SAMPLE_RATE / corpus.sample_rate
        batch, shifts = features.centre(corpus_waves(corpus))
        mel = features.log_mel(batch, MEL, request.device)  # (N, 1, F, T)
        padded = torch.nn.functional.pad(mel, (half, half, 0, 0), mode="replicate")
        for i, meta in enumerate(corpus.meta):
            frames = frame_labels(meta["phonemes"], mel.shape[-1], int(shifts[i]), ratio, features.CLIP_SAMPLES)
            spoken = [t for t, lab in enumerate(frames) if lab != "sil"]
            if not spoken:
                continue
            lo, hi = max(0, spoken[0] - 3), min(len(frames), spoken[-1] + 4)  # speech plus a little silence
            for t in range(lo, hi, PHONEME_FRAME_STRIDE):
                windows.append(padded[i, :, :, t : t + PHONEME_CONTEXT])
                labels.append(frames[t])
                metas.append(meta)
    inventory = sorted(set(labels))
    x = torch.stack(windows)
    y = torch.tensor([inventory.index(lab) for lab in labels])
    return x, y, metas, inventory


# ---- real recordings -----------------------------------------------------------------------------

FSDD_NAME = re.compile(r"^(\d)_([A-Za-z]+)_(\d+)\.wav$")
FSDD_TEST_TAKES = range(0, 5)  # the official split: takes 0-4 of every speaker and digit are the test set


def load_fsdd(folder: Path, device: torch.device) -> Splits:
    """The Free Spoken Digit Dataset: {digit}_{speaker}_{take}.wav at 8 kHz; test = takes 0-4."""
    if (folder / "recordings").is_dir():
        folder = folder / "recordings"
    if not folder.is_dir():
        raise UsageError(f"{folder}: FSDD folder does not exist")
    files = sorted(p for p in folder.iterdir() if p.suffix == ".wav")
    parsed = [(p, FSDD_NAME.match(p.name)) for p in files]
    bad = [p.name for p, m in parsed if m is None]
    if bad:
        raise UsageError(f"{folder / bad[0]}: name is not {{digit}}_{{speaker}}_{{take}}.wav")
    if not files:
        raise UsageError(f"{folder}: no .wav files")
    waves, meta = [], []
    for p, m in parsed:
        audio, _ = read_wav(p, expect_rate=SAMPLE_RATE)
        waves.append(features.to_float(audio))
        meta.append({"label": int(m.group(1)), "speaker": m.group(2), "take": int(m.group(3))})
    x = clips_to_mel(waves, device)
    y = torch.tensor([m["label"] for m in meta])
    test = np.array([m["take"] in FSDD_TEST_TAKES for m in meta])
    data = TensorData(x, y, 10, f"fsdd:{folder}", {"speaker": np.array([m["speaker"] for m in meta])})
    return Splits(data.select(np.flatnonzero(~test)), data.select(np.flatnonzero(test)))


SC_RATE = 16000  # Speech Commands is 16 kHz; resampled to the task's 8 kHz


def load_speechcommands(folder: Path, device: torch.device) -> Splits:
    """Speech Commands: one folder per word, validation_list.txt and testing_list.txt of relative paths.

    Train = files in neither list (validation files are left out, as in the official protocol).
    """
    if not folder.is_dir():
        raise UsageError(f"{folder}: Speech Commands folder does not exist")
    lists = {}
    for name in ("validation_list.txt", "testing_list.txt"):
        path = folder / name
        if not path.is_file():
            raise UsageError(f"{path}: missing (the Speech Commands layout has it beside the word folders)")
        lists[name] = {line.strip() for line in path.read_text().splitlines() if line.strip()}
    words = sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("_"))
    if not words:
        raise UsageError(f"{folder}: no word folders")
    waves, labels, is_test = [], [], []
    for k, word in enumerate(words):
        for p in sorted((folder / word).glob("*.wav")):
            rel = f"{word}/{p.name}"
            if rel in lists["validation_list.txt"]:
                continue
            audio, rate = read_wav(p, expect_rate=SC_RATE)
            waves.append(features.to_float(audio))
            labels.append(k)
            is_test.append(rel in lists["testing_list.txt"])
    x = clips_to_mel(features.resample(waves, SC_RATE), device)
    data = TensorData(x, torch.tensor(labels), len(words), f"speechcommands:{folder}")
    test = np.array(is_test)
    splits = Splits(data.select(np.flatnonzero(~test)), data.select(np.flatnonzero(test)))
    splits.notes = {"words": words, "resampled_from_hz": SC_RATE}
    return splits
