"""One subscriber: its filter, its bounded queue and the worker that calls its handler.

`offer` never blocks and never calls the handler: it appends to the queue, or drops the event
and counts it when the queue is full, so a slow handler costs the cache nothing. The worker is
a daemon thread for plain callables, and for the coroutine functions of a `Cache` or of an
`AsyncCache` subscribed outside a running loop (the thread runs each coroutine on a loop of its
own); an `AsyncCache`'s coroutine function subscribed inside a running loop runs as a task of
that loop. A handler that
raises is counted (and logged at most once a minute) and the worker goes on.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .._log import RateLimited
from ._event import Event

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["Subscription"]

_raised = RateLimited("stratacache: an event handler raised %s; the event is dropped")

#: Seconds `close` waits for a thread worker's handler call under way to return.
CLOSE_WAIT = 1.0


class Subscription:
    """A live subscription (`cache.events.subscribe`); `close()` ends it (also a context
    manager).

    Attributes:
        delivered: events the handler returned from (with or without raising).
        dropped: events not delivered because the queue was full (or closed meanwhile).
        errors: handler calls that raised.
    """

    def __init__(
        self,
        handler: Callable[[Event], Any],
        *,
        coroutine: bool,
        on_loop: bool,
        kinds: frozenset[str] | None,
        namespaces: frozenset[str] | None,
        names: frozenset[str] | None,
        queue_size: int,
        on_close: Callable[[Subscription], None],
    ) -> None:
        self.handler = handler
        self.kinds, self.namespaces, self.names = kinds, namespaces, names
        self.queue_size = queue_size
        self.delivered = self.dropped = self.errors = 0
        self._queue: collections.deque[Event] = collections.deque()
        self._lock = threading.Lock()
        self._closed = False
        self._on_close = on_close
        self._wake = threading.Event()  # thread worker
        self._loop: asyncio.AbstractEventLoop | None = None  # task worker
        self._awake: asyncio.Event | None = None
        self._waiting = False
        self._thread: threading.Thread | None = None
        self._task: asyncio.Task[None] | None = None
        loop = _running_loop() if coroutine and on_loop else None
        if loop is not None:
            self._loop, self._awake = loop, asyncio.Event()
            self._task = loop.create_task(self._run_task())
        else:
            self._thread = threading.Thread(
                target=self._run_thread, args=(coroutine,), name="stratacache-events", daemon=True
            )
            self._thread.start()

    # Filtering and queueing (any thread) -------------------------------------------------
    def wants(self, event: Event) -> bool:
        if self.kinds is not None and event.kind not in self.kinds:
            return False
        if self.names is not None and event.name not in self.names:
            return False
        ns = event.namespace
        return self.namespaces is None or ns is None or ns in self.namespaces

    def offer(self, event: Event) -> None:
        """Queues `event` for the handler, or drops and counts it; never blocks."""
        with self._lock:
            if self._closed or len(self._queue) >= self.queue_size:
                self.dropped += 1
                return
            self._queue.append(event)
            # Only a worker that found the queue empty waits: wake it, once.
            wake, self._waiting = self._waiting, False
        if not wake:
            return
        if self._thread is not None:
            self._wake.set()
        else:
            self._wake_task()

    @property
    def pending(self) -> int:
        """Events queued and not yet handed to the handler."""
        return len(self._queue)

    @property
    def closed(self) -> bool:
        return self._closed

    def _wake_task(self) -> None:
        loop, awake = self._loop, self._awake
        assert loop is not None
        assert awake is not None
        try:
            loop.call_soon_threadsafe(awake.set)
        except RuntimeError:  # the loop is closed: nobody will ever run the handler
            self.close()

    # Workers -------------------------------------------------------------------------------
    def _next(self) -> Event | None:
        with self._lock:
            if self._queue:
                return self._queue.popleft()
            self._waiting = True
            if self._thread is not None:
                self._wake.clear()
            else:
                assert self._awake is not None
                self._awake.clear()
            return None

    def _run_thread(self, coroutine: bool) -> None:
        runner = asyncio.Runner() if coroutine else None
        try:
            while not self._closed:
                event = self._next()
                if event is None:
                    self._wake.wait()
                    continue
                try:
                    if runner is not None:
                        runner.run(self.handler(event))
                    else:
                        self.handler(event)
                except Exception as exc:  # noqa: BLE001 - the user's handler: counted, logged
                    self._failed(exc)
                self.delivered += 1
        finally:
            if runner is not None:
                runner.close()

    async def _run_task(self) -> None:
        assert self._awake is not None
        while not self._closed:
            event = self._next()
            if event is None:
                await self._awake.wait()
                continue
            try:
                await self.handler(event)
            except Exception as exc:  # noqa: BLE001 - the user's handler: counted, logged
                self._failed(exc)
            self.delivered += 1

    def _failed(self, exc: Exception) -> None:
        self.errors += 1
        _raised.hit(type(exc).__name__)

    # Ending --------------------------------------------------------------------------------
    def close(self) -> None:
        """Stops delivery: no handler call starts after this returns; queued events are
        discarded (counted as dropped). Waits up to a second for a handler call under way on a
        worker thread. Idempotent; safe from the handler itself."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self.dropped += len(self._queue)
            self._queue.clear()
        self._on_close(self)
        if self._thread is not None:
            self._wake.set()
            if threading.current_thread() is not self._thread:
                self._thread.join(CLOSE_WAIT)
        elif self._loop is not None and self._awake is not None:
            awake = self._awake
            if _running_loop() is self._loop:
                awake.set()
            else:
                with contextlib.suppress(RuntimeError):  # its loop is closed: nothing runs
                    self._loop.call_soon_threadsafe(awake.set)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"pending={self.pending}"
        return (
            f"Subscription(kinds={sorted(self.kinds) if self.kinds else None}, {state}, "
            f"delivered={self.delivered}, dropped={self.dropped}, errors={self.errors})"
        )


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
