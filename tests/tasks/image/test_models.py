import pytest
import torch

from cnnbench.measure.counting import count_params, layer_summary
from cnnbench.registry import get_task

TASK = get_task("image")


def test_lecture_cnn_matches_the_lecture() -> None:
    model = TASK.build("lecture-cnn")
    assert count_params(model) == 137_660
    rows = layer_summary(model, TASK.example_input("lecture-cnn", 1))
    with_params = [(r.name, r.params) for r in rows if r.params]
    assert with_params == [("conv1", 250), ("conv2", 11_300), ("fc1", 125_100), ("fc2", 1_010)]
    shapes = {r.name: r.output_shape for r in rows}
    assert shapes["conv1"] == (25, 26, 26)
    assert shapes["pool1"] == (25, 13, 13)
    assert shapes["conv2"] == (50, 11, 11)
    assert shapes["pool2"] == (50, 5, 5)
    assert shapes["flatten"] == (1250,)


def test_dnn_has_at_least_as_many_parameters() -> None:
    assert count_params(TASK.build("dnn")) >= count_params(TASK.build("lecture-cnn"))


def test_resnet20_size() -> None:
    # He et al. 2016, Table 6: ResNet-20 has 0.27M parameters
    assert 0.26e6 < count_params(TASK.build("resnet20")) < 0.28e6


@pytest.mark.parametrize("name", sorted(TASK.models))
def test_every_model_runs_on_its_example_input(name: str) -> None:
    model = TASK.build(name).eval()
    spec = TASK.model_spec(name)
    with torch.inference_mode():
        out = model(TASK.example_input(name, 1))
    assert out.shape == (1, spec.num_classes)


def test_summary_compares_the_cnn_with_the_dnn(make_record) -> None:
    recs = [
        make_record(model=m, seed=s, dataset={"name": "mnist"}, metrics={"accuracy": a + d / 1000, "params": p},
                    training={})  # fmt: skip
        for m, a, p, steps in (("lecture-cnn", 0.99, 137_660, (0, 2, 1)), ("dnn", 0.98, 648_010, (0, 1, 2)))
        for s, d in enumerate(steps)
    ]
    (line,) = TASK.summarize(recs)
    assert line.startswith("MNIST, the lecture's CNN beats the fully connected DNN: SUPPORTED.")
    assert "lecture-cnn 99.10 ± 0.25 (n=3) [137,660 params" in line and "dnn 98.10 ± 0.25 (n=3) [648,010" in line
    assert "difference +1.00 points" in line and "paired t-test, n = 3 vs 3" in line
