"""The ladder the image and speech tasks share (cnnbench_tasks.properties): its rungs differ by one property each,
the locally connected rung computes the shared one when its filters are tied, and its claims give verdicts."""

from __future__ import annotations

import pytest
import torch

from cnnbench.modules.locally_connected import LocallyConnected2d
from cnnbench_tasks.properties import Ladder, LadderNet, budget_words, hidden_for_params, ladder_claims


def _params(net: torch.nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


@pytest.mark.parametrize(("shape", "maps"), [((1, 28, 28), (25, 50)), ((3, 32, 32), (25, 50)), ((1, 40, 101), (8, 16))])
def test_the_rungs_share_receptive_fields_and_maps(shape: tuple[int, int, int], maps: tuple[int, int]) -> None:
    c, h, w = shape
    local, conv = LadderNet("local", 10, shape, maps), LadderNet("conv", 10, shape, maps)
    pooled = LadderNet("conv", 10, shape, maps, pool=True)
    x = torch.zeros(2, *shape)
    for net in (local, conv, pooled):
        assert net(x).shape == (2, 10)
    assert conv.features(x).shape == local.features(x).shape == (2, maps[1], h - 4, w - 4)
    assert pooled.features(x).shape == (2, maps[1], ((h - 2) // 2 - 2) // 2, ((w - 2) // 2 - 2) // 2)
    a, b = maps
    convs = (c * 9 + 1) * a + (a * 9 + 1) * b
    assert _params(conv) == convs + (b * (h - 4) * (w - 4) + 1) * 100 + 101 * 10
    # unshared: every output position has its own filters and biases
    positions = ((h - 2) * (w - 2), (h - 4) * (w - 4))
    assert _params(local) == (c * 9 + 1) * a * positions[0] + (a * 9 + 1) * b * positions[1] + _params(conv.head)


def test_with_the_lectures_maps_the_pooled_rung_is_the_lecture_cnn() -> None:
    """Conv 25@3x3, pool, Conv 50@3x3, pool, Dense 100, Dense 10 on 28x28: 137,660 parameters, the lecture's net."""
    assert _params(LadderNet("conv", 10, (1, 28, 28), pool=True)) == 137_660


@pytest.mark.parametrize("shape", [(1, 28, 28), (1, 40, 101), (3, 16, 16)])
def test_the_local_rung_with_tied_filters_computes_the_shared_rung(shape: tuple[int, int, int]) -> None:
    torch.manual_seed(0)
    conv, local = LadderNet("conv", 10, shape, (4, 6)).eval(), LadderNet("local", 10, shape, (4, 6)).eval()
    layers = [m for m in local.features if isinstance(m, LocallyConnected2d)]
    convs = [m for m in conv.features if isinstance(m, torch.nn.Conv2d)]
    assert len(layers) == len(convs) == 2
    for lc, cv in zip(layers, convs, strict=True):
        lc.tie_to(cv)
    local.head.load_state_dict(conv.head.state_dict())
    x = torch.randn(3, *shape)
    with torch.no_grad():
        torch.testing.assert_close(local(x), conv(x), rtol=1e-5, atol=1e-5)
        layers[1].weight[0] += 0.5  # one position's filters apart: no longer the convolution
        assert not torch.allclose(local(x), conv(x))


def test_impossible_rungs_are_refused() -> None:
    with pytest.raises(ValueError, match="too small"):
        LadderNet("conv", 10, (1, 5, 5), pool=True)
    with pytest.raises(ValueError, match="a ladder rung is"):
        LadderNet("local", 10, (1, 28, 28), pool=True)


def test_a_dnn_of_a_given_parameter_count() -> None:
    for params, features in ((137_660, 784), (193_110, 3072), (296_758, 4040)):
        h = hidden_for_params(params, features)
        got = features * h + h + h * h + h + h * 10 + 10
        assert abs(got - params) < 0.02 * params


LADDER = Ladder("Toy", "ladder", "cnn", "shift", "inputs shifted by 2", "shifts move inputs", inputs="toys",
                permuted="ladder-permuted", permutation="permuting the positions", permuted_rungs=(("cnn", "the CNN"),),
                downsampled="ladder-small", downsampling="the CNN on small inputs beats the DNN on large ones",
                sizes=("small", "large"))  # fmt: skip


def _runs(make_record, model: str, scores: list[float], experiment: str = "ladder", shift2: float = 0.1,
          epochs: float = 2.0):  # fmt: skip
    """Runs whose shifted score costs about shift2, a little more with each seed (runs without spread give no
    verdict)."""
    return [make_record(task="toy", model=model, experiment=experiment, seed=s,
                        started_utc=f"2026-01-0{s + 1}T00:00:00Z",
                        metrics={"accuracy": a, "accuracy_by_shift": {"0": a, "2": a - shift2 * (1 + s * s / 10)}},
                        training={"epochs_run": epochs, "train_samples": 1000})
            for s, a in enumerate(scores)]  # fmt: skip


def test_ladder_claims_from_synthetic_records_give_verdicts(make_record) -> None:
    records = (_runs(make_record, "dnn", [0.90, 0.91, 0.92], shift2=0.30)
               + _runs(make_record, "dnn-small", [0.80, 0.81, 0.815])
               + _runs(make_record, "local-nopool", [0.93, 0.94, 0.955], shift2=0.2)
               + _runs(make_record, "cnn-nopool", [0.95, 0.96, 0.97], shift2=0.1)
               + _runs(make_record, "cnn", [0.94, 0.95, 0.962], shift2=0.05)
               + _runs(make_record, "cnn", [0.70, 0.72, 0.73], "ladder-permuted")
               + _runs(make_record, "dnn", [0.90, 0.908, 0.921], "ladder-permuted")
               + _runs(make_record, "cnn", [0.50, 0.51, 0.525], "ladder-small"))  # fmt: skip
    lines = ladder_claims(LADDER, records)
    text = "\n".join(lines)
    verdicts = {line.split(":")[0]: line for line in lines}
    assert "SUPPORTED" in verdicts["Toy property 1, locality"]
    assert "SUPPORTED" in verdicts["Toy property 2, weight sharing"]
    assert "Toy property 3, subsampling: the CNN with pooling after each layer beats the same CNN without pooling: " \
           "CONTRADICTED" in text  # fmt: skip
    assert "inputs shifted by 2 cost cnn less accuracy than the DNN: SUPPORTED" in text
    assert "inputs shifted by 2 cost cnn-nopool less accuracy than the DNN: SUPPORTED" in text
    assert "Toy property 1 control: permuting the positions (locality off) costs the CNN more accuracy than the " \
           "DNN: SUPPORTED" in text  # fmt: skip
    assert "the CNN on small inputs beats the DNN on large ones: CONTRADICTED" in text
    assert lines[-1].startswith("Toy properties: every rung trained under one budget, 2 epochs on 1,000 training toys "
                                "(the `ladder` experiment)")  # fmt: skip
    assert len(lines) == 5 + 2 + 1 + 1 + 1
    # without the top rung there is no ladder to read
    assert ladder_claims(LADDER, [r for r in records if r.model != "cnn"]) == []


def test_the_budget_says_each_rungs_when_they_differ(make_record) -> None:
    records = _runs(make_record, "cnn", [0.9, 0.91]) + _runs(make_record, "dnn", [0.9, 0.91], epochs=4.0)

    def runs(model: str) -> list:
        return [r for r in records if r.model == model]

    words = budget_words(LADDER, runs)
    assert words == "budgets in the `ladder` experiment: dnn 4 epochs on 1,000 training toys; cnn 2 epochs on 1,000 " \
                    "training toys"  # fmt: skip
