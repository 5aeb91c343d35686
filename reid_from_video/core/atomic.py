"""Atomic file writes: write to a temporary name beside the target, then rename.

A reader never sees a half-written file: either the old content (or nothing) or the complete new one.
The temporary name, ``.NAME.tmp-PID``, says which process writes it; a process killed mid-write (SIGKILL)
leaves it behind, and :func:`remove_stale_temporaries` removes those of processes no longer running (the
folder's lock, :mod:`.lock`, calls it when a command starts).
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from reid_from_video.core.errors import OutputError, os_problem

# ``.NAME.tmp-PID``, optionally with a suffix after the pid (a video writer needs its file's extension),
# and rfv export's staging folder ``.export-tmp-PID``.
_TEMPORARY = re.compile(r"\..+\.tmp-(?P<pid>[0-9]+)(\.[A-Za-z0-9]+)?|\.export-tmp-(?P<staging>[0-9]+)")


def temporary_name(path: Path, suffix: str = "") -> Path:
    """The temporary name of ``path`` for this process (``suffix``: kept last, e.g. ``.mp4``)."""
    return path.with_name(f".{path.name}.tmp-{os.getpid()}{suffix}")


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def remove_stale_temporaries(folder: Path) -> list[Path]:
    """Remove the temporary files (and folders) in ``folder`` whose writing process no longer runs on this
    machine; the removed paths."""
    if not folder.is_dir():
        return []
    removed = []
    for entry in folder.iterdir():
        match = _TEMPORARY.fullmatch(entry.name)
        if match is None or _running(int(match["pid"] or match["staging"])):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed.append(entry)
    return removed


def _discard(tmp: Path) -> None:
    with contextlib.suppress(OSError):  # never there, or its folder is not one: the first error says why
        tmp.unlink()


# Errors only a write gives: raised inside an atomic_write's body, they are about its file.
_WRITE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS})


def check_writable(path: str | Path, folder: bool = True) -> None:
    """Refuse, before a command runs, an output it cannot create: ``path`` must be a folder (``folder``) or a
    file, or not exist yet, and the nearest folder that exists must take new files from this process."""
    path = Path(path).absolute()
    existing = next(p for p in (path, *path.parents) if p.exists() or p == p.parent)
    if existing == path:
        if folder != path.is_dir():
            raise OutputError(path, "it is a file, not a folder" if folder else "it is a folder, not a file")
        existing = path if folder else path.parent  # a file is replaced: its folder must take new files
    elif not existing.is_dir():
        raise OutputError(path, f"{existing} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise OutputError(path, f"permission denied: cannot create files in {existing}")


@contextlib.contextmanager
def atomic_write(path: str | Path, mode: str = "w", encoding: str | None = "utf-8") -> Iterator[IO]:
    """Open a temporary file for writing; on success rename it to ``path``, on error remove it.

    An OSError of the write itself (creating the folder or file, a full disk, renaming) becomes an
    :class:`OutputError` naming ``path``; other errors of the caller's body pass through.
    """
    path = Path(path)
    tmp = temporary_name(path)
    if "b" in mode:
        encoding = None
    in_body = False
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, mode, encoding=encoding) as handle:
            in_body = True
            yield handle
            in_body = False
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as error:
        _discard(tmp)
        if not in_body or error.errno in _WRITE_ERRNOS:
            raise OutputError(path, os_problem(error)) from error
        raise
    except BaseException:
        _discard(tmp)
        raise


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (no fsync: for many small files such as crops)."""
    path = Path(path)
    tmp = temporary_name(path)
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError as error:
        _discard(tmp)
        raise OutputError(path, os_problem(error)) from error
    except BaseException:
        _discard(tmp)
        raise


def json_ready(value: Any) -> Any:
    """``value`` with every non-finite float (NaN, inf) replaced by None, recursively: strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: json_ready(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(item) for item in value]
    return value


def write_json(path: str | Path, data: Any) -> None:
    """Write ``data`` as indented strict JSON (non-finite floats as null), atomically."""
    with atomic_write(path) as handle:
        json.dump(json_ready(data), handle, indent=2, allow_nan=False)
        handle.write("\n")
