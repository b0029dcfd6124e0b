"""Hand-made Go positions from diagrams: X black, O white, . empty; the first line is row 19 (or the top)."""

from __future__ import annotations

import pytest

from cnnbench_tasks.go.board import BLACK, WHITE, Board


def point(name: str, size: int = 19) -> int:
    """'D4' -> index (columns skip I, rows count from 1 at the bottom)."""
    col = "ABCDEFGHJKLMNOPQRST".index(name[0].upper())
    return (int(name[1:]) - 1) * size + col


def board_from(diagram: str, size: int = 19) -> Board:
    """Stones of a diagram placed on the lower-left corner's rows (the last line is row 1)."""
    rows = [line.split() for line in diagram.strip().splitlines()]
    b = Board(size)
    for i, row in enumerate(reversed(rows)):
        for col, ch in enumerate(row):
            if ch in "XO":
                b.place(i * size + col, BLACK if ch == "X" else WHITE)
    return b


@pytest.fixture
def diagram():
    return board_from


@pytest.fixture
def pt():
    return point
