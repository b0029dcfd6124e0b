"""FSDD and Speech Commands loaders on fixtures in their real layouts (WAV files written by conftest.py)."""

from pathlib import Path

import numpy as np
import pytest
import torch

from cnnbench.errors import UsageError
from cnnbench_tasks.speech import data

CPU = torch.device("cpu")


def test_fsdd_official_split(fsdd_dir: Path) -> None:
    splits = data.load_fsdd(fsdd_dir.parent, CPU)  # the folder above recordings/ works too
    assert len(splits.test) == 10 * 2 * 5 and len(splits.train) == 10 * 2 * 2
    assert splits.train.x.shape[1:] == (1, 40, 101)
    assert sorted(set(splits.test.y.tolist())) == list(range(10))
    assert set(splits.train.groups["speaker"]) == {"jackson", "theo"}


def test_fsdd_wrong_rate_names_file(fsdd_dir: Path, write_wav) -> None:
    write_wav(fsdd_dir / "3_theo_2.wav", 16000)
    with pytest.raises(UsageError, match=r"3_theo_2.wav: sample rate 16000 Hz, expected 8000 Hz"):
        data.load_fsdd(fsdd_dir, CPU)


def test_fsdd_empty_and_unreadable(fsdd_dir: Path, write_wav) -> None:
    write_wav(fsdd_dir / "3_theo_2.wav", 8000, seconds=0)
    with pytest.raises(UsageError, match=r"3_theo_2.wav: empty audio"):
        data.load_fsdd(fsdd_dir, CPU)
    (fsdd_dir / "3_theo_2.wav").write_bytes(b"RIFF junk")
    with pytest.raises(UsageError, match=r"3_theo_2.wav: not a readable WAV file"):
        data.load_fsdd(fsdd_dir, CPU)


def test_fsdd_bad_name(fsdd_dir: Path, write_wav) -> None:
    write_wav(fsdd_dir / "seven.wav", 8000)
    with pytest.raises(UsageError, match=r"seven.wav: name is not \{digit\}_\{speaker\}_\{take\}.wav"):
        data.load_fsdd(fsdd_dir, CPU)


@pytest.fixture
def commands_dir(tmp_path: Path, write_wav) -> Path:
    root = tmp_path / "speech_commands_v0.02"
    for k, word in enumerate(("yes", "no", "up")):
        for i in range(4):
            write_wav(root / word / f"spk{i}_nohash_0.wav", 16000, seconds=1.0, freq=300 + 200 * k)
    write_wav(root / "_background_noise_" / "white_noise.wav", 16000)
    (root / "testing_list.txt").write_text("yes/spk0_nohash_0.wav\nno/spk0_nohash_0.wav\nup/spk0_nohash_0.wav\n")
    (root / "validation_list.txt").write_text("yes/spk1_nohash_0.wav\n")
    return root


def test_speechcommands_layout(commands_dir: Path) -> None:
    splits = data.load_speechcommands(commands_dir, CPU)
    assert splits.notes["words"] == ["no", "up", "yes"]
    assert len(splits.test) == 3 and len(splits.train) == 12 - 3 - 1
    assert splits.train.x.shape[1:] == (1, 40, 101)


def test_speechcommands_missing_list(commands_dir: Path) -> None:
    (commands_dir / "testing_list.txt").unlink()
    with pytest.raises(UsageError, match="testing_list.txt: missing"):
        data.load_speechcommands(commands_dir, CPU)


def test_speechcommands_wrong_rate(commands_dir: Path, write_wav) -> None:
    write_wav(commands_dir / "up" / "spk3_nohash_0.wav", 8000)
    with pytest.raises(UsageError, match=r"up/spk3_nohash_0.wav: sample rate 8000 Hz, expected 16000 Hz"):
        data.load_speechcommands(commands_dir, CPU)


def test_frame_labels_follow_phoneme_starts() -> None:
    hop = data.MEL.hop
    phonemes = [["s", 2 * hop], ["'E", 5 * hop], ["n", 8 * hop], ["_:", 10 * hop]]
    labels = data.frame_labels(phonemes, 12, shift=0, rate_ratio=1.0, length=12 * hop)
    assert labels == ["sil", "sil", "s", "s", "s", "E", "E", "E", "n", "n", "sil", "sil"]
    shifted = data.frame_labels(phonemes, 12, shift=hop, rate_ratio=1.0, length=12 * hop)
    assert shifted[:4] == ["sil", "sil", "sil", "s"]


def _valid_wav(result: tuple[np.ndarray, int]) -> None:
    audio, rate = result
    assert audio.dtype == np.int16 and audio.ndim == 1 and len(audio) > 0 and rate > 0


def test_fuzz_wav_gives_audio_or_one_line(tmp_path: Path, fuzz_file, write_wav) -> None:
    write_wav(tmp_path / "good.wav", 8000, seconds=0.005)
    fuzz_file("0_theo_0.wav", (tmp_path / "good.wav").read_bytes(), data.read_wav, _valid_wav, cut=80)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", r"not a readable WAV file \(empty file\)"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00", r"not a readable WAV file \(truncated: a chunk"),
        (b"RIFF\x24\x00\x00\x00WAVE", r"not a readable WAV file \(fmt chunk and/or data chunk missing\)"),
        (b"RIFX\x24\x00\x00\x00WAVEfmt ", r"not a readable WAV file \(file does not start with RIFF id\)"),
    ],
)
def test_unreadable_wav_says_why(tmp_path: Path, content: bytes, message: str) -> None:
    (tmp_path / "a.wav").write_bytes(content)
    with pytest.raises(UsageError, match=f"a.wav: {message}"):
        data.read_wav(tmp_path / "a.wav")
