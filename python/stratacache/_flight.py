"""Single-flight: concurrent misses on one key share one loader call (threads and tasks alike).

The in-flight entry of a key holds a `concurrent.futures.Future`. The first caller (the
leader) runs the loader and resolves the future; the others (followers) wait on it, threads
with ``future.result()`` and asyncio tasks with ``await asyncio.wrap_future(future)``, so one
registry serves both, across threads and event loops. The entry is removed as soon as the
loader finishes (before its future is resolved, so that a late caller starts a new load
instead of spinning on a finished one): nothing is kept after success, failure or
cancellation.

Outcomes, for followers:

* the loader returns: every follower gets the same object;
* the loader raises an `Exception`: every follower gets the same exception object (it is not
  wrapped, and nothing is cached);
* the leader is interrupted (`asyncio.CancelledError`, `KeyboardInterrupt`, any other
  `BaseException`): that is the leader's fate, not the key's, so followers are woken and
  retry, one of them becoming the new leader.

Re-entry: a loader that asks for its own key (directly, from a task it spawned, or from a
thread started with ``asyncio.to_thread``) would wait for itself forever; it raises
RuntimeError instead. Detection uses a context variable listing the flights the current
context leads, so it follows the context into child tasks and `to_thread`, not into a
`threading.Thread` started by hand.

A follower's own cancellation does not disturb the flight: the future is marked running, so
the cancel that `wrap_future` forwards to it is refused.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from typing import Any, TypeVar

__all__ = ["Flight"]

T = TypeVar("T")


class _Retry:
    """Result a leader leaves when it was interrupted: followers go round again."""


_RETRY = _Retry()

# The flights (entries) the current context leads; a tuple because there are rarely more
# than one or two and a tuple costs nothing to copy into child contexts.
_leading: contextvars.ContextVar[tuple[Future[Any], ...]] = contextvars.ContextVar(
    "stratacache_leading", default=()
)


class Flight:
    """A registry of in-flight loads, keyed by cache key; one per decorated function.

    Thread-safe. The lock guards only the dict of entries and is never held while user code
    runs. `misses` counts calls that reached the registry; `in_flight` the loads under way.
    """

    __slots__ = ("_calls", "_lock", "misses")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: dict[str, Future[Any]] = {}
        self.misses = 0

    @property
    def in_flight(self) -> int:
        """Number of keys whose loader is running now."""
        return len(self._calls)

    def _join(self, key: str) -> tuple[Future[Any], bool]:
        """The entry of `key` and whether the caller leads it (creating it if absent)."""
        with self._lock:
            self.misses += 1
            future = self._calls.get(key)
            if future is not None:
                return future, False
            future = Future()
            # RUNNING, so that a cancelled follower's wrap_future cannot cancel it for all.
            future.set_running_or_notify_cancel()
            self._calls[key] = future
            return future, True

    def _leave(self, key: str, future: Future[Any]) -> None:
        with self._lock:
            if self._calls.get(key) is future:
                del self._calls[key]

    @staticmethod
    def _check_reentry(future: Future[Any], key: str) -> None:
        if future in _leading.get():
            msg = (
                f"recursive cache call: the loader of key {key!r} asked for the same key while "
                "computing it, which would wait for itself forever"
            )
            raise RuntimeError(msg)

    def run(self, key: str, loader: Callable[[], T]) -> T:
        """Returns `loader()`, called once however many threads ask for `key` concurrently.

        Raises:
            RuntimeError: the loader of `key` asked for `key` again (re-entry).
            Exception: whatever the loader raised, unchanged.
        """
        while True:
            future, leader = self._join(key)
            if leader:
                return self._lead(key, future, loader)
            self._check_reentry(future, key)
            result = future.result()
            if result is not _RETRY:
                return result  # type: ignore[no-any-return]

    @contextmanager
    def _lead_scope(self, key: str, future: Future[Any]) -> Iterator[None]:
        """Marks the current context as `key`'s leader while the loader runs, and settles
        `future` if the loader fails: its exception goes to every follower; an interruption
        (cancellation, KeyboardInterrupt) tells them to retry, so one of them leads."""
        token = _leading.set((*_leading.get(), future))
        try:
            yield
        except Exception as e:
            self._leave(key, future)
            future.set_exception(e)
            raise
        except BaseException:
            self._leave(key, future)
            future.set_result(_RETRY)
            raise
        finally:
            _leading.reset(token)

    def _settle(self, key: str, future: Future[Any], value: T) -> T:
        self._leave(key, future)
        future.set_result(value)
        return value

    def _lead(self, key: str, future: Future[Any], loader: Callable[[], T]) -> T:
        with self._lead_scope(key, future):
            value = loader()
        return self._settle(key, future, value)

    async def run_async(self, key: str, loader: Callable[[], Awaitable[T]]) -> T:
        """Returns ``await loader()``, awaited once however many tasks ask for `key`.

        Raises:
            RuntimeError: the loader of `key` asked for `key` again (re-entry).
            Exception: whatever the loader raised, unchanged.
        """
        import asyncio  # noqa: PLC0415 - only awaiting callers need it, and they have it

        while True:
            future, leader = self._join(key)
            if leader:
                return await self._lead_async(key, future, loader)
            self._check_reentry(future, key)
            result = await asyncio.wrap_future(future)
            if result is not _RETRY:
                return result  # type: ignore[no-any-return]

    async def _lead_async(
        self, key: str, future: Future[Any], loader: Callable[[], Awaitable[T]]
    ) -> T:
        with self._lead_scope(key, future):
            value = await loader()
        return self._settle(key, future, value)
