"""Worker process for positions.py: a chunk of games as JSON on stdin, an .npz of their positions on stdout.

Run as `python -m cnnbench_tasks.go.extract_worker`: a fresh interpreter that imports only this package, never
the caller's script, so extraction in parallel works from a plain script without an `if __name__ ==
"__main__"` guard and from a notebook (multiprocessing's spawn re-runs the main script in every child); it ignores
Ctrl-C and dies with its caller (cnnbench.data.workers)."""

from __future__ import annotations

import io
import json
import sys

import numpy as np

from cnnbench.data.workers import serve
from cnnbench_tasks.go.positions import extract_games
from cnnbench_tasks.go.sgf import Game


def encode_chunk(games: list[Game], layout: str) -> bytes:
    """What the worker reads: the layout and each game's fields."""
    return json.dumps({"layout": layout, "games": [[g.source, g.index, g.setup, g.moves] for g in games]}).encode()


def decode_result(payload: bytes) -> list[tuple[np.ndarray, np.ndarray] | str]:
    """What the worker wrote, as extract_games returns it: (rows, targets) per game, or the error of a game."""
    with np.load(io.BytesIO(payload), allow_pickle=False) as z:
        rows, targets, counts, errors = z["rows"], z["targets"], z["counts"], json.loads(str(z["errors"]))
    out: list[tuple[np.ndarray, np.ndarray] | str] = []
    at = 0
    for n in counts.tolist():
        if n < 0:
            out.append(errors.pop(0))
        else:
            out.append((rows[at : at + n], targets[at : at + n]))
            at += n
    return out


def answer(payload: bytes) -> bytes:
    chunk = json.loads(payload)
    games = [Game(s, i, tuple(map(tuple, setup)), tuple((c, p) for c, p in moves)) for s, i, setup, moves in
             chunk["games"]]  # fmt: skip
    results = extract_games(games, chunk["layout"])
    done = [r for r in results if not isinstance(r, str) and len(r[1])]
    buf = io.BytesIO()
    np.savez(
        buf,
        rows=np.concatenate([r[0] for r in done]) if done else np.zeros((0, 0), np.uint8),
        targets=np.concatenate([r[1] for r in done]) if done else np.zeros(0, np.int16),
        counts=np.array([-1 if isinstance(r, str) else len(r[1]) for r in results], dtype=np.int64),
        errors=np.array(json.dumps([r for r in results if isinstance(r, str)])),
    )
    return buf.getvalue()


if __name__ == "__main__":
    sys.exit(serve(answer))
