"""Feature planes of a position for the player to move: AlphaGo's 48 (Silver et al. 2016, Extended
Data Table 2) and a raw board with move history.

Planes are uint8 0/1 arrays of shape (planes, 19, 19) in the board's point order (row 0 at the bottom).
"""

from __future__ import annotations

import functools

import numpy as np

from cnnbench_tasks.go.board import EMPTY, Board, other

LADDER_DEPTH = 40  # moves read ahead in a ladder; longer ladders count as escaping
ALPHAGO48 = (
    ("stone colour", 3),  # player, opponent, empty
    ("ones", 1),
    ("turns since", 8),  # 1, 2, ..., >= 8 moves ago
    ("liberties", 8),  # of the group a stone belongs to: 1, ..., >= 8
    ("capture size", 8),  # opponent stones a legal move captures: 0, ..., >= 7
    ("self-atari size", 8),  # own stones left in atari by a legal move: 1, ..., >= 8
    ("liberties after move", 8),  # 1, ..., >= 8
    ("ladder capture", 1),
    ("ladder escape", 1),
    ("sensibleness", 1),  # legal and does not fill the player's own eye
    ("zeros", 1),
)
RAW = (("stone colour", 3), ("ones", 1), ("turns since", 8))  # board and history, no tactics


def _neighbour_count(mask: np.ndarray, size: int) -> np.ndarray:
    """For every point, how many of its neighbours are set in a boolean (size*size,) array."""
    m = mask.reshape(size, size).astype(np.int8)
    out = np.zeros_like(m)
    out[1:] += m[:-1]
    out[:-1] += m[1:]
    out[:, 1:] += m[:, :-1]
    out[:, :-1] += m[:, 1:]
    return out.reshape(-1)


@functools.lru_cache
def _degree(size: int) -> np.ndarray:
    """How many neighbours each point has (2 in a corner, 3 on an edge, 4 inside)."""
    return _neighbour_count(np.ones(size * size, dtype=bool), size).astype(np.int64)


def plane_offsets(layout: tuple[tuple[str, int], ...]) -> dict[str, int]:
    out, at = {}, 0
    for name, count in layout:
        out[name] = at
        at += count
    return out


def _one_hot(value: int, low: int, count: int) -> int:
    """Index of value among count bins starting at low, the last bin open-ended."""
    return min(value - low, count - 1)


def is_eye(board: Board, p: int, colour: int) -> bool:
    """A true eye of colour: all neighbours its stones, and at most one diagonal held by the opponent
    (none on the edge)."""
    if board.points[p] != EMPTY or any(board.points[q] != colour for q in board.neighbours[p]):
        return False
    size = board.size
    r, c = divmod(p, size)
    diagonals = [
        (r + dr) * size + c + dc for dr in (-1, 1) for dc in (-1, 1) if 0 <= r + dr < size and 0 <= c + dc < size
    ]
    bad = sum(board.points[q] == other(colour) for q in diagonals)
    return bad == 0 if len(diagonals) < 4 else bad <= 1


def _extension_escapes(board: Board, target: int, move: int) -> bool:
    """Cheap check before reading: after the attacker's move (capturing nothing), the target's
    group has one liberty left; does extending there already give it three or more?"""
    g = board.group_of[target]
    assert g is not None
    rest = g.liberties - {move}
    if len(rest) != 1:
        return False
    (last,) = rest
    libs = {q for q in board.neighbours[last] if board.points[q] == EMPTY}
    for q in board.neighbours[last]:
        h = board.group_of[q]
        if h is not None and h.color == g.color:
            libs |= h.liberties
    return len(libs - {last, move}) >= 3


def _attack(board: Board, target: int, attacker: int, move: int, depth: int) -> bool:
    """Does attacker playing move put the target's group in a ladder that captures it?"""
    eff = board.effect(move, attacker)
    if eff is None:
        return False
    if not eff.captured and _extension_escapes(board, target, move):
        return False
    b = board.copy()
    b.play(move, attacker)
    g = b.group_of[target]
    if g is None:
        return True
    if len(g.liberties) != 1:
        return False
    return _captured_in_ladder(b, target, attacker, depth)


