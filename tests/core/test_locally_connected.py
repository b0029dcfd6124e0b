"""The locally connected layer equals a convolution when its per-position filters are tied, and is not one
when they differ."""

import pytest
import torch
from torch import nn

from cnnbench.modules.locally_connected import LocallyConnected2d


@pytest.mark.parametrize(
    ("c_in", "c_out", "size", "kernel", "stride", "padding"),
    [(1, 4, (28, 28), 5, 1, 0), (3, 8, (12, 10), 3, 1, 1), (2, 5, (9, 11), (3, 2), (2, 1), (1, 0))],
)
def test_tied_filters_compute_the_convolution(c_in, c_out, size, kernel, stride, padding) -> None:
    torch.manual_seed(0)
    conv = nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=padding)
    local = LocallyConnected2d(c_in, c_out, size, kernel, stride=stride, padding=padding).tie_to(conv)
    x = torch.randn(3, c_in, *size)
    expected = conv(x)
    assert local(x).shape == expected.shape
    torch.testing.assert_close(local(x), expected, rtol=1e-5, atol=1e-5)


def test_untied_filters_are_one_per_position_and_learn_apart() -> None:
    torch.manual_seed(0)
    local = LocallyConnected2d(1, 2, (6, 6), 3)
    conv = nn.Conv2d(1, 2, 3)
    assert local.weight.shape == (16, 2, 9)  # 4 x 4 positions, each its own 2 filters of 1x3x3
    assert sum(p.numel() for p in local.parameters()) == 16 * (2 * 9 + 2)
    assert sum(p.numel() for p in conv.parameters()) == 2 * 9 + 2
    local.tie_to(conv)
    x = torch.zeros(1, 1, 6, 6)
    x[0, 0, 0, 0] = 1.0  # a pattern in one corner: only the filters that see it get a gradient
    local(x).sum().backward()
    grads = local.weight.grad.abs().sum(dim=(1, 2))
    assert grads[0] > 0 and grads[15] == 0
    with torch.no_grad():
        local.weight[15] += 1.0
    assert not torch.allclose(local(torch.randn(1, 1, 6, 6)), conv(torch.randn(1, 1, 6, 6)))


def test_a_kernel_larger_than_the_input_is_refused() -> None:
    with pytest.raises(ValueError, match="does not fit"):
        LocallyConnected2d(1, 1, (4, 4), 5)


def test_scoring_in_slices_computes_the_whole_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    torch.manual_seed(0)
    local = LocallyConnected2d(2, 3, (7, 6), 3)
    x = torch.randn(10, 2, 7, 6)
    whole = local(x)  # with gradients: one pass
    monkeypatch.setattr(LocallyConnected2d, "SCORING_SLICE", 4)
    calls = []

    def forward(part: torch.Tensor) -> torch.Tensor:
        calls.append(len(part))
        return LocallyConnected2d._forward(local, part)

    monkeypatch.setattr(local, "_forward", forward)
    with torch.inference_mode():
        torch.testing.assert_close(local(x), whole, rtol=1e-6, atol=1e-6)
    assert calls == [4, 4, 2]
