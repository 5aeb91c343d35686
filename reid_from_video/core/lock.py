"""One writer per output: an exclusive lock on the folder (or file) a command writes.

The lock is ``fcntl.flock`` on a lock file (``FOLDER/.rfv.lock``; for a file output ``.NAME.rfv.lock``
beside it). The operating system drops a flock when its holder dies, however it dies (SIGKILL included), so
a lock left by a killed process is free at once: the next writer takes it over, with a note naming the
process that left it (the file records pid, host, start time and command line). A second writer while the
holder runs gets one :class:`~reid_from_video.core.errors.OutputInUseError` naming that process; it never
waits, so two writers cannot deadlock.

Locks nest: ``rfv run`` holds its run folder while each stage holds its own sub-folder (always outer first),
and a process that asks again for a lock it holds gets it (counted; released with the outermost). Worker
processes forked by a holder share its lock, so orphaned workers still keep a second writer out.

Taking a folder's lock also removes the temporary files (``.NAME.tmp-PID``, see :mod:`.atomic`) that dead
processes left in it: under the lock no other writer can be halfway through one.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import socket
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from reid_from_video.core.atomic import remove_stale_temporaries
from reid_from_video.core.errors import InputError, OutputInUseError

log = logging.getLogger(__name__)

LOCK_NAME = ".rfv.lock"
_READ_TRIES = 20  # a holder writes its record right after locking: wait up to ~1 s for it


@dataclass
class _Held:
    fd: int
    path: Path
    depth: int


_held: dict[Path, _Held] = {}  # lock file -> this process's hold on it


def lock_path(output: Path, is_file: bool) -> Path:
    """The lock file of an output folder (inside it) or of an output file (beside it)."""
    return output.parent / f".{output.name}{LOCK_NAME}" if is_file else output / LOCK_NAME


@contextlib.contextmanager
def output_lock(output: str | Path, is_file: bool = False, clean: Iterable[str] = ()) -> Iterator[None]:
    """Hold the exclusive lock on ``output`` (a folder, created if missing, or a file) while the block runs.

    ``clean``: sub-folders whose dead processes' temporary files are removed too (the folder's own always
    are, for a folder)."""
    output = Path(output)
    folder = output.parent if is_file else output
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InputError(folder, f"cannot create the output folder: {error.strerror}") from None
    path = lock_path(output, is_file).resolve()
    held = _held.get(path)
    if held is not None:
        held.depth += 1
    else:
        held = _held[path] = _Held(_acquire(path, output), path, 1)
    try:
        if held.depth == 1 and not is_file:
            for sub in (output, *(output / name for name in clean)):
                remove_stale_temporaries(sub)
        yield
    finally:
        held.depth -= 1
        if held.depth == 0:
            del _held[path]
            path.unlink(missing_ok=True)  # while still locked: a waiter then finds a new file (see _acquire)
            os.close(held.fd)


def _acquire(path: Path, output: Path) -> int:
    """An fd of ``path`` holding its flock, the lock file still at ``path`` (not unlinked by the last holder
    between our open and our lock)."""
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as error:
            raise InputError(output, f"cannot write here: {error.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _wait_for_record(fd)
            os.close(fd)
            raise OutputInUseError(output, holder) from None
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(path))
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    left = _read_record(fd)
    if left is not None:  # the holder ended without releasing: killed, or its machine went down
        log.warning("%s: taking over the lock left by %s, which no longer runs", output, _describe(left))
    record = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "since": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]])[:300],
    }
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(record).encode(), 0)
    except OSError as error:  # e.g. a full disk
        os.close(fd)
        raise InputError(output, f"cannot write the lock file {path.name}: {error.strerror}") from None
    return fd


def _read_record(fd: int) -> dict | None:
    data = os.pread(fd, 4096, 0)
    try:
        record = json.loads(data.decode())
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    return record if isinstance(record, dict) else None


def _wait_for_record(fd: int) -> str:
    for _ in range(_READ_TRIES):
        record = _read_record(fd)
        if record is not None:
            return _describe(record)
        time.sleep(0.05)
    return "another process"


def _describe(record: dict) -> str:
    """``pid 123 on host (since 2026-01-01 12:00:00 UTC: rfv track ...)``."""
    host = record.get("host")
    where = f" on {host}" if host and host != socket.gethostname() else ""
    command = f": {record['command']}" if record.get("command") else ""
    return f"pid {record.get('pid', '?')}{where} (since {record.get('since', '?')}{command})"
