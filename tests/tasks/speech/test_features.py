import numpy as np
import pytest
import torch

from cnnbench_tasks.speech import features
from cnnbench_tasks.speech.features import SAMPLE_RATE, MelConfig


def test_log_mel_matches_librosa() -> None:
    librosa = pytest.importorskip("librosa")
    rng = np.random.default_rng(0)
    t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
    wave = (0.3 * np.sin(2 * np.pi * 440 * t) + 0.05 * rng.standard_normal(len(t))).astype(np.float32)
    cfg = MelConfig()
    ours = features.log_mel(torch.from_numpy(wave)[None], cfg, torch.device("cpu"))[0, 0].numpy()
    ref = librosa.feature.melspectrogram(
        y=wave,
        sr=SAMPLE_RATE,
        n_fft=cfg.n_fft,
        hop_length=cfg.hop,
        win_length=cfg.n_fft,
        n_mels=cfg.n_mels,
        fmin=0.0,
        fmax=SAMPLE_RATE / 2,
        power=2.0,
        center=True,
        pad_mode="constant",
    )
    ref = np.log(np.maximum(ref, cfg.floor))
    assert ours.shape == ref.shape == (40, 101)
    # tolerance: 1e-3 in natural-log units (0.1% in power); float32 FFTs differ in the last bits
    np.testing.assert_allclose(ours, ref, atol=1e-3)


def test_deltas_add_two_channels() -> None:
    x = features.log_mel(torch.randn(2, SAMPLE_RATE), MelConfig(deltas=True), torch.device("cpu"))
    assert x.shape == (2, 3, 40, 101)


def test_resample_batched_equals_one_by_one() -> None:
    waves = [torch.randn(n) for n in (22050, 9000, 15000)]
    batched = features.resample(waves, 22050)
    single = [features.resample([w], 22050)[0] for w in waves]
    for a, b, w in zip(batched, single, waves, strict=True):
        assert len(a) == len(b) == int(np.ceil(len(w) * SAMPLE_RATE / 22050))
        torch.testing.assert_close(a, b, atol=1e-5, rtol=0)
    assert len(batched[0]) == SAMPLE_RATE


def test_centre_pads_and_crops() -> None:
    batch, shifts = features.centre([torch.ones(10), torch.arange(30.0)], length=20)
    assert batch[0].tolist() == [0.0] * 5 + [1.0] * 10 + [0.0] * 5 and shifts[0] == 5
    assert batch[1].tolist() == list(np.arange(5.0, 25.0)) and shifts[1] == -5


def test_band_normaliser_uses_training_statistics() -> None:
    train = torch.randn(50, 1, 40, 11) * 3 + 2
    norm = features.BandNorm.fit(train)
    out = norm(train)
    assert out.mean(dim=(0, 3)).abs().max() < 1e-4
    shifted = norm(train + 1.0)  # a test set is transformed with the training set's numbers
    assert shifted.mean() > 0.2
