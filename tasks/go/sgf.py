"""Game records from SGF files (through sgfmill): collections, handicap setup, passes, bad games counted.

A file may hold many games. A game that cannot be parsed or replayed is reported with its file and
index, skipped and counted; `strict` makes the first such problem fatal.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from cnnbench.errors import UsageError, reason
from cnnbench_tasks.go.board import BLACK, WHITE, Board, IllegalMove

SIZE = 19
COLORS = {"b": BLACK, "w": WHITE}


@dataclass(frozen=True)
class Game:
    source: str  # file name
    index: int  # position of the game in its file, from 0
    setup: tuple[tuple[int, int], ...]  # (color, point) setup stones (handicap AB, also AW)
    moves: tuple[tuple[int, int | None], ...]  # (color, point or None for a pass)

    @property
    def label(self) -> str:
        return f"{self.source} game {self.index}"


@dataclass
class Report:
    files: int = 0
    games: int = 0
    skipped: Counter = field(default_factory=Counter)  # reason -> games
    messages: list[str] = field(default_factory=list)  # one per skipped game (the first 50 kept)

    def skip(self, reason: str, message: str, strict: bool) -> None:
        if strict:
            raise UsageError(message)
        self.skipped[reason] += 1
        if len(self.messages) < 50:
            self.messages.append(message)


def split_collection(data: bytes) -> list[bytes]:
    """The top-level game trees of a collection, cut by a scan that respects [...] values and escapes."""
    out, depth, start, in_value, escaped = [], 0, None, False, False
    for i, ch in enumerate(data):
        if in_value:
            if escaped:
                escaped = False
            elif ch == 0x5C:  # backslash
                escaped = True
            elif ch == 0x5D:  # ]
                in_value = False
        elif ch == 0x5B:  # [
            in_value = True
        elif ch == 0x28:  # (
            if depth == 0:
                start = i
            depth += 1
        elif ch == 0x29 and depth > 0:  # )
            depth -= 1
            if depth == 0 and start is not None:
                out.append(data[start : i + 1])
                start = None
    if start is not None:
        out.append(data[start:])  # an unterminated last game: its parse will fail and be counted
    return out


def _point(move: tuple[int, int]) -> int:
    row, col = move
    return row * SIZE + col


def _game(tree: bytes, source: str, index: int) -> Game | str:
    """A Game, or the reason it was skipped."""
    from sgfmill import sgf  # here, not at import: listing tasks must not need every task's packages

    try:
        parsed = sgf.Sgf_game.from_bytes(tree)
    except ValueError as e:
        return f"corrupt: {reason(e)}"
    if parsed.get_size() != SIZE:
        return f"size {parsed.get_size()}"
    try:
        root = parsed.get_root()
        black, white, empty = root.get_setup_stones()
        setup = tuple((BLACK, _point(p)) for p in sorted(black)) + tuple((WHITE, _point(p)) for p in sorted(white))
        moves = []
        for node in parsed.get_main_sequence()[1:]:
            colour, move = node.get_move()
            if colour is None:
                continue  # a node without a move (comments, setup)
            moves.append((COLORS[colour], None if move is None else _point(move)))
    except ValueError as e:
        return f"corrupt: {reason(e)}"
    if not moves:
        return "no moves"
    return Game(source, index, setup, tuple(moves))


def replay(game: Game) -> Iterator[tuple[Board, int, int | None]]:
    """(board before the move, colour to move, move) for every move; the board is updated in place."""
    board = Board(SIZE)
    for colour, p in game.setup:
        board.place(p, colour)
    for number, (colour, p) in enumerate(game.moves, 1):
        yield board, colour, p
        try:
            if p is None:
                board.pass_move()
            else:
                board.play(p, colour)
        except IllegalMove as e:
            raise IllegalMove(f"{game.label}: move {number}: {e}") from None


def check_replay(game: Game) -> str | None:
    """None when every move is legal, else the message naming file, game and move."""
    try:
        for _ in replay(game):
            pass
    except IllegalMove as e:
        return str(e)
    return None


def read_games(paths: list[Path], strict: bool = False, validate: bool = True) -> tuple[list[Game], Report]:
    """Every 19x19 game of the given SGF files, in file order; bad games are counted (or fatal if strict)."""
    games: list[Game] = []
    report = Report()
    for path in paths:
        report.files += 1
        data = path.read_bytes()
        for index, tree in enumerate(split_collection(data)):
            got = _game(tree, path.name, index)
            if isinstance(got, str):
                reason = "corrupt" if got.startswith("corrupt") else ("not 19x19" if got.startswith("size") else got)
                # strict: every skipped game is fatal (the README's promise), a game without moves excepted
                report.skip(reason, f"{path.name} game {index}: {got}", strict and got != "no moves")
                continue
            problem = check_replay(got) if validate else None
            if problem:
                report.skip("illegal move", problem, strict)
                continue
            games.append(got)
            report.games += 1
    return games, report


def sgf_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise UsageError(f"{folder}: not a folder of SGF files")
    paths = sorted(p for p in folder.rglob("*") if p.suffix.lower() == ".sgf" and p.is_file())
    if not paths:
        raise UsageError(f"{folder}: no .sgf files found")
    return paths