def _captured_in_ladder(board: Board, target: int, attacker: int, depth: int) -> bool:
    """The target's group is in atari with the defender to move: is it lost whatever the defender does?"""
    g = board.group_of[target]
    assert g is not None
    defender = other(attacker)
    escapes = set(g.liberties)
    for s in g.stones:  # capturing an attacking group in atari is also a way out
        for q in board.neighbours[s]:
            h = board.group_of[q]
            if h is not None and h.color == attacker and len(h.liberties) == 1:
                escapes |= h.liberties
    for move in sorted(escapes):
        if board.effect(move, defender) is None:
            continue
        b = board.copy()
        b.play(move, defender)
        libs = b.group_of[target].liberties  # type: ignore[union-attr]
        if len(libs) >= 3 or (len(libs) == 2 and depth <= 0):
            return False
        if len(libs) == 2 and not any(_attack(b, target, attacker, m, depth - 1) for m in sorted(libs)):
            return False
    return True


def ladder_capture(board: Board, p: int, colour: int) -> bool:
    """Playing p ataris an opponent group of two liberties that the ladder then captures."""
    for q in board.neighbours[p]:
        g = board.group_of[q]
        if g is not None and g.color != colour and len(g.liberties) == 2 and p in g.liberties:
            if _attack(board, q, colour, p, LADDER_DEPTH):
                return True
    return False


def ladder_escape(board: Board, p: int, colour: int) -> bool:
    """Playing p saves an own group in atari from being captured in a ladder."""
    targets = [q for q in board.neighbours[p] if (g := board.group_of[q]) is not None and g.color == colour]
    targets = [q for q in targets if board.group_of[q].liberties == {p}]  # type: ignore[union-attr]
    eff = board.effect(p, colour) if targets else None
    if eff is None or len(eff.liberties) < 2:
        return False
    if len(eff.liberties) >= 3:
        return True
    b = board.copy()
    b.play(p, colour)
    return not any(_attack(b, p, other(colour), m, LADDER_DEPTH) for m in sorted(eff.liberties))


def extract(board: Board, colour: int, age: np.ndarray, move_number: int, layout=ALPHAGO48) -> np.ndarray:
    """The planes of a position; age[p] is the move number that placed the stone at p (0: none)."""
    n = board.size * board.size
    at = plane_offsets(layout)
    planes = np.zeros((sum(c for _, c in layout), n), dtype=np.uint8)
    pts = np.asarray(board.points, dtype=np.int8)
    planes[at["stone colour"]] = pts == colour
    planes[at["stone colour"] + 1] = pts == other(colour)
    planes[at["stone colour"] + 2] = pts == EMPTY
    planes[at["ones"]] = 1
    stones = np.flatnonzero(pts != EMPTY)
    since = np.minimum(move_number - age[stones], 8) - 1
    planes[at["turns since"] + since, stones] = 1
    if "liberties" not in at:
        return planes.reshape(-1, board.size, board.size)
    for g in board.groups():
        planes[at["liberties"] + _one_hot(len(g.liberties), 1, 8), list(g.stones)] = 1
    empty = pts == EMPTY
    # an empty point with only empty neighbours: legal, captures nothing, liberties = its neighbours,
    # no eye, no ladder: set in bulk (most of the board for most of a game)
    quiet = empty & (_neighbour_count(pts != EMPTY, board.size) == 0)
    quiet_idx = np.flatnonzero(quiet)
    planes[at["capture size"], quiet_idx] = 1
    planes[at["liberties after move"] + _degree(board.size)[quiet_idx] - 1, quiet_idx] = 1
    planes[at["sensibleness"], quiet_idx] = 1
    # ladders start only next to an opponent group with two liberties or an own group in atari
    ladder_starts, escape_starts = set(), set()
    for g in board.groups():
        if g.color != colour and len(g.liberties) == 2:
            ladder_starts |= g.liberties
        elif g.color == colour and len(g.liberties) == 1:
            escape_starts |= g.liberties
    for p in np.flatnonzero(empty & ~quiet).tolist():
        eff = board.effect(p, colour)
        if eff is None:
            continue
        planes[at["capture size"] + _one_hot(len(eff.captured), 0, 8), p] = 1
        libs = len(eff.liberties)
        if libs == 1:
            planes[at["self-atari size"] + _one_hot(len(eff.stones), 1, 8), p] = 1
        planes[at["liberties after move"] + _one_hot(libs, 1, 8), p] = 1
        if not is_eye(board, p, colour):
            planes[at["sensibleness"], p] = 1
        if p in ladder_starts and ladder_capture(board, p, colour):
            planes[at["ladder capture"], p] = 1
        if p in escape_starts and ladder_escape(board, p, colour):
            planes[at["ladder escape"], p] = 1
    return planes.reshape(-1, board.size, board.size)
