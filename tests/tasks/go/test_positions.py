"""Positions: extraction, the cache, splits by game, symmetries, the policy wrapper, a smoke run."""

import json
import random
from pathlib import Path

import numpy as np
import pytest
import torch

from cnnbench.cli.main import main
from cnnbench_tasks.go.board import BLACK, WHITE, Board
from cnnbench_tasks.go.data import split_games
from cnnbench_tasks.go.models import AlphaGoPolicy, Policy, packed_bytes, unpack
from cnnbench_tasks.go.positions import cache_key, game_positions, load_positions
from cnnbench_tasks.go.sgf import Game
from cnnbench_tasks.go.symmetry import permutations, transform

COLS = "abcdefghijklmnopqrs"


def random_game(seed: int, moves: int = 60, index: int = 0) -> Game:
    """A legal random game (passes included), as the SGF reader would return it."""
    rng = random.Random(seed)
    b, colour, out = Board(19), BLACK, []
    for _ in range(moves):
        legal = [p for p in range(361) if b.effect(p, colour) is not None]
        p = None if rng.random() < 0.03 else rng.choice(legal)
        b.play(p, colour) if p is not None else b.pass_move()
        out.append((colour, p))
        colour = BLACK + WHITE - colour
    return Game("random.sgf", index, (), tuple(out))


def to_sgf(game: Game) -> str:
    def coord(p):
        if p is None:
            return ""
        row, col = divmod(p, 19)
        return COLS[col] + COLS[18 - row]  # SGF rows count from the top

    return "(;GM[1]SZ[19]" + "".join(f";{'BW'[c - 1]}[{coord(p)}]" for c, p in game.moves) + ")"


def test_positions_skip_passes_and_pack(tmp_path: Path) -> None:
    game = random_game(1)
    rows, targets = game_positions(game, "alphago48")
    assert len(targets) == sum(p is not None for _, p in game.moves)
    assert rows.shape[1] == packed_bytes(48)
    x, legal = unpack(torch.from_numpy(rows[:1]), 48)
    assert x.shape == (1, 48, 19, 19) and legal[0, targets[0]]  # the move played was legal
    assert legal[0].sum() == 361  # first move: every point is legal


def test_cache_is_reused(tmp_path: Path) -> None:
    games = [random_game(s, 30, s) for s in range(3)]
    first = load_positions(games, "raw", tmp_path, workers=1, progress=False)
    assert first.per_second > 0 and not first.from_cache and set(first.game.tolist()) == {0, 1, 2}
    again = load_positions(games, "raw", tmp_path, workers=1, progress=False)
    assert again.from_cache and again.seconds is None and np.array_equal(np.asarray(again.x), np.asarray(first.x))
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no temporary left


def test_split_is_by_game() -> None:
    parts = split_games(40, seed=0)
    assert sorted(np.concatenate(list(parts.values())).tolist()) == list(range(40))
    assert len(parts["test"]) == 2 and len(parts["dev"]) == 2
    assert np.array_equal(parts["test"], split_games(40, seed=0)["test"])


@pytest.mark.parametrize("s", range(8))
def test_a_rotated_game_gives_rotated_features_and_targets(s: int) -> None:
    game = random_game(2, 40)
    perm = permutations(19)[s]  # transformed point i comes from original perm[i]
    to_new = torch.empty_like(perm)
    to_new[perm] = torch.arange(361)
    moved = Game("r.sgf", 0, (), tuple((c, None if p is None else int(to_new[p])) for c, p in game.moves))
    a, ya = game_positions(game, "alphago48")
    b, yb = game_positions(moved, "alphago48")
    xa, la = unpack(torch.from_numpy(a), 48)
    xb, lb = unpack(torch.from_numpy(b), 48)
    assert torch.equal(transform(xa, s), xb)
    assert torch.equal(to_new[torch.from_numpy(ya.astype(np.int64))], torch.from_numpy(yb.astype(np.int64)))


def test_policy_masks_illegal_points_and_averages_symmetries() -> None:
    torch.manual_seed(0)
    rows, _ = game_positions(random_game(3, 20), "alphago48")
    packed = torch.from_numpy(rows)
    _, legal = unpack(packed, 48)
    for ensemble in (False, True):
        policy = Policy(AlphaGoPolicy(48, 8, 3), 48, ensemble=ensemble).eval()
        logits = policy(packed)
        assert (logits[~legal] < -1e8).all() and (logits[legal] > -1e8).all()
    policy.train()
    assert policy(packed).shape == (len(rows), 361)


