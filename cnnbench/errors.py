"""The errors the CLI turns into one line: bad input (exit code 2) and a run that failed (exit code 1)."""


class UsageError(Exception):
    """Bad input from the user: unknown name, missing or corrupt file, impossible option."""


class RunFailed(Exception):
    """A run that started could not finish (e.g. a process of a distributed run died)."""
