"""Atomic file writes: write to a temporary name beside the target, then rename.

A reader never sees a half-written file: either the old content (or nothing) or the complete new one.
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from reid_from_video.core.errors import OutputError, os_problem


def _temporary_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp-{os.getpid()}")


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
    tmp = _temporary_name(path)
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
    tmp = _temporary_name(path)
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
