"""The one error class a user can cause; the CLI turns it into one line and exit code 2."""


class UsageError(Exception):
    """Bad input from the user: unknown name, missing or corrupt file, impossible option."""
