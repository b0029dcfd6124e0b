"""Writing matplotlib figures atomically (a temporary file, then a rename), readable by all."""

from __future__ import annotations

from pathlib import Path

from cnnbench.atomic import atomic_path


def pyplot():
    """matplotlib.pyplot on the file-only Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path: Path, fmt: str = "png", dpi: int = 110) -> Path:
    """Save and close the figure; a failure leaves no partial file."""
    import matplotlib

    # no date and fixed element ids: the same records give byte-identical pictures (clean diffs)
    metadata = {"Date": None} if fmt in ("svg", "pdf") else {}
    try:
        with matplotlib.rc_context({"svg.hashsalt": "cnnbench"}), atomic_path(path, suffix=f".{fmt}") as tmp:
            fig.savefig(tmp, format=fmt, dpi=dpi, bbox_inches="tight", metadata=metadata)
    finally:
        pyplot().close(fig)
    return path
