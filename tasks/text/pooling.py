"""Pooling over time for padded batches: masked max-over-time and (dynamic) k-max pooling."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from cnnbench_tasks.text.vocab import PAD


def trim(ids: torch.Tensor, min_length: int) -> torch.Tensor:
    """Cut a batch of padded id rows to its longest sentence, but keep at least min_length columns."""
    longest = int((ids != PAD).sum(1).max()) if ids.numel() else 0
    length = max(longest, min_length)
    if length <= ids.shape[1]:
        return ids[:, :length]
    return F.pad(ids, (0, length - ids.shape[1]), value=PAD)


def narrow_mask(lengths: torch.Tensor, width: int, positions: int) -> torch.Tensor:
    """(B, positions) True where a narrow convolution window of `width` lies inside the sentence.

    A sentence shorter than the filter keeps its first window (which reaches into the padding).
    """
    valid = (lengths - width + 1).clamp(min=1)
    return torch.arange(positions, device=lengths.device)[None, :] < valid[:, None]


def masked_max(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Max over time of (B, C, T) at the positions where mask (B, T) is True."""
    return x.masked_fill(~mask[:, None, :], float("-inf")).amax(2)


def kmax_pool(
    x: torch.Tensor, k: int | torch.Tensor, mask: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """The k largest values of each channel of (B, C, T), **in their original order**.

    k is an int or a (B,) tensor of per-sentence k (dynamic k-max pooling). Positions where mask (B, T)
    is False (padding) are never selected. A sentence with fewer than k valid positions yields all of
    them followed by zeros; the returned (B, k_max) mask is False at those padded slots. Gradients
    reach only the selected positions (gather).
    """
    b, _, t = x.shape
    k_per = torch.as_tensor(k, device=x.device).expand(b) if not isinstance(k, torch.Tensor) else k.to(x.device)
    k_max = int(k_per.max())
    if mask is None:
        mask = torch.ones(b, t, dtype=torch.bool, device=x.device)
    k_per = torch.minimum(k_per, mask.sum(1))
    if t < k_max:
        x = F.pad(x, (0, k_max - t))
        mask = F.pad(mask, (0, k_max - t), value=False)
        t = k_max
    scores = x.detach().masked_fill(~mask[:, None, :], float("-inf"))
    top = scores.topk(k_max, dim=2).indices  # by value, largest first
    slots = torch.arange(k_max, device=x.device)
    keep = slots[None, :] < k_per[:, None]  # (B, k_max)
    positions = torch.where(keep[:, None, :], top, t).sort(dim=2).values  # unselected sort to the end
    values = x.gather(2, positions.clamp(max=t - 1))
    return values.masked_fill(~keep[:, None, :], 0.0), keep


def kmax_pool_argsort(x: torch.Tensor, k: int, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Reference k-max pooling by a full argsort (slower; used to test kmax_pool)."""
    if mask is not None:
        scores = x.detach().masked_fill(~mask[:, None, :], float("-inf"))
    else:
        scores = x.detach()
    order = scores.argsort(dim=2, descending=True)[:, :, :k]
    return x.gather(2, order.sort(dim=2).values)


class KMaxPool(nn.Module):
    """kmax_pool as a module with a fixed k (returns values only)."""

    def __init__(self, k: int) -> None:
        super().__init__()
        self.k = k

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        return kmax_pool(x, self.k, mask)[0]

    def extra_repr(self) -> str:
        return f"k={self.k}"
