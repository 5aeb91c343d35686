"""Overlapping the stages of a stream: an iterator drained by its own thread into a bounded queue.

``in_background(items)`` runs ``items`` (a generator and everything it pulls from) in a thread and yields
what it yields, in order. Chained, each stage of a pipeline gets a thread: the video decoder, the detector
and the embedder work on later frames while the tracker takes the current one. This pays where the stages
release the GIL, as OpenCV's decoder and encoder and onnxruntime do. The queue's ``depth`` bounds how far a
stage runs ahead (and the frames held in memory).

``in_threads(function, items, workers)`` maps ``function`` over ``items`` in a pool of threads, several
items at once, and yields the results in the items' order: a stage that can work on several items side by
side (the embedder, one frame per core).

An exception in the thread reaches the consumer at the item where it happened, with its own traceback.
When the consumer stops early (an error, Ctrl-C, ``break``), the thread is told to stop and is joined:
it finishes the item in hand and drops the rest.
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")
POLL_S = 0.1  # how often a blocked thread looks whether the consumer has gone


class _Failed:
    def __init__(self, error: BaseException):
        self.error = error


_DONE = object()


def in_background(items: Iterable[T], depth: int = 4, name: str = "stage") -> Iterator[T]:
    """The items of ``items``, produced by a thread of their own at most ``depth`` ahead."""
    channel: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(value: object) -> bool:
        while not stop.is_set():
            try:
                channel.put(value, timeout=POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(item):
                    return
            put(_DONE)
        except BaseException as error:  # handed to the consumer, raised there
            put(_Failed(error))

    thread = threading.Thread(target=produce, name=name, daemon=True)
    thread.start()
    try:
        while True:
            value = channel.get()
            if value is _DONE:
                return
            if isinstance(value, _Failed):
                raise value.error
            yield value
    finally:
        stop.set()
        thread.join()
        close = getattr(items, "close", None)
        if close is not None:  # a generator's own finally blocks run now, in order
            close()


def in_threads(
    function: Callable[[T], R], items: Iterable[T], workers: int, name: str = "stage"
) -> Iterator[R]:
    """``function`` of each of ``items``, ``workers`` at a time in a pool of threads, yielded in order.

    At most ``workers + 1`` items are taken ahead: every worker stays busy while the oldest result is
    handed on. An exception reaches the consumer at its item; when the consumer stops early (or on that
    exception) items not started are dropped and the running ones end before this returns."""
    pool = ThreadPoolExecutor(workers, thread_name_prefix=name)
    pending: deque[Future[R]] = deque()
    try:
        for item in items:
            pending.append(pool.submit(function, item))
            if len(pending) > workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
