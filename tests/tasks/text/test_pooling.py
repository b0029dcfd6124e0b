import pytest
import torch

from cnnbench_tasks.text.pooling import kmax_pool, kmax_pool_argsort, masked_max, narrow_mask, trim


def test_keeps_k_largest_in_original_order() -> None:
    x = torch.tensor([[[1.0, 5.0, 2.0, 4.0, 3.0]]])
    values, keep = kmax_pool(x, 3)
    assert values.tolist() == [[[5.0, 4.0, 3.0]]]  # positions 1, 3, 4: order of the sentence, not of size
    assert keep.all()


def test_equals_argsort_reference() -> None:
    torch.manual_seed(0)
    x = torch.randn(8, 16, 30)
    mask = torch.arange(30)[None, :] < torch.randint(10, 31, (8,))[:, None]
    assert torch.equal(kmax_pool(x, 5, mask)[0], kmax_pool_argsort(x, 5, mask))


def test_gradient_reaches_only_selected_positions() -> None:
    x = torch.tensor([[[1.0, 5.0, 2.0, 4.0, 3.0]]], requires_grad=True)
    kmax_pool(x, 2)[0].sum().backward()
    assert x.grad.tolist() == [[[0.0, 1.0, 0.0, 1.0, 0.0]]]


def test_masked_padding_never_wins() -> None:
    x = torch.tensor([[[1.0, 2.0, 100.0, 100.0]]])  # the padding holds the largest values
    mask = torch.tensor([[True, True, False, False]])
    values, keep = kmax_pool(x, 2, mask)
    assert values.tolist() == [[[1.0, 2.0]]]
    assert masked_max(x, mask).tolist() == [[2.0]]


def test_sentence_shorter_than_k_is_padded_with_zeros() -> None:
    x = torch.tensor([[[3.0, -1.0]]])
    values, keep = kmax_pool(x, 4)
    assert values.tolist() == [[[3.0, -1.0, 0.0, 0.0]]]
    assert keep.tolist() == [[True, True, False, False]]


def test_dynamic_k_per_sentence() -> None:
    x = torch.tensor([[[1.0, 4.0, 2.0, 3.0]], [[9.0, 7.0, 8.0, 6.0]]])
    values, keep = kmax_pool(x, torch.tensor([1, 3]))
    assert values.tolist() == [[[4.0, 0.0, 0.0]], [[9.0, 7.0, 8.0]]]
    assert keep.tolist() == [[True, False, False], [True, True, True]]


def test_trim_and_narrow_mask() -> None:
    ids = torch.tensor([[5, 6, 7, 0, 0, 0], [5, 0, 0, 0, 0, 0]])
    assert trim(ids, 2).shape == (2, 3)
    assert trim(ids, 5).shape == (2, 5)
    assert trim(ids[:, :2], 4).tolist() == [[5, 6, 0, 0], [5, 0, 0, 0]]
    mask = narrow_mask(torch.tensor([3, 1]), width=2, positions=4)
    assert mask.tolist() == [[True, True, False, False], [True, False, False, False]]


@pytest.mark.parametrize("k", [1, 3, 7])
def test_fixed_size_for_any_length(k: int) -> None:
    for t in (2, 5, 11):
        assert kmax_pool(torch.randn(2, 4, t), k)[0].shape == (2, 4, k)
