"""Every AlphaGo feature plane on hand-made positions (player to move: black unless said)."""

import numpy as np
import pytest

from cnnbench_tasks.go.board import BLACK, WHITE
from cnnbench_tasks.go.features import ALPHAGO48, RAW, extract, ladder_capture, ladder_escape, plane_offsets

AT = plane_offsets(ALPHAGO48)


def _planes(board, colour=BLACK, age=None, move_number=10, layout=ALPHAGO48) -> np.ndarray:
    age = np.zeros(361, dtype=np.int64) if age is None else age
    return extract(board, colour, age, move_number, layout).reshape(-1, 361)


def test_layout_has_48_planes() -> None:
    assert sum(c for _, c in ALPHAGO48) == 48 and sum(c for _, c in RAW) == 12


def test_colour_ones_zeros(diagram, pt) -> None:
    b = diagram("""
        X O .
    """)
    f = _planes(b)
    assert f[0, pt("A1")] == 1 and f[1, pt("B1")] == 1 and f[2].sum() == 359
    g = _planes(b, colour=WHITE)
    assert g[0, pt("B1")] == 1 and g[1, pt("A1")] == 1  # planes are relative to the player to move
    assert f[AT["ones"]].all() and not f[AT["zeros"]].any()


def test_turns_since(diagram, pt) -> None:
    b = diagram("""
        X O X
    """)
    age = np.zeros(361, dtype=np.int64)
    age[pt("A1")], age[pt("B1")], age[pt("C1")] = 1, 8, 9
    f = _planes(b, age=age, move_number=10)
    since = f[AT["turns since"] : AT["turns since"] + 8]
    assert since[:, pt("C1")].argmax() == 0  # the last move: 1 turn ago
    assert since[:, pt("B1")].argmax() == 1
    assert since[:, pt("A1")].argmax() == 7  # 9 turns ago: the open-ended last plane
    assert since.sum() == 3


def test_liberties(diagram, pt) -> None:
    b = diagram("""
        . . . . .
        . . O O .
        . . . . .
        X . . . .
    """)
    f = _planes(b)
    libs = f[AT["liberties"] : AT["liberties"] + 8]
    assert libs[:, pt("A1")].argmax() == 1  # 2 liberties
    assert libs[:, pt("C3")].argmax() == 5 and libs[:, pt("D3")].argmax() == 5  # 6 liberties, both stones
    assert libs[:, pt("B1")].sum() == 0  # empty points have none


def test_capture_size_self_atari_and_liberties_after(diagram, pt) -> None:
    b = diagram("""
        X . . . .
        O X . . .
        . O . . .
    """)
    f = _planes(b)
    cap = f[AT["capture size"] : AT["capture size"] + 8]
    assert cap[:, pt("A1")].argmax() == 1  # black A1 captures the white stone on A2
    assert cap[0, pt("E5")] == 1  # an ordinary move captures 0
    atari = f[AT["self-atari size"] : AT["self-atari size"] + 8]
    after = f[AT["liberties after move"] : AT["liberties after move"] + 8]
    assert after[:, pt("E5")].argmax() == 3  # 4 liberties in the open
    w = _planes(b, colour=WHITE)
    w_atari = w[AT["self-atari size"] : AT["self-atari size"] + 8]
    assert w_atari[:, pt("A1")].argmax() == 2  # white A1 joins A2 and B1: 3 stones, one liberty (C1)
    assert w[AT["liberties after move"], pt("A1")] == 1
    assert atari[:, pt("E5")].sum() == 0


def test_sensibleness_excludes_own_eyes_and_illegal_points(diagram, pt) -> None:
    b = diagram("""
        X . . .
        . X . .
    """)
    f = _planes(b)
    assert f[AT["sensibleness"], pt("A1")] == 0  # black's eye (corner, no white diagonal)
    assert f[AT["sensibleness"], pt("C3")] == 1
    w = _planes(b, colour=WHITE)
    assert w[AT["sensibleness"], pt("A1")] == 0  # suicide for white: illegal


LADDER = """
    . . . . . . .
    . . . . . . .
    . . . . X . .
    . . X O . . .
    . . . X . . .
    . . . . . . .
    . . . . . . .
"""


@pytest.mark.parametrize("breaker", [False, True])
def test_ladder_capture_and_escape(diagram, pt, breaker: bool) -> None:
    b = diagram(LADDER)  # white D4, black C4, D3, E5: white's liberties D5 and E4
    if breaker:
        b.place(pt("F2"), WHITE)  # stands on the ladder's path toward the lower edge
    assert ladder_capture(b, pt("D5"), BLACK) is not breaker
    assert _planes(b)[AT["ladder capture"], pt("D5")] == (0 if breaker else 1)
    b.play(pt("D5"), BLACK)  # atari: white's last liberty is E4
    assert ladder_escape(b, pt("E4"), WHITE) is breaker
    assert _planes(b, colour=WHITE)[AT["ladder escape"], pt("E4")] == (1 if breaker else 0)


def test_raw_layout_stops_after_history(diagram) -> None:
    f = _planes(diagram("X O"), layout=RAW)
    assert f.shape == (12, 361)
