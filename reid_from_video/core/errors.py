"""The project's exceptions: one clear message naming the file and the problem."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


class RfvError(Exception):
    """Base class of every error the project reports to a user (the CLI prints it without a traceback)."""

    def __reduce__(self) -> tuple:
        # Picklable whatever the subclass's __init__ takes: an error raised in a worker process (rfv track
        # workers=N) reaches the parent as itself, so the CLI still prints one line.
        return _rebuild, (type(self), self.args, self.__dict__)


def _rebuild(kind: type[RfvError], args: tuple, state: dict) -> RfvError:
    error = kind.__new__(kind)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


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


class OutputError(RfvError, OSError):
    """An output that cannot be written (a folder that is a file, no permission, a full disk), by its path;
    still an OSError, as what raised it was."""

    def __init__(self, path: str | Path, problem: str):
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{path}: cannot write: {problem}")


def os_problem(error: OSError) -> str:
    """An OSError in words, with the path it names when there is one (``Not a directory: 'a/b'``)."""
    reason = error.strerror or str(error)
    return f"{reason}: {error.filename}" if error.filename else reason


class ConfigError(RfvError):
    """An invalid configuration: unknown key, wrong type, malformed override."""


class SettingError(ConfigError):
    """A config value that does not work on this data. ``keys`` are relative to the config section that
    found it; each caller that holds that section inside its own re-raises :meth:`under` its section's name,
    so that the message names the full key the user sets (``tmc.association.cluster.eps``)."""

    def __init__(self, problem: str, keys: tuple[str, ...], prefix: str = ""):
        self.problem, self.keys, self.prefix = problem, keys, prefix
        super().__init__(f"{problem}; set {' or '.join(prefix + key for key in keys)}")

    def under(self, prefix: str) -> SettingError:
        """The same error with its keys under ``prefix`` (e.g. ``association.``)."""
        return SettingError(self.problem, self.keys, prefix + self.prefix)


@dataclass(frozen=True)
class MissingInput:
    """One input file or downloadable name that a command cannot get, by the full config key the user gives
    it with (``track.detector.weights`` inside ``rfv run``, ``detector.weights`` inside ``rfv track``)."""

    key: str
    value: str
    problem: str
    remedy: str  # what to give instead

    def __str__(self) -> str:
        value = self.value or "''"
        return f"{self.key}={value}: {self.problem}.\n    {self.remedy}"


class MissingInputsError(RfvError):
    """Every input a command cannot get, found before anything ran, in one message."""

    def __init__(self, missing: Sequence[MissingInput]):
        self.missing = tuple(missing)
        lines = "\n".join(f"  {item}" for item in self.missing)
        super().__init__(f"{len(self.missing)} input(s) missing or not available; nothing was run:\n{lines}")


class DegenerateLabelsError(RfvError):
    """Labels too few or too lopsided to train on. ``keys`` are the config keys to change, relative to the
    label config (``rfv label``); :meth:`under` names them as a larger config sees them (``label.`` in
    ``rfv run``)."""

    def __init__(self, figures: str, advice: str, keys: tuple[str, ...], prefix: str = ""):
        self.figures, self.advice, self.keys, self.prefix = figures, advice, keys, prefix
        super().__init__(f"{self.problem()}; or set {prefix}on_degenerate=warn to go on with them")

    def problem(self) -> str:
        """The figures and the keys to change, without the way round it."""
        named = ", ".join(f"{self.prefix}{key}" for key in self.keys)
        return f"degenerate labels: {self.figures}; {self.advice}: {named}"

    def under(self, prefix: str) -> DegenerateLabelsError:
        """The same error with its keys under ``prefix`` (e.g. ``label.``)."""
        return DegenerateLabelsError(self.figures, self.advice, self.keys, prefix + self.prefix)


class OutputInUseError(RfvError):
    """Another process is writing the same output (core/lock.py): a second writer would mix or delete its
    files."""

    def __init__(self, output: str | Path, holder: str):
        self.output, self.holder = Path(output), holder
        super().__init__(
            f"{output}: in use by {holder}; wait for it to finish (or stop it), or write to another folder"
        )
