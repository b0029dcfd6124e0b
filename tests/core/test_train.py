import pytest
import torch
from torch import nn

from cnnbench.run.train import Curve, train
from cnnbench.spec import Profile, TensorData


def _data(n: int, seed: int) -> TensorData:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 4, generator=g)
    return TensorData(x, (x[:, 0] > 0).long(), 2, "synthetic")


def test_dev_split_keeps_the_best_epoch() -> None:
    torch.manual_seed(0)
    model = nn.Linear(4, 2)
    calls: list[float] = []
    targets = iter([0.5, 0.9, 0.6, 0.7])  # the second epoch scores best

    def score(logits: torch.Tensor, y: torch.Tensor) -> float:
        calls.append(1)
        if len(calls) == 2:
            score.kept = {k: v.clone() for k, v in model.state_dict().items()}
        return next(targets)

    result = train(model, _data(64, 0), nn.functional.cross_entropy, Profile(4, 16, 0.1), 0, False,
                   dev=_data(32, 1), score=score)  # fmt: skip
    assert result.dev_scores == [0.5, 0.9, 0.6, 0.7] and result.best_epoch == 2.0
    assert all(torch.equal(v, score.kept[k]) for k, v in model.state_dict().items())


def test_without_dev_nothing_is_selected() -> None:
    model = nn.Linear(4, 2)
    result = train(model, _data(64, 0), nn.functional.cross_entropy, Profile(2, 16, 0.1), 0, False)
    assert result.best_epoch is None and result.dev_scores is None


def test_a_samples_budget_beyond_one_epoch_trains_those_samples() -> None:
    """Each epoch ends with a short batch: the steps are counted per epoch, not as samples / batch."""
    from cnnbench.run.train import planned_steps

    profile = Profile(epochs=100, batch_size=64, lr=1e-3, max_samples=1000)
    # n = 450: 8 steps an epoch (7 of 64, one of 2); 1000 samples = 2 epochs (16 steps) + 100 (2 steps)
    assert planned_steps(450, profile) == 18
    assert planned_steps(450, Profile(epochs=2, batch_size=64, lr=1e-3, max_samples=1000)) == 16
    assert planned_steps(5000, profile) == 16  # under one epoch: ceil(1000 / 64)


def test_lookahead_averages_every_k_steps_and_ends_on_the_average() -> None:
    """Jordan 2024's schedule: at step s of T, every k steps, average <- average + (1 - 0.95^k (s/T)^3) (live -
    average), live <- average; at the end live <- average. Float buffers (running statistics) are averaged too."""
    from cnnbench.run.train import _Lookahead

    model = nn.BatchNorm1d(1)
    weight, mean = model.weight, model.running_mean
    look = _Lookahead(model, every=2, total_steps=4)
    with torch.no_grad():
        weight.fill_(3.0), mean.fill_(5.0)  # the live values after some training steps (average: 1 and 0)
    look.step(1)  # not a multiple of 2: nothing happens
    assert weight.item() == 3.0
    look.step(2)  # decay 0.95^2 x (2/4)^3 = 0.1128...
    decay = 0.95**2 * 0.5**3
    assert weight.item() == pytest.approx(1 + (1 - decay) * 2) and mean.item() == pytest.approx((1 - decay) * 5)
    with torch.no_grad():
        weight.fill_(10.0)
    look.finish(4)  # at a pull's step: decay 1, the average stays, the live weights take it
    assert weight.item() == pytest.approx(1 + (1 - decay) * 2)
    assert model.num_batches_tracked.item() == 0  # an integer buffer is left alone
    # ending between pulls: the steps since the last pull are averaged in first, never dropped
    tail = _Lookahead(nn.BatchNorm1d(1), every=2, total_steps=4)
    with torch.no_grad():
        tail.state[0].fill_(3.0)
    tail.finish(3)
    assert tail.state[0].item() == pytest.approx(1 + (1 - 0.95**2 * 0.75**3) * 2)


def test_a_run_with_lookahead_differs_and_repeats() -> None:
    def run(lookahead: int) -> torch.Tensor:
        torch.manual_seed(0)
        model = nn.Linear(4, 2)
        profile = Profile(3, 16, 0.5, optimizer="sgd", lookahead=lookahead)
        train(model, _data(64, 0), nn.functional.cross_entropy, profile, 0, False)
        return model.weight.detach().clone()

    assert torch.equal(run(5), run(5)) and not torch.equal(run(5), run(0))
    torch.manual_seed(0)
    untrained = nn.Linear(4, 2).weight.detach().clone()
    assert not torch.equal(run(50), untrained)  # 12 steps, fewer than the period: trained all the same


def test_the_last_curve_point_scores_the_model_training_ends_with() -> None:
    """Lookahead ends on the average before the curve's last point is scored, so the curve and the run agree."""
    torch.manual_seed(0)
    model = nn.Linear(4, 2)
    data = _data(64, 0)
    seen: list[torch.Tensor] = []
    curve = Curve(lambda m: seen.append(m.weight.detach().clone()) or 0.5, points=2)
    profile = Profile(2, 16, 0.5, optimizer="sgd", lookahead=3)  # 8 steps: the last one between pulls
    result = train(model, data, nn.functional.cross_entropy, profile, 0, False, curve=curve)
    assert result.curve[-1].samples == 128 and torch.equal(seen[-1], model.weight)
