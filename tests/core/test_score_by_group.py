"""The score-by-shift plots of the report: one per numeric group and data set, a line per configuration (every
rung of a ladder, in each of its experiments)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

from cnnbench.results.plots import score_by_group


def _records(make_record, dataset: str, experiment: str, models: list[str], group: str = "shift") -> list:
    return [make_record(model=m, experiment=experiment, seed=s, dataset={"name": dataset},
                        metrics={"accuracy": 0.9, f"accuracy_by_{group}": {"0": 0.9, "1": 0.8, "2": 0.6},
                                 "accuracy_by_sex": {"male": 0.9, "female": 0.8}})
            for m in models for s in (0, 1)]  # fmt: skip


def test_a_plot_per_data_set_with_a_line_per_rung(make_record, tmp_path: Path) -> None:
    ladder = ["dnn", "dnn-small", "local-nopool", "cnn-nopool", "lecture-cnn"]
    records = (_records(make_record, "mnist", "properties", ladder)
               + _records(make_record, "cifar10", "properties-cifar", ladder)
               + _records(make_record, "cifar10", "properties-cifar-permuted", ["dnn", "lecture-cnn"]))  # fmt: skip
    with matplotlib.rc_context({"svg.fonttype": "none"}):  # text as text: the legend can be read back
        made = score_by_group(records, "image", tmp_path / "m_image_score_by.svg")
    assert [p.name for p in made] == ["m_image_score_by_shift_cifar10.svg", "m_image_score_by_shift_mnist.svg"]
    cifar, mnist = (p.read_text() for p in made)
    for model in ladder:
        assert f"{model} (properties) (plain, n=2)" in mnist and f"{model} (properties-cifar) (plain, n=2)" in cifar
    assert "lecture-cnn (properties-cifar-permuted) (plain, n=2)" in cifar and "properties-cifar" not in mnist
    assert "(cifar10)" in cifar  # the title names the data set when there are several


def test_one_data_set_keeps_the_plain_name_and_covers_every_speech_rung(make_record, tmp_path: Path) -> None:
    rungs = ["dnn", "dnn-small", "local-nopool", "cnn-nopool", "cnn-pool", "freq-cnn"]
    records = _records(make_record, "synth-digits", "properties", rungs, "band_shift") + _records(
        make_record, "synth-digits", "band-shift", ["freq-cnn", "cnn-2d", "dnn"], "band_shift"
    )
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        (made,) = score_by_group(records, "speech", tmp_path / "m_speech_score_by.svg")  # "sex" is not numeric
    assert made.name == "m_speech_score_by_band_shift.svg"
    text = made.read_text()
    for model in rungs:
        assert f"{model} (properties) (plain, n=2)" in text
    assert "cnn-2d (band-shift) (plain, n=2)" in text
