"""Go data sets as tensors: games from SGF files, split by game, positions as packed planes."""

from __future__ import annotations

import os

import numpy as np
import torch

from cnnbench.errors import UsageError
from cnnbench.spec import DataRequest, Splits, TensorData
from cnnbench_tasks.go import gnugo
from cnnbench_tasks.go import positions as pos
from cnnbench_tasks.go.sgf import read_games, sgf_files

GAMES_PER_PROFILE = {"quick": 24, "default": 160, "full": None}  # None: every game
TEST_FRACTION = DEV_FRACTION = 0.05  # of the games (AlphaGo held out whole games too)
# at least this many test games: 5% of 160 games is 8 games, +-2.1 points of top-1 at 95% (and more, since a
# game's positions are correlated); 20 games (~4,100 positions) give about +-1.3
MIN_TEST_GAMES = {"quick": 4, "default": 20}


def split_games(n: int, seed: int, min_test: int = 1) -> dict[str, np.ndarray]:
    """Game indices of train, dev and test: a seeded shuffle, never splitting a game."""
    order = np.random.default_rng(seed).permutation(n)
    n_test = max(1, min(min_test, n // 4), round(n * TEST_FRACTION))  # a quarter of the games at most
    n_dev = max(1, round(n * DEV_FRACTION))
    if n < n_test + n_dev + 1:
        raise UsageError(f"{n} games are too few to split into train, dev and test")
    return {"test": np.sort(order[:n_test]), "dev": np.sort(order[n_test : n_test + n_dev]),
            "train": np.sort(order[n_test + n_dev :])}  # fmt: skip


def load(request: DataRequest) -> Splits:
    workers = max(1, min(os.cpu_count() or 1, 16))
    if request.dataset == "sgf":
        assert request.data_dir is not None
        paths, where = sgf_files(request.data_dir), str(request.data_dir)
    elif request.dataset == "gnugo-selfplay":
        count = int(request.options.get("selfplay_games", "40"))
        folder = gnugo.generate(request.cache_dir / "go" / f"gnugo-selfplay-level{gnugo.LEVEL}", count, workers,
                                request.progress)  # fmt: skip
        paths, where = [folder / f"game-{s:05d}.sgf" for s in range(count)], f"{folder} (GNU Go self-play)"
    else:
        raise UsageError(f"unknown data set {request.dataset!r}")
    strict = request.options.get("strict", "0") == "1"
    games, report = read_games(paths, strict=strict, validate=False)
    if not games:
        raise UsageError(f"{where}: no 19x19 game with moves found")
    limit = GAMES_PER_PROFILE.get(request.profile)
    order = np.random.default_rng(request.seed).permutation(len(games))
    chosen = [games[i] for i in sorted(order[:limit])] if limit else games
    layout = request.options.get("features", "alphago48")
    found = pos.load_positions(chosen, layout, request.cache_dir / "go", workers, request.progress)
    if strict and found.skipped:
        raise UsageError(found.skipped[0])
    parts = split_games(len(chosen), request.seed, MIN_TEST_GAMES.get(request.profile, 1))
    planes = pos.planes_of(layout)

    def part(name: str) -> TensorData:
        mask = np.isin(found.game, parts[name])
        idx = np.flatnonzero(mask)
        x = torch.from_numpy(np.ascontiguousarray(found.x[idx]))
        y = torch.from_numpy(found.y[idx].astype(np.int64))
        return TensorData(x, y, 361, f"{where} [{name}: {len(parts[name])} games]")

    notes = {
        "files": report.files,
        "games_read": report.games,
        "games_skipped": dict(report.skipped) | ({"illegal move": len(found.skipped)} if found.skipped else {}),
        "skip_messages": (report.messages + found.skipped)[:10],
        "games_used": len(chosen),
        "positions": len(found.y),
        "features": layout,
        "planes": planes,
        "features_from_cache": found.from_cache,
        **(
            {}
            if found.from_cache
            else {
                "extraction_seconds": round(found.seconds, 1),
                "extraction_positions_per_second": round(found.per_second, 1),
            }
        ),
        "split_games": {k: len(v) for k, v in parts.items()},
    }
    return Splits(part("train"), part("test"), notes, dev=part("dev"))
