"""The errors the CLI turns into one line: bad input (exit code 2) and a run that failed (exit code 1)."""


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
