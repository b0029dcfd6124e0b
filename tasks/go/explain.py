"""How `cnnbench explain` draws Go positions: the policy's move probabilities over the board, the stones on it
and the move actually played (a board is no picture: packed planes, and the policy's output is a board too)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from cnnbench.errors import UsageError
from cnnbench.explain.grid import tiles
from cnnbench.explain.render import Renderer, Samples
from cnnbench.io import save_figure
from cnnbench_tasks.go.models import SIZE, unpack


class GoRenderer(Renderer):
    def saliency(self, s: Samples, out: Path, stem: str) -> Path:
        """The policy map of each position: where the net would play, beside the move played."""
        planes, _legal = unpack(s.x, s.model.planes)
        own, other, maps, titles = [], [], [], []
        for i, k in enumerate(s.index):
            p, played = s.probs[i], int(s.y[i])
            rank = int((p > p[played]).sum()) + 1
            own.append(planes[i, 0].numpy())
            other.append(planes[i, 1].numpy())
            maps.append(p.reshape(SIZE, SIZE).numpy())
            titles.append(f"#{k}: played point {played}, p={float(p[played]):.2f} (rank {rank}); "
                          f"top p={float(p.max()):.2f}")  # fmt: skip
        return save_boards(own, other, maps, [int(t) for t in s.y], titles, out / f"{stem}_policy.png")

    def occlusion(self, s: Samples, patch: int, stride: int, out: Path, stem: str) -> Path:
        raise UsageError("occlusion covers pixels of a picture; a Go position is packed feature planes: use saliency")


def save_boards(
    own: Sequence[np.ndarray], other: Sequence[np.ndarray], probs: Sequence[np.ndarray],
    moves: Sequence[int], titles: Sequence[str], path: Path,
) -> Path:  # fmt: skip
    """Go boards: the policy's probability per point as a heat map, the player's stones black, the
    opponent's white, the move actually played circled in green. Arrays are (19, 19), row 0 at the bottom."""
    fig, axes = tiles(len(probs), 3, (4.2, 4.4))
    for ax, mine, theirs, p, move, title in zip(axes, own, other, probs, moves, titles, strict=False):
        size = p.shape[0]
        ax.imshow(p, cmap="Reds", origin="lower", vmin=0)
        for stones, face in ((mine, "black"), (theirs, "white")):
            r, c = np.nonzero(stones)
            ax.scatter(c, r, s=30, c=face, edgecolors="black", linewidths=0.5)
        mr, mc = divmod(move, size)
        ax.scatter([mc], [mr], s=120, facecolors="none", edgecolors="lime", linewidths=2)
        ax.set_title(title, fontsize=8)
    return save_figure(fig, path, "png", 100)
