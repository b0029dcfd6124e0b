"""The Go summary: pooling against no pooling at equal epochs and at equal training FLOPs, the DNN's convergence."""

from cnnbench.registry import get_task


def _runs(make_record, model: str, scores: list[float], **extra) -> list:
    training = {"samples": 1000, "epochs_run": 2.0} | extra.pop("training", {})
    return [
        make_record(task="go", model=model, seed=i, dataset={"name": "sgf"}, primary_metric="top1",
                    metrics={"top1": s, "top5": s + 0.2, "flops_train": 3_000_000}, training=training, **extra)
        for i, s in enumerate(scores)
    ]  # fmt: skip


def test_pooling_is_judged_at_equal_epochs_and_at_equal_flops(make_record) -> None:
    policy = _runs(make_record, "alphago-policy", [0.30, 0.29, 0.31])
    pooled = _runs(make_record, "alphago-policy-pool", [0.16, 0.17, 0.165])
    matched = _runs(make_record, "alphago-policy-pool", [0.20, 0.21, 0.19],
                    config={"train_flops": 3e9, "flops_matched_to": "alphago-policy"},
                    training={"stopped_by": "flops", "epochs_run": 3.9})  # fmt: skip
    dnn = _runs(make_record, "dnn", [0.01, 0.012, 0.011], training={"final_loss": 5.7})
    text = "\n".join(get_task("go").summarize(policy + pooled + matched + dnn))
    assert "no pooling beats pooling after the first layer, at equal epochs: SUPPORTED" in text
    assert "no pooling beats pooling after the first layer, at equal training FLOPs: SUPPORTED" in text
    assert "alphago-policy-pool 18.33" not in text and "alphago-policy-pool 20.00 ± " in text
    assert "The DNN did not converge: final training loss 5.70" in text
    assert "alphago-policy-pool at alphago-policy's training FLOPs (default profile" in text


def test_only_matched_runs_list_them_and_nothing_empty(make_record) -> None:
    matched = _runs(make_record, "alphago-policy-pool", [0.20, 0.21, 0.19],
                    config={"train_flops": 3e9, "flops_matched_to": "alphago-policy"},
                    training={"stopped_by": "flops", "epochs_run": 3.9})  # fmt: skip
    [line] = get_task("go").summarize(matched)
    assert line.startswith("Move prediction on held-out games: alphago-policy-pool at alphago-policy's training FLOPs")
