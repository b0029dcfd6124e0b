"""A vocabulary built on the training split only, and sentences encoded as padded id rows."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import torch

PAD, UNK = 0, 1  # id 0 pads a sentence to the batch's length; id 1 stands for words unseen in training


@dataclass(frozen=True)
class Vocabulary:
    words: tuple[str, ...]  # index = id; words[0] and words[1] are the pad and unknown markers

    @classmethod
    def build(cls, sentences: Sequence[Sequence[str]]) -> Vocabulary:
        """Every word of the (training) sentences, most frequent first, ties alphabetical."""
        counts = Counter(w for s in sentences for w in s)
        ordered = sorted(counts, key=lambda w: (-counts[w], w))
        return cls(("<pad>", "<unk>", *ordered))

    def __len__(self) -> int:
        return len(self.words)

    def index(self) -> dict[str, int]:
        return {w: i for i, w in enumerate(self.words)}

    def encode(self, sentences: Sequence[Sequence[str]], length: int) -> torch.Tensor:
        """(N, length) int64 ids, padded with PAD at the end; sentences longer than length are cut."""
        index = self.index()
        out = torch.full((len(sentences), length), PAD, dtype=torch.long)
        for row, sentence in enumerate(sentences):
            ids = [index.get(w, UNK) for w in sentence[:length]]
            out[row, : len(ids)] = torch.tensor(ids, dtype=torch.long)
        return out
