"""The one-line forms of errors: an exception's reason, never empty and never on several lines."""

import pytest

from cnnbench.errors import UsageError, check_range, one_line, reason


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (EOFError(), "EOFError"),
        (ValueError("bad\nvalue"), "bad value"),
        (RuntimeError("first paragraph\ngoes on\n\nsecond paragraph"), "first paragraph goes on"),
        (KeyError("k"), "'k'"),
    ],
)
def test_reason_is_one_line_and_never_empty(error: Exception, expected: str) -> None:
    assert reason(error) == expected


def test_one_line() -> None:
    assert one_line("  a\n\tb  c\n") == "a b c"


@pytest.mark.parametrize("value", [float("nan"), float("inf"), 0, 11])
def test_check_range_refuses(value: float) -> None:
    with pytest.raises(UsageError, match=f"--x must be between 1 and 10, got {value!r}"):
        check_range(value, 1, 10, "--x")
