"""Text models: Kim (2014)'s CNN in four variants, k-max CNN, Kalchbrenner et al. (2014)'s DCNN, bag of embeddings.

Every model takes (B, T) int64 word ids padded with PAD at the end, trims the batch to its longest
sentence, and never lets padding win a max: a sentence's output does not depend on its batch.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from cnnbench_tasks.text.pooling import kmax_pool, masked_max, narrow_mask, trim
from cnnbench_tasks.text.vocab import PAD

KIM_WIDTHS = (3, 4, 5)  # Kim (2014): filter windows 3, 4, 5
KIM_MAPS = 100  # Kim (2014): 100 feature maps each
DROPOUT = 0.5  # Kim (2014) and Kalchbrenner et al. (2014)
RANDOM_RANGE = 0.25  # Kim's code: `rand` vectors from U[-0.25, 0.25]
KIM_MODES = ("rand", "static", "non-static", "multichannel")


def embedding_layer(vectors: torch.Tensor, trainable: bool) -> nn.Embedding:
    return nn.Embedding.from_pretrained(vectors.clone(), freeze=not trainable, padding_idx=PAD)


def random_vectors(like: torch.Tensor) -> torch.Tensor:
    """Vectors of the same shape from U[-0.25, 0.25] (torch's global generator), padding row zero."""
    v = torch.empty_like(like).uniform_(-RANDOM_RANGE, RANDOM_RANGE)
    v[PAD] = 0.0
    return v


class KimCNN(nn.Module):
    """Filters as tall as the embedding slide along time only: a Conv1d with the embedding as channels.

    mode: rand (random vectors, trained), static (pretrained, frozen), non-static (pretrained, trained),
    multichannel (a frozen and a trained copy; each filter sees both and the results are added, which
    equals one filter over their sum with the bias added once). pool_k None: max over time; an int:
    k-max pooling (the kmax-cnn model).
    """

    def __init__(self, num_classes: int, vectors: torch.Tensor, mode: str = "non-static", pool_k: int | None = None):
        super().__init__()
        if mode not in KIM_MODES:
            raise ValueError(f"unknown mode {mode!r}; valid: {', '.join(KIM_MODES)}")
        self.mode, self.pool_k = mode, pool_k
        dim = vectors.shape[1]
        self.embed = embedding_layer(random_vectors(vectors) if mode == "rand" else vectors, mode != "static")
        self.embed_static = embedding_layer(vectors, False) if mode == "multichannel" else None
        self.convs = nn.ModuleList(nn.Conv1d(dim, KIM_MAPS, w) for w in KIM_WIDTHS)
        self.dropout = nn.Dropout(DROPOUT)
        self.fc = nn.Linear(KIM_MAPS * len(KIM_WIDTHS) * (pool_k or 1), num_classes)

    def embedded(self, ids: torch.Tensor) -> torch.Tensor:
        """(B, D, T) channels-first sentence 'image' of a trimmed batch."""
        e = self.embed(ids)
        if self.embed_static is not None:
            e = e + self.embed_static(ids)
        return e.transpose(1, 2)

    def features(self, ids: torch.Tensor) -> torch.Tensor:
        ids = trim(ids, max(KIM_WIDTHS))
        lengths = (ids != PAD).sum(1)
        e = self.embedded(ids)
        pooled = []
        for conv, width in zip(self.convs, KIM_WIDTHS, strict=True):
            h = conv(e)
            mask = narrow_mask(lengths, width, h.shape[2])
            # ReLU after pooling equals ReLU before it (ReLU is monotone) but leaves no ties at zero,
            # so k-max picks the same positions whatever the batch
            p = masked_max(h, mask) if self.pool_k is None else kmax_pool(h, self.pool_k, mask)[0].flatten(1)
            pooled.append(F.relu(p))
        return torch.cat(pooled, 1)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.fc(self.dropout(self.features(ids)))


def as_conv2d(conv: nn.Conv1d) -> nn.Conv2d:
    """The same filters as a Conv2d over a (1, T, D) sentence image with a (width x D) kernel."""
    maps, dim, width = conv.weight.shape
    conv2d = nn.Conv2d(1, maps, (width, dim))
    with torch.no_grad():
        conv2d.weight.copy_(conv.weight.permute(0, 2, 1).unsqueeze(1))
        conv2d.bias.copy_(conv.bias)
    return conv2d


def conv2d_formulation(conv2d: nn.Conv2d, e_channels_first: torch.Tensor) -> torch.Tensor:
    """(B, maps, T - width + 1) from the lecture's picture: the sentence as a 1-channel T x D image."""
    return conv2d(e_channels_first.transpose(1, 2).unsqueeze(1)).squeeze(3)


def dynamic_k(lengths: torch.Tensor, layer: int, layers: int, k_top: int) -> torch.Tensor:
    """Kalchbrenner et al. (2014), eq. 4: k_l = max(k_top, ceil((L - l) / L * s)) per sentence length s."""
    return torch.clamp(torch.ceil((layers - layer) / layers * lengths).long(), min=k_top)


class DCNN(nn.Module):
    """Kalchbrenner, Grefenstette & Blunsom (2014): wide convolutions, dynamic k-max pooling, folding.

    Unlike kim-cnn the filters are one row high: each embedding dimension (row) has its own filter
    per feature map (a grouped Conv1d, one group per row). Layer l of L keeps
    k_l = max(k_top, ceil((L - l) / L * s)) values for a sentence of s words; folding sums pairs of
    rows before the last pooling; tanh after each pooling. Sizes of the paper's binary sentiment net:
    widths 7 and 5, 6 and 14 feature maps, k_top = 4.
    """

    def __init__(
        self,
        num_classes: int,
        vectors: torch.Tensor,
        k_top: int = 4,
        widths: tuple[int, int] = (7, 5),
        maps: tuple[int, int] = (6, 14),
    ) -> None:
        super().__init__()
        self.k_top, self.widths, self.maps = k_top, widths, maps
        rows = vectors.shape[1]
        self.rows = rows
        self.embed = embedding_layer(vectors, True)
        self.conv1 = nn.Conv1d(rows, rows * maps[0], widths[0], groups=rows, padding=widths[0] - 1)
        self.conv2 = nn.Conv1d(rows * maps[0], rows * maps[1], widths[1], groups=rows, padding=widths[1] - 1)
        self.dropout = nn.Dropout(DROPOUT)
        self.fc = nn.Linear(math.ceil(rows / 2) * maps[1] * k_top, num_classes)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        ids = trim(ids, 1)
        s = (ids != PAD).sum(1)
        e = self.embed(ids).transpose(1, 2)  # (B, rows, T): one map, channel = row
        h1 = self.conv1(e)  # wide: T + w1 - 1 positions; a sentence's own are the first s + w1 - 1
        positions = torch.arange(h1.shape[2], device=ids.device)
        k1 = dynamic_k(s, 1, 2, self.k_top)
        p1, kept = kmax_pool(h1, k1, positions[None, :] < (s + self.widths[0] - 1)[:, None])
        p1 = torch.tanh(p1)
        h2 = self.conv2(p1)
        positions = torch.arange(h2.shape[2], device=ids.device)
        mask2 = positions[None, :] < (kept.sum(1) + self.widths[1] - 1)[:, None]
        b, _, t = h2.shape
        h2 = h2.view(b, self.rows, self.maps[1], t)
        if self.rows % 2:
            h2 = F.pad(h2, (0, 0, 0, 0, 0, 1))
        folded = h2.view(b, -1, 2, self.maps[1], t).sum(2).reshape(b, -1, t)
        p2, _ = kmax_pool(folded, self.k_top, mask2)
        return self.fc(self.dropout(torch.tanh(p2).flatten(1)))


class BagOfEmbeddings(nn.Module):
    """The non-convolutional baseline: the mean of a sentence's word vectors, then two dense layers."""

    def __init__(self, num_classes: int, vectors: torch.Tensor, hidden: int = 100) -> None:
        super().__init__()
        self.embed = embedding_layer(vectors, True)
        self.hidden = nn.Linear(vectors.shape[1], hidden)
        self.dropout = nn.Dropout(DROPOUT)
        self.fc = nn.Linear(hidden, num_classes)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        ids = trim(ids, 1)
        lengths = (ids != PAD).sum(1, keepdim=True).clamp(min=1)
        mean = self.embed(ids).sum(1) / lengths  # the padding row is zero
        return self.fc(self.dropout(F.relu(self.hidden(mean))))
