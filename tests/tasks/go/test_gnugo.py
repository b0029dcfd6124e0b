"""GNU Go self-play: GTP conversion offline; a real generated game when the binary is installed."""

from pathlib import Path

import pytest

from cnnbench.errors import UsageError
from cnnbench_tasks.go import gnugo
from cnnbench_tasks.go.sgf import read_games


def test_gtp_vertices_to_sgf() -> None:
    assert gnugo.gtp_to_sgf("A1") == "as" and gnugo.gtp_to_sgf("T19") == "sa" and gnugo.gtp_to_sgf("J10") == "ij"
    assert gnugo.gtp_to_sgf("PASS") == ""


def test_missing_binary_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gnugo.shutil, "which", lambda name: None)
    monkeypatch.setattr(gnugo, "Path", lambda p: Path("/nonexistent/gnugo"))
    with pytest.raises(UsageError, match="apt-get install gnugo"):
        gnugo.find_gnugo()


def test_generated_games_replay_by_the_rules(tmp_path: Path) -> None:
    try:
        gnugo.find_gnugo()
    except UsageError:
        pytest.skip("GNU Go is not installed")
    folder = gnugo.generate(tmp_path / "selfplay", games=2, workers=2, progress=False, max_moves=24)
    paths = sorted(folder.glob("*.sgf"))
    assert [p.name for p in paths] == ["game-00000.sgf", "game-00001.sgf"]
    games, report = read_games(paths, strict=True)
    assert len(games) == 2 and all(len(g.moves) == 24 for g in games)
    assert games[0].moves != games[1].moves  # different seeds, different games
    before = paths[0].stat().st_mtime_ns
    gnugo.generate(tmp_path / "selfplay", games=2, workers=2, progress=False, max_moves=24)
    assert paths[0].stat().st_mtime_ns == before  # cached: not played again
