"""The project's exceptions: one clear message naming the file and the problem."""

from __future__ import annotations

from pathlib import Path


class RfvError(Exception):
    """Base class of every error the project reports to a user (the CLI prints it without a traceback)."""


class InputError(RfvError):
    """Bad input: a missing, unreadable or malformed file or folder.

    The message always starts with the path (and the line number when there is one), so a user can go
    straight to the problem: ``data/gt.txt:17: expected 9 or 10 columns, found 4``.
    """

    def __init__(self, path: str | Path, problem: str, line: int | None = None):
        self.path = Path(path)
        self.problem = problem
        self.line = line
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {problem}")


class ConfigError(RfvError):
    """An invalid configuration: unknown key, wrong type, malformed override."""
