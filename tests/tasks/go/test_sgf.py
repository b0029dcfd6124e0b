from pathlib import Path

import pytest

from cnnbench.errors import UsageError
from cnnbench_tasks.go.board import BLACK, WHITE
from cnnbench_tasks.go.sgf import read_games, replay, sgf_files, split_collection

GAME = "(;GM[1]FF[4]SZ[19]KM[6.5]C[a comment with ) and \\] inside];B[pd];W[dd];B[pp];W[dp])"
HANDICAP = "(;GM[1]SZ[19]HA[2]AB[pd][dp];W[dd];B[];W[pp];B[tt];W[qf])"
SMALL = "(;GM[1]SZ[9];B[ee];W[cc])"
CORRUPT = "(;GM[1]SZ[19];B[pd];W[zz9])"
ILLEGAL = "(;GM[1]SZ[19];B[pd];W[pd])"  # the same point twice
EMPTY = "(;GM[1]SZ[19]PB[x])"


def _write(folder: Path, name: str, *games: str) -> Path:
    p = folder / name
    p.write_text("\n".join(games) + "\n", encoding="utf-8")
    return p


def test_collection_split_respects_values() -> None:
    assert len(split_collection((GAME + HANDICAP + "\n" + SMALL).encode())) == 3


def test_collection_with_handicap_passes_and_skips(tmp_path: Path) -> None:
    path = _write(tmp_path, "games.sgf", GAME, HANDICAP, SMALL, CORRUPT, ILLEGAL, EMPTY)
    games, report = read_games([path])
    assert [g.index for g in games] == [0, 1]
    assert report.skipped == {"not 19x19": 1, "corrupt": 1, "illegal move": 1, "no moves": 1}
    assert any(m.startswith("games.sgf game 3: corrupt") for m in report.messages)
    assert "games.sgf game 4: move 2: point Q16 is occupied" in report.messages
    handicap = games[1]
    assert {c for c, _ in handicap.setup} == {BLACK} and len(handicap.setup) == 2
    assert [p is None for _, p in handicap.moves] == [False, True, False, True, False]  # B[] and B[tt]
    assert handicap.moves[0][0] == WHITE  # white moves first after a handicap
    boards = [(b.points.count(BLACK), b.points.count(WHITE)) for b, _, _ in replay(handicap)]
    assert boards[0] == (2, 0) and boards[-1] == (2, 2)


def test_strict_makes_a_bad_game_fatal(tmp_path: Path) -> None:
    path = _write(tmp_path, "games.sgf", GAME, ILLEGAL)
    with pytest.raises(UsageError, match="games.sgf game 1: move 2"):
        read_games([path], strict=True)
    smallonly = _write(tmp_path, "small.sgf", SMALL)
    assert read_games([smallonly])[1].skipped == {"not 19x19": 1}  # skipped by default
    with pytest.raises(UsageError, match="small.sgf game 0: size"):
        read_games([smallonly], strict=True)  # fatal under strict=1, as the README says


def test_unterminated_last_game_is_counted(tmp_path: Path) -> None:
    path = _write(tmp_path, "cut.sgf", GAME, GAME[:30])
    games, report = read_games([path])
    assert len(games) == 1 and report.skipped == {"corrupt": 1}


def test_folder_without_sgf(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no .sgf files"):
        sgf_files(tmp_path)


def _valid_games(result: tuple[list, object]) -> None:
    games, report = result
    for g in games:
        assert g.moves and all(p is None or 0 <= p < 361 for _, p in g.moves)
        assert all(0 <= p < 361 for _, p in g.setup)


@pytest.mark.parametrize("strict", [False, True])
def test_fuzz_sgf_gives_games_or_one_line(fuzz_file, strict: bool) -> None:
    good = (GAME + HANDICAP + SMALL).encode()
    fuzz_file("games.sgf", good, lambda p: read_games([p], strict=strict), _valid_games, cut=60)
