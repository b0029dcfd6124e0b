"""Writing matplotlib figures atomically (a temporary file, then a rename), readable by all."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def pyplot():
    """matplotlib.pyplot on the file-only Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path: Path, fmt: str = "png", dpi: int = 110) -> Path:
    """Save and close the figure; a failure leaves no partial file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=f".{fmt}")
    os.close(fd)
    try:
        fig.savefig(tmp, format=fmt, dpi=dpi, bbox_inches="tight")
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; published files are readable by all
        os.replace(tmp, path)
    finally:
        pyplot().close(fig)
        Path(tmp).unlink(missing_ok=True)
    return path
