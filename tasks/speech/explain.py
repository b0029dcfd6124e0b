"""How `cnnbench explain` draws spectrograms: low frequencies at the bottom, time to the right, stretched to the
tile (40 bands x 101 frames), for saliency and occlusion maps alike."""

from __future__ import annotations

from cnnbench.explain.render import Renderer


class SpectrogramRenderer(Renderer):
    origin = "lower"  # band 0 (the lowest frequencies) at the bottom
    aspect = "auto"
