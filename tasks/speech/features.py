"""Audio to log-mel spectrograms with torchaudio, at one sample rate for every data set."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from cnnbench.errors import UsageError
from cnnbench.spec import DataExtra

SAMPLE_RATE = 8000  # FSDD's rate; every other source is resampled to it explicitly
CLIP_SAMPLES = SAMPLE_RATE  # clips are centred in a 1 s window (cropped or zero-padded)


@dataclass(frozen=True)
class MelConfig:
    """Log-mel front end of the speech CNN papers (Abdel-Hamid et al. 2014): 40 bands, 25 ms, 10 ms."""

    n_mels: int = 40
    win_ms: float = 25.0
    hop_ms: float = 10.0
    deltas: bool = False  # add delta and delta-delta channels
    floor: float = 1e-10

    @property
    def n_fft(self) -> int:
        return int(SAMPLE_RATE * self.win_ms / 1000)

    @property
    def hop(self) -> int:
        return int(SAMPLE_RATE * self.hop_ms / 1000)


def to_float(audio: np.ndarray) -> torch.Tensor:
    """int16 (or float) samples as float32 in [-1, 1]."""
    if audio.dtype == np.int16:
        return torch.from_numpy(audio.astype(np.float32) / 32768.0)
    return torch.from_numpy(audio.astype(np.float32))


def resample(waves: list[torch.Tensor], from_rate: int, batch: int = 256) -> list[torch.Tensor]:
    """Explicit resampling to SAMPLE_RATE (torchaudio's windowed sinc), batched with one cached kernel."""
    if from_rate == SAMPLE_RATE:
        return list(waves)
    import torchaudio

    resampler = torchaudio.transforms.Resample(from_rate, SAMPLE_RATE)
    out: list[torch.Tensor] = []
    for start in range(0, len(waves), batch):
        group = waves[start : start + batch]
        padded = torch.nn.utils.rnn.pad_sequence(group, batch_first=True)
        res = resampler(padded)
        out += [r[: math.ceil(len(w) * SAMPLE_RATE / from_rate)] for r, w in zip(res, group, strict=True)]
    return out


def centre(waves: list[torch.Tensor], length: int = CLIP_SAMPLES) -> tuple[torch.Tensor, np.ndarray]:
    """Stack clips centred in a fixed window; returns the batch and each clip's shift in samples."""
    out = torch.zeros(len(waves), length)
    shifts = np.zeros(len(waves), dtype=np.int64)
    for i, w in enumerate(waves):
        n = len(w)
        if n >= length:
            start = (n - length) // 2
            out[i] = w[start : start + length]
            shifts[i] = -start
        else:
            start = (length - n) // 2
            out[i, start : start + n] = w
            shifts[i] = start
    return out, shifts


def log_mel(waves: torch.Tensor, cfg: MelConfig, device: torch.device, batch: int = 512) -> torch.Tensor:
    """(N, samples) -> (N, C, n_mels, frames); C is 1, or 3 with deltas. Computed on device, returned on CPU."""
    import torchaudio

    mel = torchaudio.transforms.MelSpectrogram(
        sample_rate=SAMPLE_RATE,
        n_fft=cfg.n_fft,
        win_length=cfg.n_fft,
        hop_length=cfg.hop,
        n_mels=cfg.n_mels,
        f_min=0.0,
        f_max=SAMPLE_RATE / 2,
        power=2.0,
        center=True,
        pad_mode="constant",
        norm="slaney",  # librosa's defaults, so the two agree (tests/tasks/speech/test_features.py)
        mel_scale="slaney",
    ).to(device)
    outs = []
    for start in range(0, len(waves), batch):
        spec = torch.log(mel(waves[start : start + batch].to(device)).clamp_min(cfg.floor))
        if cfg.deltas:
            d1 = torchaudio.functional.compute_deltas(spec)
            spec = torch.stack([spec, d1, torchaudio.functional.compute_deltas(d1)], dim=1)
        else:
            spec = spec.unsqueeze(1)
        outs.append(spec.cpu())
    return torch.cat(outs) if outs else torch.zeros(0, 3 if cfg.deltas else 1, cfg.n_mels, 0)


PERMUTATION_SEED = 1234  # the locality control's one permutation of the bins: the same for every run and seed


def bin_order(bands: int, frames: int, seed: int = PERMUTATION_SEED) -> torch.Tensor:
    """One fixed random order of a (bands x frames) spectrogram's bins, as indices into the flattened bins."""
    return torch.randperm(bands * frames, generator=torch.Generator().manual_seed(seed))


@dataclass(frozen=True)
class BinOrder(DataExtra):
    """What a loader hands fit() when the locality control is on: the order the normalised bins are put in."""

    order: torch.Tensor


@dataclass(frozen=True)
class BandNorm(DataExtra):
    """Per-band (and per-channel) mean and std of the training inputs: fitted on the training split only, kept in
    checkpoints (a model fed unnormalised spectrograms predicts nonsense without an error).

    order, when set, is the locality control: every normalised input's (band, frame) bins are put in this one
    fixed order, train and test alike, after normalising, so a fully connected net sees a relabelling of the
    inputs it sees without the control (and is indifferent to it), while a filter's neighbours are scattered."""

    mean: torch.Tensor  # (1, C, bands, 1)
    std: torch.Tensor
    order: torch.Tensor | None = None  # (bands * frames,) indices: bin i of the output is bin order[i] of the input

    @classmethod
    def fit(cls, train_x: torch.Tensor, order: torch.Tensor | None = None) -> BandNorm:
        mean = train_x.mean(dim=(0, 3), keepdim=True)
        return cls(mean, train_x.std(dim=(0, 3), keepdim=True).clamp_min(1e-5), order)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        z = (x - self.mean.to(x.device)) / self.std.to(x.device)
        if self.order is None:
            return z
        n, c, f, t = z.shape
        if len(self.order) != f * t:
            raise UsageError(f"the model was trained on spectrograms of {len(self.order)} bins in a permuted order; "
                             f"these have {f} x {t} bins")  # fmt: skip
        return z.reshape(n, c, f * t)[:, :, self.order.to(z.device)].reshape(n, c, f, t)
