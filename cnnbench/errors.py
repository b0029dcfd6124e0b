"""The errors the CLI turns into one line: bad input (exit code 2) and a run that failed (exit code 1)."""

from __future__ import annotations

import math
import operator


class UsageError(Exception):
    """Bad input from the user: unknown name, missing or corrupt file, impossible option."""


class RunFailed(Exception):
    """A run that started could not finish (e.g. a process of a distributed run died)."""


def one_line(text: str) -> str:
    """Text on one line: runs of whitespace, newlines included, become one space."""
    return " ".join(text.split())


def reason(error: BaseException) -> str:
    """What went wrong, on one line: the first paragraph of the exception's message, or its type's name
    when the message is empty (as for many OSError and EOFError)."""
    return one_line(str(error).strip().split("\n\n")[0]) or type(error).__name__


def check_count(value: object, low: int, high: int, what: str) -> None:
    """A whole number (epochs, steps, places), refused in one line unless an integer within [low, high]."""
    try:
        whole = None if isinstance(value, bool) else operator.index(value)  # an int, or numpy's integers
    except TypeError:
        whole = None
    if whole is None:
        raise UsageError(f"{what} must be a whole number between {low} and {high}, got {value!r}")
    check_range(whole, low, high, what)


def check_range(value: float, low: float, high: float, what: str) -> None:
    """A number the user gave, refused in one line unless finite and within [low, high]."""
    finite = not isinstance(value, float) or math.isfinite(value)  # an int of any size is finite (no overflow)
    if not finite or not low <= value <= high:
        bounds = f"{low} and {high}" if isinstance(low, int) and isinstance(high, int) else f"{low:g} and {high:g}"
        raise UsageError(f"{what} must be between {bounds}, got {value!r}")
