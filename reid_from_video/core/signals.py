"""Signals and worker processes. SIGTERM is handled as Ctrl-C: ``kill``, a job scheduler or a container
stop ends a command the way an interrupt does (its ``finally`` blocks run: worker processes stopped, locks
released, the stage recorded as interrupted) instead of the process vanishing mid-write. A worker process
leaves both signals to its parent, which stops it, and dies with its parent if that is killed outright."""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """Inside the block, SIGTERM raises KeyboardInterrupt (main thread only; elsewhere nothing changes)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def worker_signals(parent: int) -> None:
    """In a worker process (a pool's initializer): Ctrl-C and SIGTERM are the parent's to handle (it stops
    the workers), and on Linux the kernel kills the worker when the parent dies, even by SIGKILL: an orphan
    would keep writing into a folder that a new run then also writes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)
