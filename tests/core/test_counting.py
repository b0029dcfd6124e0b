import torch
from torch import nn

from cnnbench.measure.counting import count_flops, count_params, layer_summary


def test_linear_flops_and_params() -> None:
    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 5))
    assert count_params(model) == 65
    f = count_flops(model, torch.randn(4, 3, 4))
    assert f["flops_fwd"] == 2 * 12 * 5
    assert f["macs_fwd"] == 60
    assert f["flops_train"] > f["flops_fwd"]


def test_conv_connections() -> None:
    model = nn.Sequential(nn.Conv2d(1, 2, 3))
    (row,) = layer_summary(model, torch.randn(1, 1, 6, 6))
    assert row.output_shape == (2, 4, 4)
    assert row.params == 20
    assert row.connections == 16 * 20
    assert row.macs == 2 * 16 * 9
