"""Claims over seeds: the record-picking rule, costs, pairing and verdict sentences."""

from collections.abc import Callable

from cnnbench.results import claims
from cnnbench.results.record import Record

Make = Callable[..., Record]


def _runs(make_record: Make, model: str, scores: list[float], **extra: object) -> list[Record]:
    return [
        make_record(model=model, seed=i, metrics={"accuracy": s}, training={}, **extra) for i, s in enumerate(scores)
    ]


def test_pick_prefers_the_plain_configuration_with_most_runs(make_record: Make) -> None:
    three = _runs(make_record, "m", [0.9, 0.91, 0.92])
    one_newer = _runs(make_record, "m", [0.5], profile="quick", started_utc="2027-01-01T00:00:00Z")
    amp = _runs(make_record, "m", [0.1, 0.1, 0.1, 0.1], config={"precision": {"amp": "bf16"}})
    untrained = [make_record(model="m", seed=9)]
    assert claims.pick(three + one_newer + amp + untrained, lambda r: r.model == "m") == three
    assert claims.pick(three, lambda r: r.model == "other") == []


def test_judge_pairs_matching_seeds_and_gives_a_verdict(make_record: Make) -> None:
    cnn = claims.side("cnn", _runs(make_record, "cnn", [0.991, 0.992, 0.990]))
    dnn = claims.side("dnn", _runs(make_record, "dnn", [0.981, 0.983, 0.980]))
    text = claims.judge("the CNN beats the DNN", cnn, dnn)
    assert text.startswith("the CNN beats the DNN: SUPPORTED.")
    assert "paired t-test, n = 3 vs 3" in text and "params" in text and "training TFLOPs" in text
    assert claims.judge("the DNN beats the CNN", dnn, cnn).startswith("the DNN beats the CNN: CONTRADICTED.")


def test_single_runs_and_wall_clock_cuts_are_said(make_record: Make) -> None:
    cut = [make_record(model="a", metrics={"accuracy": 0.9}, training={"stopped_by": "time_budget"})]
    other = _runs(make_record, "b", [0.8])
    text = claims.judge("a beats b", claims.side("a", cut), claims.side("b", other))
    assert "INCONCLUSIVE AT N = 1 (single runs: no claim)" in text
    assert "CUT BY A WALL-CLOCK BUDGET" in text
