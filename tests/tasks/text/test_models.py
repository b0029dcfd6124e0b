import pytest
import torch

from cnnbench.registry import get_task
from cnnbench.spec import BuildContext
from cnnbench_tasks.text.data import TextData
from cnnbench_tasks.text.models import DCNN, KimCNN, as_conv2d, conv2d_formulation, dynamic_k
from cnnbench_tasks.text.pooling import trim

TASK = get_task("text")


def _vectors(vocab: int = 300, dim: int = 12) -> torch.Tensor:
    torch.manual_seed(0)
    v = torch.randn(vocab, dim)
    v[0] = 0
    return v


def _context(vectors: torch.Tensor, **options: str) -> BuildContext:
    """A build context with the given word vectors (a vocabulary of placeholder words) and options."""
    words = tuple(f"w{i}" for i in range(len(vectors)))
    return BuildContext("text", 2, (18,), TASK.resolve_options(options), TextData(words, vectors))


def _batch() -> torch.Tensor:
    torch.manual_seed(1)
    ids = torch.randint(2, 300, (5, 18))
    for row, length in enumerate([18, 9, 4, 2, 1]):
        ids[row, length:] = 0
    return ids


@pytest.mark.parametrize("name", list(TASK.models))
def test_output_does_not_depend_on_the_batch(name: str) -> None:
    """Padding never leaks: a sentence scores the same alone as in a batch with longer ones."""
    torch.manual_seed(0)
    model = TASK.build(name, _context(_vectors(), kmax_k="3")).eval()
    ids = _batch()
    together = model(ids)
    for row in range(len(ids)):
        alone = model(trim(ids[row : row + 1], 1))
        torch.testing.assert_close(together[row], alone[0], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("name", list(TASK.models))
def test_trains_a_step(name: str) -> None:
    torch.manual_seed(0)
    model = TASK.build(name, _context(_vectors(), kmax_k="3")).train()
    loss = TASK.loss(model(_batch()), torch.tensor([0, 1, 0, 1, 1]))
    loss.backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert grads and all(g is not None and torch.isfinite(g).all() for g in grads)


def test_conv1d_equals_the_conv2d_picture() -> None:
    """A Conv1d over embedding channels computes what a (width x embedding) Conv2d over the image does."""
    model = KimCNN(2, _vectors(), "static")
    e = model.embedded(trim(_batch(), 5))
    for conv in model.convs:
        torch.testing.assert_close(conv(e), conv2d_formulation(as_conv2d(conv), e), atol=1e-5, rtol=1e-5)


def test_multichannel_is_each_filter_on_both_channels_added() -> None:
    model = KimCNN(2, _vectors(), "multichannel")
    with torch.no_grad():
        model.embed.weight.add_(0.1)  # as after fine-tuning: the channels differ
    ids = trim(_batch(), 5)
    conv = model.convs[0]
    two = conv(model.embed(ids).transpose(1, 2)) + conv(model.embed_static(ids).transpose(1, 2)) - conv.bias[:, None]
    torch.testing.assert_close(conv(model.embedded(ids)), two, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize(
    "name, frozen, trained",
    [
        ("kim-cnn-static", ["embed.weight"], []),
        ("kim-cnn-non-static", [], ["embed.weight"]),
        ("kim-cnn-multichannel", ["embed_static.weight"], ["embed.weight"]),
    ],
)
def test_static_vectors_stay_fixed(name: str, frozen: list[str], trained: list[str]) -> None:
    vectors = _vectors()
    model = TASK.build(name, _context(vectors))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.5)
    TASK.loss(model(_batch()), torch.tensor([0, 1, 0, 1, 1])).backward()
    opt.step()
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in frozen)
    assert all(not torch.equal(before[k], after[k]) for k in trained)
    torch.testing.assert_close(model.state_dict()["embed.weight"][0], torch.zeros(12))  # padding row


def test_rand_ignores_pretrained_vectors() -> None:
    vectors = _vectors()
    model = TASK.build("kim-cnn-rand", _context(vectors))
    assert model.embed.weight.shape == vectors.shape
    assert model.embed.weight.abs().max() <= 0.25 and not torch.equal(model.embed.weight, vectors)


def test_dynamic_k_formula() -> None:
    s = torch.tensor([1, 8, 9, 15, 40])
    assert dynamic_k(s, 1, 2, 4).tolist() == [4, 4, 5, 8, 20]
    assert dynamic_k(s, 2, 3, 4).tolist() == [4, 4, 4, 5, 14]


def test_dcnn_pools_dynamically_then_to_k_top() -> None:
    model = DCNN(2, _vectors(), k_top=4).eval()
    seen = {}
    model.conv2.register_forward_hook(lambda _m, inp, _out: seen.update(p1=inp[0]))
    model.fc.register_forward_hook(lambda _m, inp, _out: seen.update(top=inp[0]))
    ids = torch.randint(2, 300, (2, 15))
    ids[1, 6:] = 0  # s = 6: k_1 = 4 of its 12 wide-conv positions
    model(ids)
    assert seen["p1"].shape[2] == 8  # ceil(15 / 2), the batch's largest k_1
    assert (seen["p1"][1, :, 4:] == 0).all() and (seen["p1"][1, :, :4] != 0).any()
    assert seen["top"].shape[1] == 6 * 14 * 4  # 12 rows folded to 6, 14 maps, k_top 4


def test_timing_only_builds_the_kmax_k_it_records(tmp_path) -> None:
    """--option kmax_k reaches the timing-only build too: the record's options and its model agree."""
    from cnnbench.cli.main import main
    from cnnbench.measure.counting import count_params
    from cnnbench.results.record import read_records

    args = ["run", "--task", "text", "--model", "kmax-cnn", "--timing-only", "--quick", "--device", "cpu"]
    assert main([*args, "--option", "kmax_k=8", "--no-progress", "--out", str(tmp_path)]) == 0
    ((_, record),) = read_records(tmp_path)
    k8 = TASK.build("kmax-cnn", TASK.context("kmax-cnn", TASK.resolve_options({"kmax_k": "8"})))
    assert record.options["kmax_k"] == "8" and k8.pool_k == 8
    assert record.metrics.params == count_params(k8) != count_params(TASK.build("kmax-cnn"))
