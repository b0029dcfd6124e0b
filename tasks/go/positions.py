"""Positions of game records as bit-packed feature planes, extracted once (in parallel) and cached.

A cache entry is a .npy of packed rows (memory-mapped when read) plus a small .npz with each
position's move and game; both are written to temporary files and renamed when complete, then sealed
(cnnbench.data.cache): a damaged entry is extracted again.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from cnnbench.data.cache import CacheEntry, CorruptEntry, cached
from cnnbench.data.workers import WorkerPool
from cnnbench.io import atomic_path, temporary_path
from cnnbench_tasks.go.board import IllegalMove
from cnnbench_tasks.go.features import ALPHAGO48, RAW, extract, plane_offsets
from cnnbench_tasks.go.sgf import Game, replay

LAYOUTS = {"alphago48": ALPHAGO48, "raw": RAW}
FEATURES_VERSION = 1  # bump when a plane's definition changes: old caches are then not reused
CHUNK = 25  # games per worker task
# the extraction's temporary file as versions before cnnbench.io.temporary_path named it (removed when stale)
LEGACY_TEMPORARY = re.compile(r"^\.positions-[0-9a-f]+\.npy\.(\d+)\.tmp\.npy$")


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


def extract_games(games: list[Game], layout: str) -> list[tuple[np.ndarray, np.ndarray] | str]:
    """(packed rows, targets) of each game, or the message of a game that failed to replay."""
    out: list[tuple[np.ndarray, np.ndarray] | str] = []
    for g in games:
        try:
            out.append(game_positions(g, layout))
        except IllegalMove as e:
            out.append(str(e))
    return out


Results = list[tuple[np.ndarray, np.ndarray] | str]


def extracted(chunks: list[list[Game]], layout: str, workers: int) -> Iterator[Results]:
    """Each chunk's results, in order: in `workers` worker processes (cnnbench.data.workers: stopped on an
    interrupt, never left behind), or in this process with a single worker."""
    if workers <= 1:
        yield from (extract_games(chunk, layout) for chunk in chunks)
        return
    from cnnbench_tasks.go.extract_worker import decode_result, encode_chunk

    with WorkerPool("cnnbench_tasks.go.extract_worker", workers, "Go feature extraction") as pool:
        for out in pool.map(encode_chunk(chunk, layout) for chunk in chunks):
            yield decode_result(out)


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


def row_bytes(layout: str) -> int:
    """Bytes of one packed row: the layout's planes and the legal-move plane, 361 points each."""
    return ((planes_of(layout) + 1) * 361 + 7) // 8


def _read_cached(rows_path: Path, meta_path: Path, layout: str) -> Positions:
    """A cache entry read back and checked against itself (CorruptEntry, or numpy's error when damaged)."""
    with np.load(meta_path, allow_pickle=False) as meta:
        ys, game_ids, skipped = meta["y"], meta["game"], [str(s) for s in meta["skipped"]]
    rows = _rows(rows_path)
    if rows.dtype != np.uint8 or rows.ndim != 2 or rows.shape[1] != row_bytes(layout):
        raise CorruptEntry(f"rows of shape {rows.shape} and type {rows.dtype}, expected (N, {row_bytes(layout)}) uint8")
    if not len(rows) == len(ys) == len(game_ids):
        raise CorruptEntry(f"{len(rows)} rows but {len(ys)} moves and {len(game_ids)} game numbers")
    return Positions(rows, ys, game_ids, skipped, None, None)


@dataclass
class _Extraction:
    count: int  # rows filled, from the start
    ys: np.ndarray
    game_ids: np.ndarray
    skipped: list[str]
    seconds: float


def _extract(games: list[Game], layout: str, rows: np.ndarray, workers: int, progress: bool) -> _Extraction:
    """Replay the games in worker processes, filling `rows` (a memory map) from the start."""
    total = len(rows)
    ys, game_ids, skipped = np.zeros(total, np.int16), np.zeros(total, np.int32), []
    chunks = [games[i : i + CHUNK] for i in range(0, len(games), CHUNK)]
    at = 0
    t0 = time.perf_counter()
    with (
        tqdm(total=total, desc=f"go features ({layout})", unit="pos", disable=not progress, mininterval=1) as bar,
        contextlib.closing(extracted(chunks, layout, workers)) as results_of_chunks,
    ):
        for ci, results in enumerate(results_of_chunks):
            for gi, res in enumerate(results, ci * CHUNK):
                if isinstance(res, str):
                    skipped.append(res)
                    continue
                n = len(res[1])
                rows[at : at + n], ys[at : at + n], game_ids[at : at + n] = res[0], res[1], gi
                at += n
                bar.update(n)
    rows.flush()
    return _Extraction(at, ys[:at], game_ids[:at], skipped, time.perf_counter() - t0)


def _build(games: list[Game], layout: str, rows_path: Path, meta_path: Path, workers: int, progress: bool) -> Positions:
    """Extract into a temporary file, then rename the rows and the metadata into place."""
    total = sum(1 for g in games for _, p in g.moves if p is not None)
    tmp_rows = temporary_path(rows_path, ".npy")
    try:
        rows = np.lib.format.open_memmap(tmp_rows, mode="w+", dtype=np.uint8, shape=(total, row_bytes(layout)))
        found = _extract(games, layout, rows, workers, progress)
        del rows
        with atomic_path(rows_path, ".npy") as tmp:
            if found.count == total:  # every game replayed: the extraction file is the cache entry as it is
                os.replace(tmp_rows, tmp)
            else:  # skipped games left unused rows at the end: keep the first `count`
                with open(tmp, "wb") as f:
                    np.save(f, _rows(tmp_rows)[: found.count])
        with atomic_path(meta_path, ".npz") as tmp, open(tmp, "wb") as f:
            skipped = np.asarray(found.skipped, dtype=str)
            np.savez(f, y=found.ys, game=found.game_ids, skipped=skipped, seconds=found.seconds)
    finally:
        tmp_rows.unlink(missing_ok=True)
    rate = found.count / found.seconds
    return Positions(_rows(rows_path), found.ys, found.game_ids, found.skipped, found.seconds, rate)


def load_positions(games: list[Game], layout: str, cache_dir: Path, workers: int, progress: bool) -> Positions:
    """The positions of the games, from the cache or extracted now with `workers` processes (again when
    the cached entry is damaged)."""
    key = cache_key(games, layout)
    rows_path, meta_path = cache_dir / f"positions-{key}.npy", cache_dir / f"positions-{key}.npz"
    cache_dir.mkdir(parents=True, exist_ok=True)
    return cached(
        CacheEntry((rows_path, meta_path)),
        lambda: _read_cached(rows_path, meta_path, layout),
        lambda: _build(games, layout, rows_path, meta_path, workers, progress),
        "Go positions",
        (LEGACY_TEMPORARY,),
    )
