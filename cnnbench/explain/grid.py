"""PNG grids of images with a title per tile, and sentences with a weight per word (matplotlib), written
atomically."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from cnnbench.io import pyplot, save_figure


def tiles(n: int, max_cols: int, tile_inches: tuple[float, float]):
    """A figure of n tiles, at most max_cols a row, every axis switched off; (figure, axes)."""
    cols = min(n, max_cols)
    rows = math.ceil(n / cols)
    fig, axes = pyplot().subplots(rows, cols, figsize=(tile_inches[0] * cols, tile_inches[1] * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    return fig, axes.flat


def save_grid(
    images: Sequence[np.ndarray],
    titles: Sequence[str],
    path: Path,
    cmap: str = "gray",
    origin: str = "upper",
    aspect: str | None = None,
) -> Path:
    """images: 2-D arrays (or HxWx3); one tile each, titled; origin and aspect as imshow's; returns the path."""
    fig, axes = tiles(len(images), 6, (2.2, 2.4))
    for ax, img, title in zip(axes, images, titles, strict=False):
        ax.imshow(img, cmap=cmap, origin=origin, aspect=aspect)
        ax.set_title(title, fontsize=7)
    return save_figure(fig, path, "png", 110)


def save_words(
    rows: Sequence[Sequence[str]], weights: Sequence[Sequence[float]], titles: Sequence[str], path: Path
) -> Path:
    """Sentences drawn word by word on a background whose strength is the word's weight (0..1)."""
    plt = pyplot()

    fig, ax = plt.subplots(figsize=(11, 0.55 * (2 * len(rows)) + 0.3))
    ax.axis("off")
    cmap = plt.get_cmap("Reds")
    y = 1.0
    step = 1.0 / (2 * len(rows) + 1)
    renderer = fig.canvas.get_renderer()
    for words, ws, title in zip(rows, weights, titles, strict=True):
        ax.text(0.0, y, title, fontsize=8, style="italic", transform=ax.transAxes, va="top")
        y -= step
        x = 0.0
        for w, v in zip(words, ws, strict=True):
            t = ax.text(x, y, w, fontsize=9, transform=ax.transAxes, va="top",
                        bbox={"facecolor": cmap(0.1 + 0.8 * float(v)), "edgecolor": "none", "pad": 1.5})  # fmt: skip
            box = t.get_window_extent(renderer=renderer).transformed(ax.transAxes.inverted())
            x += box.width + 0.006
        y -= step
    return save_figure(fig, path, "png", 110)


def ansi_words(words: Sequence[str], weights: Sequence[float]) -> str:
    """The words with a red background as strong as their weight (0..1), for a terminal."""
    shades = (231, 224, 217, 210, 203, 196)  # white to red in the 256-colour palette
    return " ".join(
        f"\x1b[48;5;{shades[min(5, int(v * 6))]}m\x1b[30m{w}\x1b[0m" for w, v in zip(words, weights, strict=True)
    )
