import pytest
import torch

from cnnbench.registry import get_task
from cnnbench.spec import BuildContext
from cnnbench_tasks.speech.models import FreqConv

TASK = get_task("speech")


@pytest.mark.parametrize("channels, frames", [(1, 101), (1, 11), (3, 11)])
def test_freqconv_conv1d_equals_conv2d_formulation(channels: int, frames: int) -> None:
    torch.manual_seed(0)
    layer = FreqConv(channels, frames, filters=16, bands=8)
    x = torch.randn(4, channels, 40, frames)
    fast, reference = layer(x), layer.conv2d_reference(x)
    assert fast.shape == reference.shape == (4, 16, 33)
    torch.testing.assert_close(fast, reference, atol=1e-5, rtol=1e-5)


def test_freq_filters_span_all_frames() -> None:
    """Changing any one frame changes the output: each filter sees the whole window."""
    layer = FreqConv(1, 11, filters=4, bands=8)
    x = torch.randn(1, 1, 40, 11)
    for t in range(11):
        y = x.clone()
        y[..., t] += 1.0
        assert not torch.allclose(layer(x), layer(y))


@pytest.mark.parametrize("name", sorted(TASK.models))
@pytest.mark.parametrize("shape", [(1, 40, 101), (1, 40, 11)])
def test_models_accept_clip_and_window_inputs(name: str, shape: tuple) -> None:
    model = TASK.build(name, BuildContext("speech", 7, shape)).eval()
    with torch.inference_mode():
        assert model(torch.randn(2, *shape)).shape == (2, 7)
