"""Generating a synthetic spoken-word corpus: many voices, seeded, parallel, cached by parameter hash."""

from __future__ import annotations

import hashlib
import io
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from cnnbench.data.cache import CacheEntry, CorruptEntry, cached
from cnnbench.data.workers import WorkerPool
from cnnbench.io import atomic_path
from cnnbench_tasks.speech import synth

DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
# the ten core words of Speech Commands (Warden 2018)
COMMANDS = ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go")
MALE = tuple(f"m{i}" for i in range(1, 9))
FEMALE = tuple(f"f{i}" for i in range(1, 6))
GENERATOR_VERSION = 1  # bump when the output for the same parameters changes


@dataclass(frozen=True)
class CorpusParams:
    words: tuple[str, ...]
    clips: int
    seed: int = 0
    accents: tuple[str, ...] = synth.ACCENTS
    variants: tuple[str, ...] = MALE + FEMALE
    pitch: tuple[int, int] = (25, 75)  # espeak-ng pitch, 0-100, default 50
    speed: tuple[int, int] = (130, 210)  # words per minute, default 175

    def key(self) -> str:
        blob = json.dumps(asdict(self) | {"version": GENERATOR_VERSION}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:12]


@dataclass
class Corpus:
    """Clips at the synthesiser's rate, concatenated, with per-clip metadata."""

    audio: np.ndarray  # int16, all clips end to end
    offsets: np.ndarray  # int64, clip i is audio[offsets[i]:offsets[i+1]]
    meta: list[dict]  # text, label, accent, variant, sex, speaker, pitch, speed, phonemes [(ph, sample)]
    sample_rate: int

    def clip(self, i: int) -> np.ndarray:
        return self.audio[self.offsets[i] : self.offsets[i + 1]]


def jobs(params: CorpusParams) -> list[dict]:
    """The clip list, a pure function of the parameters: word i mod n, random voice, pitch and speed."""
    for a in params.accents:
        for v in params.variants:
            synth.validate_voice(a, v)
    rng = np.random.default_rng(params.seed)
    out = []
    for i in range(params.clips):
        label = i % len(params.words)
        accent = params.accents[rng.integers(len(params.accents))]
        variant = params.variants[rng.integers(len(params.variants))]
        out.append(
            {
                "text": params.words[label],
                "label": label,
                "accent": accent,
                "variant": variant,
                "sex": synth.variants()[variant].sex,
                "speaker": f"{accent}+{variant}",
                "pitch": int(rng.integers(params.pitch[0], params.pitch[1] + 1)),
                "speed": int(rng.integers(params.speed[0], params.speed[1] + 1)),
                "seed": int(rng.integers(2**31)),
            }
        )
    return out


CHUNK = 128  # clips per worker process; fixed, so the output does not depend on the number of workers


def decode_chunk(payload: bytes) -> tuple[int, list[np.ndarray], list[list]]:
    """A worker's answer: its sample rate, each clip's audio and phoneme events."""
    with np.load(io.BytesIO(payload), allow_pickle=False) as z:
        bounds = np.concatenate([[0], np.cumsum(z["lengths"])])
        audios = [z["audio"][a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
        return int(z["sample_rate"]), audios, json.loads(str(z["phonemes"]))


def synthesize(params: CorpusParams, workers: int | None = None, progress: bool = True) -> Corpus:
    """Synthesise every clip, a chunk per fresh worker process (synth_worker.py), in job order.

    The library keeps voicing state (the flutter phase) across utterances, so a clip depends on what
    its process said before; a new process per chunk makes the corpus a function of the parameters.
    """
    todo = jobs(params)
    chunks = [todo[i : i + CHUNK] for i in range(0, len(todo), CHUNK)]
    workers = max(1, min(len(chunks), workers or os.cpu_count() or 1))
    results = []
    bar = tqdm(total=len(todo), desc="synthesising", unit="clip", disable=not progress, leave=False)
    with WorkerPool("cnnbench_tasks.speech.synth_worker", workers, "speech synthesis", timeout=600) as pool:
        for chunk, out in zip(chunks, pool.map(json.dumps(chunk).encode() for chunk in chunks), strict=True):
            results.append(decode_chunk(out))
            bar.update(len(chunk))
    bar.close()
    rates = {rate for rate, _, _ in results}
    if len(rates) != 1:
        raise RuntimeError(f"workers reported different sample rates {rates}")
    audios = [a for _, clips, _ in results for a in clips]
    phonemes = [p for _, _, events in results for p in events]
    for job, ph, audio in zip(todo, phonemes, audios, strict=True):
        job["phonemes"] = [[name, int(sample)] for name, sample in ph]
        if len(audio) == 0:
            raise RuntimeError(f"espeak-ng produced no audio for {job}")
    offsets = np.concatenate([[0], np.cumsum([len(a) for a in audios])]).astype(np.int64)
    return Corpus(np.concatenate(audios), offsets, todo, rates.pop())


def save(corpus: Corpus, path: Path) -> None:
    """Write atomically: a temporary .npz in the same folder, then a rename."""
    with atomic_path(path, ".npz") as tmp:
        np.savez(
            tmp,
            audio=corpus.audio,
            offsets=corpus.offsets,
            meta=np.array(json.dumps(corpus.meta)),
            sample_rate=np.array(corpus.sample_rate),
        )


def _check(corpus: Corpus) -> Corpus:
    """A corpus read back whole: offsets that split the audio into one clip per metadata entry."""
    offsets, n = corpus.offsets, len(corpus.audio)
    if corpus.audio.dtype != np.int16 or offsets.ndim != 1 or len(offsets) != len(corpus.meta) + 1:
        raise CorruptEntry(f"{len(offsets)} offsets for {len(corpus.meta)} clips of {corpus.audio.dtype} audio")
    if offsets[0] != 0 or offsets[-1] != n or (np.diff(offsets) <= 0).any() or corpus.sample_rate <= 0:
        raise CorruptEntry(f"offsets do not split the {n} samples into clips")
    return corpus


def load(path: Path) -> Corpus:
    """A saved corpus, checked (CorruptEntry, or numpy's error for a damaged archive)."""
    with np.load(path, allow_pickle=False) as z:
        corpus = Corpus(z["audio"], z["offsets"], json.loads(str(z["meta"])), int(z["sample_rate"]))
    return _check(corpus)


def cached_corpus(params: CorpusParams, cache_dir: Path, progress: bool = True) -> tuple[Corpus, Path]:
    """The corpus for these parameters, generated once and then read from the cache (generated again
    when the cached file is damaged)."""
    path = cache_dir / "speech" / f"synth-{params.key()}.npz"

    def build() -> Corpus:
        corpus = synthesize(params, progress=progress)
        save(corpus, path)
        return corpus

    return cached(CacheEntry((path,)), lambda: load(path), build, "speech corpus"), path
