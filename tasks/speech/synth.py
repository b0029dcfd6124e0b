"""Offline speech synthesis with eSpeak NG (PyPI espeakng-loader), through ctypes.

Each clip comes with the sample offset of every phoneme: the library is initialised with phoneme
events on, and each PHONEME event carries the sample position where that phoneme starts.
"""

from __future__ import annotations

import ctypes
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from cnnbench.errors import UsageError

AUDIO_OUTPUT_SYNCHRONOUS = 2
INITIALIZE_PHONEME_EVENTS = 0x0001
EVENT_LIST_TERMINATED, EVENT_PHONEME = 0, 7
PARAM_RATE, PARAM_PITCH = 1, 3

# English accents in espeak-ng's data (lang/gmw); en-Shaw is a spelling system, not an accent
ACCENTS = ("en-us", "en-gb-x-rp", "en-gb-scotland", "en-gb-x-gbclan", "en-gb-x-gbcwmd", "en-029", "en-us-nyc", "en")


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    # espeak_EVENT in speak_lib.h
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    ]


_Callback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))


@dataclass(frozen=True)
class Variant:
    name: str  # "m3", "f2", ...
    sex: str  # "male" | "female" | "unknown"


def data_path() -> Path:
    try:
        import espeakng_loader
    except ImportError:
        raise UsageError("speech synthesis needs the PyPI package espeakng-loader") from None
    return Path(espeakng_loader.get_data_path())


@cache
def variants() -> dict[str, Variant]:
    """Voice variants shipped in the data's voices/!v folder, with the sex their file declares."""
    folder = data_path() / "voices" / "!v"
    found = {}
    for f in sorted(folder.iterdir()):
        m = re.search(r"^\s*gender\s+(\w+)", f.read_text(errors="replace"), re.MULTILINE)
        sex = m.group(1).lower() if m else "unknown"
        found[f.name] = Variant(f.name, sex if sex in ("male", "female") else "unknown")
    return found


def validate_voice(accent: str, variant: str) -> None:
    """The library silently accepts unknown names; check them against its data instead."""
    if accent not in ACCENTS:
        raise UsageError(f"unknown accent {accent!r}; valid: {', '.join(ACCENTS)}")
    if variant not in variants():
        raise UsageError(f"unknown voice variant {variant!r}; valid: {', '.join(sorted(variants()))}")


@dataclass
class Clip:
    audio: np.ndarray  # int16 at the synthesiser's rate
    phonemes: list[tuple[str, int]]  # (phoneme, start sample)


class Synthesizer:
    """One initialised library per process (espeak-ng keeps global state)."""

    def __init__(self) -> None:
        import espeakng_loader

        self._lib = ctypes.CDLL(espeakng_loader.get_library_path())
        self._lib.espeak_Initialize.restype = ctypes.c_int
        rate = self._lib.espeak_Initialize(
            AUDIO_OUTPUT_SYNCHRONOUS, 0, str(data_path()).encode(), INITIALIZE_PHONEME_EVENTS
        )
        if rate <= 0:
            raise RuntimeError(f"espeak_Initialize failed ({rate})")
        self.sample_rate = rate
        self._chunks: list[np.ndarray] = []
        self._events: list[tuple[str, int]] = []
        self._callback = _Callback(self._on_audio)  # keep a reference: ctypes does not
        self._lib.espeak_SetSynthCallback(self._callback)

    def _on_audio(self, wav, n: int, events) -> int:
        if n > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, (n,)).copy())
        i = 0
        while events[i].type != EVENT_LIST_TERMINATED:
            if events[i].type == EVENT_PHONEME:
                self._events.append((events[i].id.string.decode("ascii", "replace"), events[i].sample))
            i += 1
        return 0

    def say(self, text: str, accent: str, variant: str, pitch: int, speed: int, seed: int = 0) -> Clip:
        """One utterance; the library's random source (voice flutter) is reseeded per clip, so a clip
        depends only on its own arguments, not on what this process synthesised before."""
        validate_voice(accent, variant)
        self._lib.espeak_ng_SetRandSeed(ctypes.c_long(seed))
        if self._lib.espeak_SetVoiceByName(f"{accent}+{variant}".encode()) != 0:
            raise RuntimeError(f"espeak-ng refused voice {accent}+{variant}")
        self._lib.espeak_SetParameter(PARAM_RATE, speed, 0)
        self._lib.espeak_SetParameter(PARAM_PITCH, pitch, 0)
        self._chunks, self._events = [], []
        data = text.encode()
        err = self._lib.espeak_Synth(data, len(data) + 1, 0, 0, 0, 0, None, None)
        if err != 0:
            raise RuntimeError(f"espeak_Synth failed ({err}) on {text!r}")
        audio = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.int16)
        return Clip(audio.astype(np.int16), list(self._events))
