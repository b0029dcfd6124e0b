"""A Go board that replays games by the rules: captures, no suicide, simple ko.

Groups and their liberties are kept incrementally (the feature planes need them at every move).
Points are indices 0..size*size-1: index = row * size + col, row 0 at the bottom (as sgfmill counts).
"""

from __future__ import annotations

from dataclasses import dataclass, field

EMPTY, BLACK, WHITE = 0, 1, 2


def other(color: int) -> int:
    return BLACK + WHITE - color


class IllegalMove(ValueError):
    """A move the rules forbid: occupied point, suicide or a ko recapture."""


@dataclass(eq=False)
class Group:
    color: int
    stones: set[int]
    liberties: set[int]
    owner: object = None  # the board token that may change it in place (copies share the rest)


@dataclass
class MoveEffect:
    """What a legal move at a point would do, computed without playing it."""

    captured: set[int] = field(default_factory=set)  # opponent stones removed
    stones: set[int] = field(default_factory=set)  # the mover's group after the move
    liberties: set[int] = field(default_factory=set)  # its liberties after the move


class Board:
    def __init__(self, size: int = 19) -> None:
        self.size = size
        self.points = [EMPTY] * (size * size)
        self.group_of: list[Group | None] = [None] * (size * size)
        self.ko: int | None = None  # the point the player to move may not play (simple ko)
        self.neighbours = [self._neighbours(p) for p in range(size * size)]
        self.live: dict[int, Group] = {}  # id(group) -> group, every group on the board
        self.token = object()  # groups whose owner is this token are this board's alone

    def _neighbours(self, p: int) -> tuple[int, ...]:
        r, c = divmod(p, self.size)
        out = []
        if r > 0:
            out.append(p - self.size)
        if r < self.size - 1:
            out.append(p + self.size)
        if c > 0:
            out.append(p - 1)
        if c < self.size - 1:
            out.append(p + 1)
        return tuple(out)

    def groups(self) -> list[Group]:
        """Every group on the board, once each."""
        return list(self.live.values())

    def effect(self, p: int, color: int) -> MoveEffect | None:
        """What playing color at p would do, or None when it is illegal (occupied, suicide, ko)."""
        if self.points[p] != EMPTY or p == self.ko:
            return None
        eff = MoveEffect(stones={p})
        friends: list[Group] = []
        for q in self.neighbours[p]:
            g = self.group_of[q]
            if g is None:
                eff.liberties.add(q)
            elif g.color == color:
                if all(g is not f for f in friends):
                    friends.append(g)
            elif g.liberties == {p}:
                eff.captured |= g.stones
        for g in friends:
            eff.stones |= g.stones
            eff.liberties |= g.liberties
        eff.liberties.discard(p)
        if eff.captured:
            eff.liberties |= {q for s in eff.stones for q in self.neighbours[s] if q in eff.captured}
        if not eff.liberties:
            return None  # suicide
        return eff

    def play(self, p: int, color: int) -> set[int]:
        """Play a stone; returns the captured points. Raises IllegalMove."""
        if self.points[p] != EMPTY:
            raise IllegalMove(f"point {self.name(p)} is occupied")
        if p == self.ko:
            raise IllegalMove(f"{self.name(p)} retakes a ko")
        captured: set[int] = set()
        for q in self.neighbours[p]:
            g = self.group_of[q]
            if g is not None and g.color != color and g.liberties == {p}:
                captured |= g.stones
        friends = {id(g): g for q in self.neighbours[p] if (g := self.group_of[q]) is not None and g.color == color}
        has_air = any(self.points[q] == EMPTY for q in self.neighbours[p])
        if not captured and not has_air and all(g.liberties == {p} for g in friends.values()):
            raise IllegalMove(f"{self.name(p)} is suicide")
        group = self._add(p, color)
        for s in captured:
            self._remove(s)
        single_capture = len(captured) == 1 and len(group.stones) == 1 and len(group.liberties) == 1
        self.ko = next(iter(captured)) if single_capture else None
        return captured

    def _add(self, p: int, color: int) -> Group:
        """Put a stone on an empty point, merge its groups, take the liberty from the opponent's."""
        self.points[p] = color
        group = Group(color, {p}, {q for q in self.neighbours[p] if self.points[q] == EMPTY}, self.token)
        for q in self.neighbours[p]:
            g = self.group_of[q]
            if g is None or id(g) not in self.live:
                continue
            if g.color == color:
                group.stones |= g.stones
                group.liberties |= g.liberties
                del self.live[id(g)]
            elif p in g.liberties:
                self._mine(g).liberties.discard(p)
        group.liberties.discard(p)
        self.live[id(group)] = group
        for s in group.stones:
            self.group_of[s] = group
        return group

    def _mine(self, g: Group) -> Group:
        """g itself when this board owns it, else a private copy put in its place (copy on write)."""
        if g.owner is self.token:
            return g
        mine = Group(g.color, set(g.stones), set(g.liberties), self.token)
        del self.live[id(g)]
        self.live[id(mine)] = mine
        for s in mine.stones:
            self.group_of[s] = mine
        return mine

    def _remove(self, s: int) -> None:
        self.live.pop(id(self.group_of[s]), None)
        self.points[s] = EMPTY
        self.group_of[s] = None
        for q in self.neighbours[s]:
            g = self.group_of[q]
            if g is not None and s not in g.liberties:
                self._mine(g).liberties.add(s)

    def place(self, p: int, color: int) -> None:
        """A setup stone (AB/AW): added without captures, as SGF setup is."""
        if self.points[p] != EMPTY:
            raise IllegalMove(f"setup stone on occupied point {self.name(p)}")
        self._add(p, color)
        self.ko = None

    def copy(self) -> Board:
        """An independent board with the same stones, groups and ko (for reading ladders).

        Groups are shared until one side changes them (copy on write), so a copy costs three list
        copies, not a copy of every group.
        """
        new = Board.__new__(Board)
        new.size, new.points, new.ko, new.neighbours = self.size, list(self.points), self.ko, self.neighbours
        new.group_of = list(self.group_of)
        new.live = dict(self.live)
        new.token = object()
        self.token = object()  # from now on both boards copy a shared group before changing it
        return new

    def pass_move(self) -> None:
        self.ko = None

    def name(self, p: int) -> str:
        r, c = divmod(p, self.size)
        return "ABCDEFGHJKLMNOPQRST"[c] + str(r + 1) if self.size <= 19 else f"({r},{c})"
