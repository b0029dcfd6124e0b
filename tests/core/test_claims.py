"""Claims over seeds: the record-picking rule, costs, pairing and verdict sentences."""

from collections.abc import Callable

from cnnbench.results import claims
from cnnbench.results.record import Record

Make = Callable[..., Record]


def _runs(make_record: Make, model: str, scores: list[float], **extra: dict) -> list[Record]:
    metrics, training = extra.pop("metrics", {}), extra.pop("training", {})
    return [
        make_record(model=model, seed=i, metrics=metrics | {"accuracy": s}, training=training, **extra)
        for i, s in enumerate(scores)
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


def test_the_sentence_says_what_the_comparison_holds_equal(make_record: Make) -> None:
    a = _runs(make_record, "a", [0.90, 0.91, 0.92])
    b = _runs(make_record, "b", [0.80, 0.81, 0.82], metrics={"flops_train": 60_000_000})
    text = claims.judge("a beats b", claims.side("a", a), claims.side("b", b))
    assert "Compared at equal epochs (12 each); training compute differs 10x." in text
    same = claims.judge("a beats b", claims.side("a", a), claims.side("b", a))
    assert same.matched == "equal epochs (12 each); equal training compute"
    assert (same + " More.").verdict == same.verdict and str(same + " More.").endswith("More.")
    # a trained for b's compute: 10x the samples, stopped by the FLOPs budget
    budget = {"train_flops": 3.6e11}
    matched = _runs(make_record, "a", [0.95, 0.96, 0.94], config=budget | {"flops_matched_to": "b"},
                    training={"samples": 60000, "epochs_run": 120.0, "stopped_by": "flops"})  # fmt: skip
    text = claims.judge("a beats b", claims.side("a", matched), claims.side("b", b))
    assert "Compared at equal training compute (0.36 vs 0.36 training TFLOPs)." in text


def test_runs_matched_to_a_model_are_one_configuration_across_split_sizes(make_record: Make) -> None:
    from cnnbench.results.record import config_key

    runs = [
        make_record(model="a", seed=s, config={"train_flops": f, "epochs": e, "flops_matched_to": "b"},
                    training={"stopped_by": "flops"})  # fmt: skip
        for s, (f, e) in enumerate([(3.6e11, 120), (3.3e11, 110)])
    ]
    assert config_key(runs[0]) == config_key(runs[1])
    assert config_key(runs[0]) != config_key(make_record(model="a", training={}))


def test_the_protocol_is_said_and_unlike_sides_are_flagged(make_record: Make) -> None:
    def folds(model: str, scores: list[float], **extra: dict) -> list[Record]:
        return [make_record(model=model, seed=0, dataset={"fold": [i, 10]}, metrics={"accuracy": s}, training={},
                            **extra)
                for i, s in enumerate(scores)]  # fmt: skip

    cv_a, cv_b = folds("a", [0.80, 0.82, 0.81]), folds("b", [0.75, 0.76, 0.74])
    text = claims.judge("a beats b", claims.side("a", cv_a), claims.side("b", cv_b))
    assert "paired t-test" in text and "Compared at 10-fold CV; equal epochs (12 each)" in text
    seeds_b = _runs(make_record, "b", [0.75, 0.76, 0.74])
    unlike = claims.judge("a beats b", claims.side("a", cv_a), claims.side("b", seeds_b))
    assert unlike.matched.startswith("UNLIKE PROTOCOLS (10-fold CV vs seeds); ")
    quick_b = _runs(make_record, "b", [0.75, 0.76, 0.74], profile="quick")
    plain_a = _runs(make_record, "a", [0.80, 0.82, 0.81])
    assert claims.matched_on(plain_a, quick_b).startswith("UNLIKE PROFILES (default vs quick); equal epochs")
    assert not claims.matched_on(plain_a, seeds_b).startswith("UNLIKE")


def test_a_recipe_against_its_target_gives_the_gap_and_the_time(make_record: Make) -> None:
    """The speed records' criterion: the mean over runs against the target; below it the gap is said, and the
    time from the first step to the end of the final scoring is held against the goal."""
    timing = {"metrics": {"eval_seconds": 20.0}, "training": {"train_seconds": 1000.0}}
    short = _runs(make_record, "fast", [0.935, 0.933, 0.937], **timing, config={"precision": {"amp": "bf16"}})
    text = claims.judge_target("fast reaches 94%", claims.side("fast", short), 0.94, "airbench", 90 * 60)
    assert text.startswith("fast reaches 94%: CONTRADICTED.") and "Gap to the target: 0.50 points." in text
    assert "amp=bf16" in text and "1,020 ± 0 s (n=3), within the goal of 90 min" in text
    assert text.matched == "a fixed target, 94.00%" and text.anchor == "airbench"
    slow = _runs(make_record, "fast", [0.95, 0.952, 0.951], metrics={"eval_seconds": 200.0},
                 training={"train_seconds": 6000.0})  # fmt: skip
    text = claims.judge_target("fast reaches 94%", claims.side("fast", slow), 0.94, "", 90 * 60)
    assert text.startswith("fast reaches 94%: SUPPORTED.") and "Gap" not in text and "over the goal" in text
    assert "Time" not in claims.judge_target("r", claims.side("fast", slow), 0.94)  # no goal set, no time said
    assert "over the goal of 5 s" in claims.judge_target("r", claims.side("fast", slow), 0.94, "", 5.0)
    quick = _runs(make_record, "fast", [0.95, 0.952, 0.951], metrics={"eval_seconds": 0.3},
                  training={"train_seconds": 4.4})  # fmt: skip
    text = claims.judge_target("r", claims.side("fast", quick), 0.94, "", 5.0)
    assert "4.7 ± 0 s (n=3), within the goal of 5 s" in text  # not rounded to whole seconds
