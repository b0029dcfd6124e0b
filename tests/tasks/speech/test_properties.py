"""The three properties on spectrograms: the speech ladder's rungs, the locality control (permuted bins), the
experiments' plans and their claims."""

import dataclasses
from pathlib import Path

import pytest
import torch

from cnnbench.cli.main import main
from cnnbench.modules.locally_connected import LocallyConnected2d
from cnnbench.registry import get_task
from cnnbench.results.record import read_record, read_records
from cnnbench.run import checkpoint
from cnnbench.run.evaluate import checkpoint_data
from cnnbench.run.plan import RunRequest, plan_runs
from cnnbench.run.train import predict
from cnnbench.spec import BuildContext, DataRequest, Splits, TensorData
from cnnbench_tasks.speech import features
from cnnbench_tasks.speech.models import DNN
from cnnbench_tasks.speech.task import LADDER, LADDER_MAPS

TASK = get_task("speech")
CLIP = (1, 40, 101)


def _params(net: torch.nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


def test_the_rungs_have_the_documented_sizes() -> None:
    nets = {m: TASK.build(m, BuildContext("speech", 10, CLIP)) for m in LADDER}
    x = torch.zeros(2, *CLIP)
    for net in nets.values():
        assert net(x).shape == (2, 10)
    counts = {m: _params(n) for m, n in nets.items()}
    a, b = LADDER_MAPS
    assert counts["cnn-pool"] == 296_758  # Conv 8@3x3, pool, Conv 16@3x3, pool (16 x 8 x 23), Dense 100, Dense 10
    assert nets["cnn-nopool"].features(x).shape == nets["local-nopool"].features(x).shape == (2, b, 36, 97)
    assert counts["local-nopool"] == 9_967_926 and counts["cnn-nopool"] == 5_589_558
    assert abs(counts["dnn-small"] - counts["cnn-pool"]) < 0.02 * counts["cnn-pool"]
    assert counts["local-nopool"] > counts["cnn-nopool"] > counts["dnn"] > counts["cnn-pool"]


def test_the_local_rung_with_tied_filters_is_the_unpooled_cnn() -> None:
    torch.manual_seed(0)
    ctx = BuildContext("speech", 10, CLIP)
    conv, local = TASK.build("cnn-nopool", ctx).eval(), TASK.build("local-nopool", ctx).eval()
    layers = [m for m in local.modules() if isinstance(m, LocallyConnected2d)]
    for lc, cv in zip(layers, [m for m in conv.modules() if isinstance(m, torch.nn.Conv2d)], strict=True):
        lc.tie_to(cv)
    local.head.load_state_dict(conv.head.state_dict())
    x = torch.randn(2, *CLIP)
    with torch.no_grad():
        torch.testing.assert_close(local(x), conv(x), rtol=1e-5, atol=1e-5)


def test_the_properties_experiments_plan_the_ladder_and_the_control() -> None:
    assert not {"properties", "properties-permuted"} & {p.experiment for p in plan_runs(TASK, RunRequest("speech"))}
    plans = plan_runs(TASK, RunRequest("speech", experiments=("properties", "properties-permuted"), seeds=(0, 1, 2)))
    ladder = [p for p in plans if p.experiment == "properties"]
    assert [p.model for p in ladder if p.seed == 0] == list(LADDER)
    assert {p.seed for p in ladder} == {0, 1, 2} and len(ladder) == 3 * len(LADDER)
    assert all(p.options["shift_test"] == "4" and p.options["permute"] == "none" for p in ladder)
    permuted = [p for p in plans if p.experiment == "properties-permuted" and p.seed == 0]
    assert [p.model for p in permuted] == ["dnn", "dnn-small", "cnn-pool", "freq-cnn"]
    assert all(p.options["permute"] == "bins" and p.options["shift_test"] == "0" for p in permuted)
    assert all(p.dataset == "synth-digits" and not p.timing for p in plans)
    budget = {(p.profile.epochs, p.profile.train_limit, p.profile.max_samples) for p in plans}
    assert len(budget) == 1  # every rung under one budget
    # each seed holds out its own voices (the digits' split follows the seed), the same for every rung
    assert {(p.seed, p.split_seed) for p in plans} == {(0, 0), (1, 1), (2, 2)}


def test_permuted_bins_are_a_relabelling_a_dnn_is_indifferent_to() -> None:
    torch.manual_seed(0)
    train = torch.randn(30, 1, 40, 11) * 3 + 1
    order = features.bin_order(40, 11)
    assert torch.equal(order, features.bin_order(40, 11)) and sorted(order.tolist()) == list(range(440))
    plain, permuted = features.BandNorm.fit(train), features.BandNorm.fit(train, order)
    z, zp = plain(train), permuted(train)
    assert not torch.equal(z, zp) and torch.equal(zp.flatten(2), z.flatten(2)[:, :, order])
    dnn = DNN(10, (1, 40, 11)).eval()
    twin = DNN(10, (1, 40, 11)).eval()
    twin.load_state_dict(dnn.state_dict())
    with torch.no_grad():
        twin[1].weight.copy_(dnn[1].weight[:, order])  # the first layer's inputs relabelled alike
        torch.testing.assert_close(twin(zp), dnn(z))
    with pytest.raises(Exception, match="permuted order"):
        permuted(torch.zeros(1, 1, 40, 101))


def test_the_loader_hands_the_order_to_fit(monkeypatch: pytest.MonkeyPatch) -> None:
    from cnnbench_tasks.speech import data
    from cnnbench_tasks.speech.task import SpeechTask

    x = torch.randn(8, 1, 40, 101)
    fake = TensorData(x, torch.arange(8) % 2, 2, "fake")
    monkeypatch.setattr(data, "load_fsdd", lambda *a: Splits(fake, fake))
    request = DataRequest("fsdd", Path("."), Path("."), CLIP)
    task = SpeechTask()
    assert task.load(request).data is None
    splits = task.load(dataclasses.replace(request, options={"permute": "bins"}))
    assert splits.notes["permute"] == "bins"
    fitted = task.fit(splits.train, splits.data)
    assert torch.equal(fitted.order, features.bin_order(40, 101))
    out = task.preprocess(fake, fitted).x
    torch.testing.assert_close(out.flatten(2), features.BandNorm.fit(x)(x).flatten(2)[:, :, fitted.order])


def test_a_permuted_run_and_its_checkpoint_on_recordings(fsdd_dir: Path, tmp_path: Path, capsys) -> None:
    """--option permute=bins end to end on FSDD's layout: recorded, and kept in the checkpoint for `eval`."""
    ck_path, out = tmp_path / "dnn.pt", tmp_path / "runs"
    args = ["run", "--task", "speech", "--dataset", "fsdd", "--data", f"fsdd={fsdd_dir}", "--model", "dnn",
            "--quick", "--no-timing", "--no-progress", "--out", str(out), "--option", "permute=bins",
            "--save", str(ck_path)]  # fmt: skip
    assert main(args) == 0
    ((_, trained),) = read_records(out)
    assert trained.options["permute"] == "bins" and trained.dataset.notes["permute"] == "bins"
    ck = checkpoint.load(ck_path)
    assert torch.equal(ck.context.data.order, features.bin_order(40, 101))
    x, _ = checkpoint_data(ck, data_dir=fsdd_dir)
    assert (predict(ck.build(), x.x).argmax(1) == x.y).float().mean().item() == trained.score
    capsys.readouterr()
    assert main(["eval", str(ck_path), "--data", f"fsdd={fsdd_dir}", "--no-progress", "--out", str(out)]) == 0
    own = read_record(Path(capsys.readouterr().out.split("record: ")[-1].strip()))
    assert own.score == trained.score


def test_the_ladder_rungs_train_with_shifted_test_clips(fsdd_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "runs"
    args = ["run", "--task", "speech", "--dataset", "fsdd", "--data", f"fsdd={fsdd_dir}", "--quick", "--no-timing",
            "--no-progress", "--out", str(out), "--option", "shift_test=2", "--epochs", "1"]  # fmt: skip
    models = ("local-nopool", "cnn-nopool", "cnn-pool", "dnn-small")
    assert main([*args, *[a for m in models for a in ("--model", m)]]) == 0
    records = [r for _, r in read_records(out)]
    assert sorted(r.model for r in records) == ["cnn-nopool", "cnn-pool", "dnn-small", "local-nopool"]
    assert all(set(r.metrics.by_group["band_shift"]) == {"0", "1", "2"} for r in records)


def _runs(make_record, model: str, scores: list[float], experiment: str = "properties", shift2: float = 0.1):
    cost = [shift2 * (1 + s * s / 10) for s in range(len(scores))]  # a little more each seed: runs need spread
    return [make_record(task="speech", model=model, experiment=experiment, seed=s,
                        dataset={"name": "synth-digits"},
                        metrics={"accuracy": a, "accuracy_by_band_shift": {"0": a, "1": a, "2": a - cost[s]}},
                        training={"epochs_run": 4.0, "train_samples": 2264})
            for s, a in enumerate(scores)]  # fmt: skip


def test_the_summary_reads_the_ladder_with_verdicts(make_record) -> None:
    records = (_runs(make_record, "dnn", [0.97, 0.975, 0.98], shift2=0.05)
               + _runs(make_record, "dnn-small", [0.95, 0.955, 0.962])
               + _runs(make_record, "local-nopool", [0.96, 0.97, 0.972])
               + _runs(make_record, "cnn-nopool", [0.98, 0.985, 0.99], shift2=0.02)
               + _runs(make_record, "cnn-pool", [0.97, 0.98, 0.985], shift2=0.01)
               + _runs(make_record, "freq-cnn", [0.97, 0.976, 0.98], shift2=0.005)
               + _runs(make_record, "cnn-pool", [0.6, 0.62, 0.65], "properties-permuted")
               + _runs(make_record, "freq-cnn", [0.7, 0.72, 0.71], "properties-permuted")
               + _runs(make_record, "dnn", [0.968, 0.976, 0.979], "properties-permuted"))  # fmt: skip
    text = "\n".join(TASK.summarize(records))
    assert "digits property 2, weight sharing: shared local filters beat unshared ones: SUPPORTED" in text
    assert "digits property all three: the CNN beats a DNN with the same parameter count: SUPPORTED" in text
    assert "local filters (unshared) beat the task's DNN (2 x 512): CONTRADICTED" in text
    for model in ("cnn-pool", "cnn-nopool", "freq-cnn"):
        assert f"test clips shifted up by 2 mel bands cost {model} less accuracy than the DNN: SUPPORTED" in text
    assert "permuting the spectrogram bins (locality off) costs the CNN more accuracy than the DNN: SUPPORTED" in text
    assert "costs the frequency-only CNN more accuracy than the DNN: SUPPORTED" in text
    assert "digits properties: every rung trained under one budget, 4 epochs on 2,264 training clips" in text
