"""A daemon thread that calls one function at a fixed interval, for the background work of a
cache (the predictor's feed, AutoTTL's retunes) that must never outlive it."""

from __future__ import annotations

import contextlib
import threading
import weakref
from collections.abc import Callable

__all__ = ["Ticker"]


class Ticker:
    """Calls `tick` every `interval` seconds on a daemon thread named `name`.

    The thread stops at `stop()` or when the owner given to `start` is collected. An exception
    from `tick` is dropped: the next interval tries again (the caller counts what it must).
    """

    def __init__(self, name: str, interval: float, tick: Callable[[], object]) -> None:
        self._name = name
        self.interval = interval  #: read before each wait, so it may be changed
        self._tick = tick
        self._stop = threading.Event()
        self.thread: threading.Thread | None = None

    def start(self, owner: object) -> None:
        """Starts the thread once; later calls do nothing."""
        if self.thread is not None:
            return
        weakref.finalize(owner, self._stop.set)
        self.thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        """Stops the thread and waits (at most a second) for a tick in progress."""
        self._stop.set()
        thread = self.thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=1.0)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            with contextlib.suppress(Exception):
                self._tick()
