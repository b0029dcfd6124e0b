"""Positions of game records as bit-packed feature planes, extracted once (in parallel) and cached.

A cache entry is a .npy of packed rows (memory-mapped when read) plus a small .npz with each
position's move and game; both are written to temporary files and renamed when complete.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
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


class Extraction:
    """Chunks of games extracted in `workers` worker processes (or in this one with a single worker), results in
    chunk order. Each worker is a fresh `python -m cnnbench_tasks.go.extract_worker`, never a fork or spawn of
    the caller: multiprocessing's spawn re-runs the main script in its children, so a script without an
    `if __name__ == "__main__"` guard would start the extraction again in each (and hang respawning them).
    Leaving the `with` block by an exception or an interrupt kills the running workers."""

    def __init__(self, layout: str, workers: int) -> None:
        self.layout, self.workers = layout, workers
        self._running: set[subprocess.Popen] = set()
        self._lock = threading.Lock()
        self._stopped = False

    def __enter__(self) -> Extraction:
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._stopped = True
            for proc in self._running:
                proc.kill()

    def map(self, chunks: list[list[Game]]) -> Iterator[Results]:
        if self.workers <= 1:
            yield from (extract_games(chunk, self.layout) for chunk in chunks)
            return
        with ThreadPoolExecutor(self.workers) as pool:  # threads only wait on the worker processes
            try:
                yield from pool.map(self._in_worker, chunks)
            finally:
                self.__exit__()
                pool.shutdown(wait=True, cancel_futures=True)

    def _in_worker(self, chunk: list[Game]) -> Results:
        from cnnbench_tasks.go.extract_worker import decode_result, encode_chunk

        with self._lock:
            if self._stopped:
                raise RuntimeError("extraction stopped")
            proc = subprocess.Popen([sys.executable, "-m", "cnnbench_tasks.go.extract_worker"], stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
            self._running.add(proc)
        try:
            out, err = proc.communicate(encode_chunk(chunk, self.layout))
        finally:
            with self._lock:
                self._running.discard(proc)
        if proc.returncode != 0:
            tail = err.decode(errors="replace")[-500:]
            raise RuntimeError(f"Go feature worker exited with code {proc.returncode}: {tail}")
        return decode_result(out)


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


def load_positions(games: list[Game], layout: str, cache_dir: Path, workers: int, progress: bool) -> Positions:
    """The positions of the games, from the cache or extracted now with `workers` processes."""
    key = cache_key(games, layout)
    rows_path, meta_path = cache_dir / f"positions-{key}.npy", cache_dir / f"positions-{key}.npz"
    if rows_path.exists() and meta_path.exists():
        meta = np.load(meta_path)
        skipped = [str(s) for s in meta["skipped"]]
        return Positions(np.load(rows_path, mmap_mode="r"), meta["y"], meta["game"], skipped, None, None)
    cache_dir.mkdir(parents=True, exist_ok=True)
    total = sum(1 for g in games for _, p in g.moves if p is not None)
    width = (planes_of(layout) + 1) * 361
    nbytes = (width + 7) // 8
    tmp_rows = rows_path.with_name(f".{rows_path.name}.{os.getpid()}.tmp.npy")
    rows = np.lib.format.open_memmap(tmp_rows, mode="w+", dtype=np.uint8, shape=(total, nbytes))
    ys, game_ids, skipped = np.zeros(total, np.int16), np.zeros(total, np.int32), []
    chunks = [games[i : i + CHUNK] for i in range(0, len(games), CHUNK)]
    at = 0
    t0 = time.perf_counter()
    bar = tqdm(total=total, desc=f"go features ({layout})", unit="pos", disable=not progress, mininterval=1)
    try:
        with Extraction(layout, workers) as extraction:
            for ci, results in enumerate(extraction.map(chunks)):
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
                    np.save(f, np.load(tmp_rows, mmap_mode="r")[:at])
        with atomic_path(meta_path, ".npz") as tmp, open(tmp, "wb") as f:
            np.savez(f, y=ys[:at], game=game_ids[:at], skipped=np.asarray(skipped, dtype=str), seconds=seconds)
    finally:
        bar.close()
        tmp_rows.unlink(missing_ok=True)
    return Positions(np.load(rows_path, mmap_mode="r"), ys[:at], game_ids[:at], skipped, seconds, at / seconds)
