"""Worker process for generate.py: JSON jobs on stdin, an .npz of the clips on stdout.

Run as `python -m cnnbench_tasks.speech.synth_worker`; it imports only numpy and the ctypes
binding, so a fresh worker per chunk starts in a fraction of a second. It ignores Ctrl-C and dies with
its caller (cnnbench.data.workers).
"""

from __future__ import annotations

import io
import json
import sys

import numpy as np

from cnnbench.data.workers import serve
from cnnbench_tasks.speech import synth


def answer(payload: bytes) -> bytes:
    jobs = json.loads(payload)
    worker = synth.Synthesizer()
    audios, phonemes = [], []
    for job in jobs:
        clip = worker.say(job["text"], job["accent"], job["variant"], job["pitch"], job["speed"], job["seed"])
        audios.append(clip.audio)
        phonemes.append(clip.phonemes)
    buf = io.BytesIO()
    np.savez(
        buf,
        audio=np.concatenate(audios) if audios else np.zeros(0, np.int16),
        lengths=np.array([len(a) for a in audios], dtype=np.int64),
        phonemes=np.array(json.dumps(phonemes)),
        sample_rate=np.array(worker.sample_rate),
    )
    return buf.getvalue()


if __name__ == "__main__":
    sys.exit(serve(answer))
