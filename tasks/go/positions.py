"""Positions of game records as bit-packed feature planes, extracted once (in parallel) and cached.

A cache entry is a .npy of packed rows (memory-mapped when read) plus a small .npz with each
position's move and game; both are written to temporary files and renamed when complete.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from cnnbench.io import atomic_path
from cnnbench_tasks.go.board import IllegalMove
from cnnbench_tasks.go.features import ALPHAGO48, RAW, extract, plane_offsets
from cnnbench_tasks.go.sgf import Game, replay

LAYOUTS = {"alphago48": ALPHAGO48, "raw": RAW}
FEATURES_VERSION = 1  # bump when a plane's definition changes: old caches are then not reused
CHUNK = 25  # games per worker task


def planes_of(layout: str) -> int:
    return sum(c for _, c in LAYOUTS[layout])


def legal_mask(board, colour: int, planes: np.ndarray, layout: str) -> np.ndarray:
    """(361,) uint8: 1 where colour may play. Read off the 'liberties after move' planes when present."""
    if layout == "alphago48":
        at = plane_offsets(ALPHAGO48)["liberties after move"]
        return planes[at : at + 8].reshape(8, -1).any(0).astype(np.uint8)
    return np.array([board.effect(q, colour) is not None for q in range(361)], dtype=np.uint8)


def game_positions(game: Game, layout: str) -> tuple[np.ndarray, np.ndarray]:
    """(packed rows, target points) of every non-pass move of a game; raises IllegalMove."""
    rows, targets = [], []
    age = np.zeros(361, dtype=np.int64)
    for number, (board, colour, p) in enumerate(replay(game), 1):
        if p is not None:
            planes = extract(board, colour, age, number, LAYOUTS[layout])
            rows.append(np.packbits(np.concatenate([planes.reshape(-1), legal_mask(board, colour, planes, layout)])))
            targets.append(p)
            age[p] = number
    if not rows:
        return np.zeros((0, 0), np.uint8), np.zeros(0, np.int16)
    return np.stack(rows), np.asarray(targets, dtype=np.int16)


def _work(args: tuple[list[Game], str]) -> list[tuple[np.ndarray, np.ndarray] | str]:
    games, layout = args
    out: list[tuple[np.ndarray, np.ndarray] | str] = []
    for g in games:
        try:
            out.append(game_positions(g, layout))
        except IllegalMove as e:
            out.append(str(e))
    return out


@dataclass
class Positions:
    x: np.ndarray  # (N, bytes) uint8, memory-mapped
    y: np.ndarray  # (N,) int16 target point
    game: np.ndarray  # (N,) int32 index into the games list
    skipped: list[str]  # games that failed to replay
    seconds: float | None  # extraction time (None when read from the cache: nothing was extracted)
    per_second: float | None  # positions per second of the extraction (None from the cache)

    @property
    def from_cache(self) -> bool:
        return self.seconds is None


def cache_key(games: list[Game], layout: str) -> str:
    h = hashlib.sha256(f"{FEATURES_VERSION}:{layout}".encode())
    for g in games:
        h.update(f"{g.source}:{g.index}:{g.setup}:{g.moves}".encode())
    return h.hexdigest()[:16]


def _rows(path: Path) -> np.ndarray:
    """The packed rows of a positions file, memory-mapped (never unpickled)."""
    return np.load(path, mmap_mode="r", allow_pickle=False)


def load_positions(games: list[Game], layout: str, cache_dir: Path, workers: int, progress: bool) -> Positions:
    """The positions of the games, from the cache or extracted now with `workers` processes."""
    key = cache_key(games, layout)
    rows_path, meta_path = cache_dir / f"positions-{key}.npy", cache_dir / f"positions-{key}.npz"
    if rows_path.exists() and meta_path.exists():
        meta = np.load(meta_path, allow_pickle=False)
        skipped = [str(s) for s in meta["skipped"]]
        return Positions(_rows(rows_path), meta["y"], meta["game"], skipped, None, None)
    cache_dir.mkdir(parents=True, exist_ok=True)
    total = sum(1 for g in games for _, p in g.moves if p is not None)
    width = (planes_of(layout) + 1) * 361
    nbytes = (width + 7) // 8
    tmp_rows = rows_path.with_name(f".{rows_path.name}.{os.getpid()}.tmp.npy")
    rows = np.lib.format.open_memmap(tmp_rows, mode="w+", dtype=np.uint8, shape=(total, nbytes))
    ys, game_ids, skipped = np.zeros(total, np.int16), np.zeros(total, np.int32), []
    chunks = [(games[i : i + CHUNK], layout) for i in range(0, len(games), CHUNK)]
    at = 0
    t0 = time.perf_counter()
    bar = tqdm(total=total, desc=f"go features ({layout})", unit="pos", disable=not progress, mininterval=1)
    try:
        with multiprocessing.get_context("spawn").Pool(workers) as pool:
            for ci, results in enumerate(pool.imap(_work, chunks)):
                for gi, res in enumerate(results, ci * CHUNK):
                    if isinstance(res, str):
                        skipped.append(res)
                        continue
                    n = len(res[1])
                    rows[at : at + n], ys[at : at + n], game_ids[at : at + n] = res[0], res[1], gi
                    at += n
                    bar.update(n)
        rows.flush()
        seconds = time.perf_counter() - t0
        del rows
        with atomic_path(rows_path, ".npy") as tmp:
            if at == total:  # every game replayed: the extraction file is the cache entry as it is
                os.replace(tmp_rows, tmp)
            else:  # skipped games left unused rows at the end: keep the first `at`
                with open(tmp, "wb") as f:
                    np.save(f, _rows(tmp_rows)[:at])
        with atomic_path(meta_path, ".npz") as tmp, open(tmp, "wb") as f:
            np.savez(f, y=ys[:at], game=game_ids[:at], skipped=np.asarray(skipped, dtype=str), seconds=seconds)
    finally:
        bar.close()
        tmp_rows.unlink(missing_ok=True)
    return Positions(_rows(rows_path), ys[:at], game_ids[:at], skipped, seconds, at / seconds)