def test_ensemble_of_a_symmetric_net_is_the_net() -> None:
    """A net that ignores the input gives the same probabilities under every symmetry."""
    net = AlphaGoPolicy(48, 4, 3)
    with torch.no_grad():
        for p in net.parameters():
            p.zero_()
    rows, _ = game_positions(random_game(4, 10), "alphago48")
    packed = torch.from_numpy(rows)
    a = Policy(net, 48, ensemble=False).eval()(packed).softmax(1)
    b = Policy(net, 48, ensemble=True).eval()(packed).softmax(1)
    torch.testing.assert_close(a, b)


def test_cli_smoke_on_written_games(tmp_path: Path) -> None:
    folder = tmp_path / "sgf"
    folder.mkdir()
    for f in range(2):
        games = [to_sgf(random_game(10 * f + i, 50)) for i in range(6)]
        (folder / f"games{f}.sgf").write_text("\n".join(games) + "\n(;GM[1]SZ[9];B[ee])\n", encoding="utf-8")
    out = tmp_path / "runs"
    args = ["run", "--task", "go", "--quick", "--no-progress", "--data", f"sgf={folder}", "--out", str(out)]
    assert main([*args, "--option", "filters=8", "--option", "layers=3", "--no-timing"]) == 0
    records = [json.loads(p.read_text()) for p in out.rglob("*.json")]
    assert {r["model"] for r in records} == {"alphago-policy", "alphago-policy-pool", "dnn"}
    for r in records:
        assert 0 <= r["metrics"]["top1"] <= r["metrics"]["top5"] <= 1
        notes = r["dataset"]["notes"]
        assert notes["games_skipped"] == {"not 19x19": 2} and notes["games_used"] == 12
        assert r["options"]["filters"] == "8"


def test_policy_map_from_a_checkpoint(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    folder = tmp_path / "sgf"
    folder.mkdir()
    (folder / "g.sgf").write_text("\n".join(to_sgf(random_game(s, 40)) for s in range(8)), encoding="utf-8")
    ck = tmp_path / "policy.pt"
    args = ["run", "--task", "go", "--quick", "--no-progress", "--no-timing", "--data", f"sgf={folder}"]
    args += ["--model", "alphago-policy", "--option", "filters=8", "--option", "layers=3", "--out", str(tmp_path)]
    assert main([*args, "--save", str(ck)]) == 0
    explain = ["explain", "saliency", "--checkpoint", str(ck), "--data-dir", str(folder), "--index", "0-1"]
    assert main([*explain, "--out", str(tmp_path / "pics")]) == 0
    png = tmp_path / "pics" / "go-alphago-policy_policy.png"
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_cache_without_the_rows_of_an_illegal_game(tmp_path: Path) -> None:
    good = random_game(5, 20)
    bad = Game("bad.sgf", 1, (), ((BLACK, 60), (WHITE, 60)))  # the same point twice
    found = load_positions([good, bad], "raw", tmp_path, workers=1, progress=False)
    assert len(found.skipped) == 1 and "bad.sgf game 1: move 2" in found.skipped[0]
    assert len(found.y) == len(np.asarray(found.x)) == sum(p is not None for _, p in good.moves)
    assert set(found.game.tolist()) == {0}


@pytest.mark.parametrize("damaged", ["positions-{}.npy", "positions-{}.npz"])
def test_a_truncated_cache_entry_is_extracted_again(
    tmp_path: Path, capsys: pytest.CaptureFixture, damaged: str
) -> None:
    games = [random_game(s, 30, s) for s in range(2)]
    expected = np.array(load_positions(games, "raw", tmp_path, workers=1, progress=False).x)  # a copy, not a map
    path = tmp_path / damaged.format(cache_key(games, "raw"))
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    again = load_positions(games, "raw", tmp_path, workers=1, progress=False)
    assert not again.from_cache and np.array_equal(np.asarray(again.x), expected)
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and ": cached Go positions unusable (" in err and path.name in err
    assert load_positions(games, "raw", tmp_path, workers=1, progress=False).from_cache


def test_an_entry_that_contradicts_itself_is_extracted_again(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """Rows and moves of different lengths (written by hand, sealed as they are): caught by the reader."""
    games = [random_game(s, 30, s) for s in range(2)]
    load_positions(games, "raw", tmp_path, workers=1, progress=False)
    meta = tmp_path / f"positions-{cache_key(games, 'raw')}.npz"
    with np.load(meta) as z:
        np.savez(meta, y=z["y"][:-1], game=z["game"], skipped=z["skipped"], seconds=z["seconds"])
    (meta.parent / f"positions-{cache_key(games, 'raw')}.npy.complete").unlink()
    assert not load_positions(games, "raw", tmp_path, workers=1, progress=False).from_cache
    assert "rows but" in capsys.readouterr().err
