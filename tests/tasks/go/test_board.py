import random

import pytest

from cnnbench_tasks.go.board import BLACK, EMPTY, WHITE, Board, IllegalMove


def test_capture_single_stone_and_group(diagram, pt) -> None:
    b = diagram("""
        . X . .
        X O X .
        . . . .
    """)
    assert b.play(pt("B1"), BLACK) == {pt("B2")}
    assert b.points[pt("B2")] == EMPTY
    b = diagram("""
        X X X .
        O O X .
        . . . .
    """)
    assert b.play(pt("C1"), BLACK) == set()
    b2 = diagram("""
        X X X .
        O O X .
        X . X .
    """)
    captured = b2.play(pt("B1"), BLACK)
    assert captured == {pt("A2"), pt("B2")}


def test_suicide_is_illegal_unless_it_captures(diagram, pt) -> None:
    b = diagram("""
        . X .
        X . X
        . X .
    """)
    with pytest.raises(IllegalMove, match="suicide"):
        b.play(pt("B2"), WHITE)
    assert b.effect(pt("B2"), WHITE) is None
    b = diagram("""
        O X O .
        X . X O
        O X O .
    """)
    assert b.effect(pt("B2"), WHITE) is not None  # fills its last liberty but captures
    assert b.play(pt("B2"), WHITE) == {pt("A2"), pt("B1"), pt("C2")}  # B3 keeps its liberty B4


def test_simple_ko(diagram, pt) -> None:
    b = diagram("""
        . X O .
        X O . O
        . X O .
    """)
    assert b.play(pt("C2"), BLACK) == {pt("B2")}
    assert b.ko == pt("B2")
    with pytest.raises(IllegalMove, match="retakes a ko"):
        b.play(pt("B2"), WHITE)
    b.play(pt("H8"), WHITE)  # a ko threat elsewhere
    b.play(pt("J9"), BLACK)
    assert b.play(pt("B2"), WHITE) == {pt("C2")}  # now the retake is legal


def _naive_liberties(b: Board, p: int) -> set[int]:
    colour, seen, todo, libs = b.points[p], {p}, [p], set()
    while todo:
        q = todo.pop()
        for r in b.neighbours[q]:
            if b.points[r] == EMPTY:
                libs.add(r)
            elif b.points[r] == colour and r not in seen:
                seen.add(r)
                todo.append(r)
    return libs


def test_incremental_liberties_match_a_flood_fill_over_random_games() -> None:
    rng = random.Random(0)
    for _ in range(3):
        b, colour = Board(9), BLACK
        for _move in range(60):
            legal = [p for p in range(81) if b.effect(p, colour) is not None]
            if not legal:
                break
            b.play(rng.choice(legal), colour)
            colour = BLACK + WHITE - colour
            for p in range(81):
                if b.points[p] != EMPTY:
                    assert b.group_of[p].liberties == _naive_liberties(b, p)
            assert sum(len(g.stones) for g in b.groups()) == sum(x != EMPTY for x in b.points)
        copy = b.copy()
        copy.play(next(p for p in range(81) if copy.effect(p, colour) is not None), colour)
        assert copy.points != b.points  # the copy is independent
