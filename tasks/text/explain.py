"""How `cnnbench explain` draws sentences: each word on a background as strong as its saliency (the gradient
norm at its word vector), in the terminal and in a PNG; the words come from the checkpoint's vocabulary."""

from __future__ import annotations

from pathlib import Path

from cnnbench.errors import UsageError
from cnnbench.explain.attribution import token_saliency
from cnnbench.explain.grid import ansi_words, save_words
from cnnbench.explain.render import Renderer, Samples
from cnnbench_tasks.text.data import TextData
from cnnbench_tasks.text.vocab import PAD


class TextRenderer(Renderer):
    def saliency(self, s: Samples, out: Path, stem: str) -> Path:
        """Per-word saliency: coloured words in the terminal and in a PNG."""
        if not isinstance(s.context.data, TextData):
            raise UsageError("the checkpoint holds no vocabulary to show words with")
        vocab = s.context.data.vocabulary
        sal = token_saliency(s.model, s.x, s.y, PAD)
        rows, weights, titles = [], [], []
        for i in range(len(s.index)):
            n = int((s.x[i] != PAD).sum())
            words = [vocab[int(t)] for t in s.x[i, :n]]
            w = (sal[i, :n] / (sal[i, :n].max() + 1e-12)).tolist()
            title = f"{s.title(i)} (p={float(s.probs[i].max()):.2f})"
            print(f"{title}: {ansi_words(words, w)}")
            rows.append(words)
            weights.append(w)
            titles.append(title)
        return save_words(rows, weights, titles, out / f"{stem}_saliency.png")

    def occlusion(self, s: Samples, patch: int, stride: int, out: Path, stem: str) -> Path:
        raise UsageError("occlusion covers pixels of a picture; a sentence is word ids: use saliency")
