"""Property 2 on spectrograms: test clips shifted along the mel axis, a non-default experiment."""

import torch

from cnnbench.registry import get_task
from cnnbench.run.plan import RunRequest, plan_runs
from cnnbench.spec import TensorData


def test_test_clips_shift_up_the_mel_axis() -> None:
    task = get_task("speech")
    x = torch.zeros(2, 1, 40, 101)
    x[:, :, 10, :] = 5.0  # energy in band 10
    test = TensorData(x, torch.tensor([0, 1]), 10, "fake")
    assert task.test_variants(test, {"shift_test": "0"}) == {}
    variants = task.test_variants(test, {"shift_test": "3"})["band_shift"]
    assert list(variants) == ["0", "1", "2", "3"]
    assert (variants["2"].x[:, :, 12, :] == 5.0).all() and (variants["2"].x[:, :, 10, :] == 0.0).all()
    assert torch.equal(variants["2"].y, test.y)


def test_band_shift_runs_only_when_named() -> None:
    task = get_task("speech")
    assert "band-shift" not in {p.experiment for p in plan_runs(task, RunRequest(task="speech", seeds=(0,)))}
    plans = plan_runs(task, RunRequest(task="speech", experiments=("band-shift",), seeds=(0,)))
    assert [p.model for p in plans] == ["freq-cnn", "cnn-2d", "dnn"]
    assert all(p.options["shift_test"] == "4" and not p.timing for p in plans)
