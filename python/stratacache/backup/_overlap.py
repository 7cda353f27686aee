"""Overlapping a backup's or restore's I/O with its Python work: `prefetch` runs a producer
(Redis fetches, or reading and verifying a file) on a thread of its own, a few items ahead
of the consumer, so the time spent waiting on Redis or the disk is spent by the other side
building records. Order is kept; the producer's exception is raised in the consumer.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterable
from typing import TypeVar

__all__ = ["prefetch"]

T = TypeVar("T")

_DONE = object()
#: How long a stopped producer gets to notice (it waits at most one Redis call or read).
_JOIN_SECONDS = 30.0


class _Failed:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


def prefetch(items: Iterable[T], depth: int = 2) -> Generator[T, None, None]:
    """The items of `items`, produced on a thread at most `depth` ahead of the caller.

    Closing the returned iterator early stops the producer at its next item.
    """
    if depth < 1:
        msg = f"depth must be at least 1, got {depth!r}"
        raise ValueError(msg)
    ready: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(item):
                    return
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, which raises it
            put(_Failed(exc))
            return
        put(_DONE)

    thread = threading.Thread(target=produce, name="stratacache-backup-io", daemon=True)
    thread.start()
    try:
        while True:
            item = ready.get()
            if item is _DONE:
                return
            if isinstance(item, _Failed):
                raise item.exc
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        thread.join(_JOIN_SECONDS)
