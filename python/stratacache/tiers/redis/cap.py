"""At most `max_connections` commands in flight on a Cluster client, the rest waiting.

redis-py's Cluster clients keep a pool per node that raises "Too many connections" at once
when all its connections are busy (sync and asyncio alike): a burst of 1,000 asyncio gets on
a 3-node cluster at the default cap of 64 failed 856 of its commands and opened the breaker.
A standalone or Sentinel tier waits for a free connection instead (`pool.TierPool`, redis-py's
`BlockingConnectionPool`), up to `connect_timeout` and never past the call's deadline. These
caps give Cluster clients the same contract: no more commands in flight than one node could
serve, so no node's pool is ever exhausted, and a command beyond the cap waits for a slot or
fails as the standalone pools do ("No connection available.", a transport error).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from redis.exceptions import ConnectionError as RedisConnectionError

from . import common

T = TypeVar("T")

__all__ = ["AsyncCap", "SyncCap"]


def _exhausted() -> RedisConnectionError:
    return RedisConnectionError("No connection available.")


class AsyncCap:
    """`run(fn, end)`: awaits `fn()` once fewer than `limit` calls are running, waiting at
    most `wait` seconds and not past `end` (time.monotonic()) for a slot."""

    def __init__(self, limit: int, wait: float | None) -> None:
        self.limit = limit
        self.wait = wait
        self._loop: Any = None
        self._free = asyncio.Semaphore(limit)

    async def run(self, fn: Callable[[], Awaitable[T]], end: float) -> T:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # an asyncio.Semaphore serves one loop: a fresh one per loop
            self._loop, self._free = loop, asyncio.Semaphore(self.limit)
        free = self._free
        if free.locked():
            left = end - time.monotonic()
            wait = left if self.wait is None else min(self.wait, left)
            try:
                await asyncio.wait_for(free.acquire(), max(wait, 0.0))
            except (asyncio.TimeoutError, TimeoutError):
                raise _exhausted() from None
        else:
            await free.acquire()  # a free slot: taken without suspending
        try:
            return await fn()
        finally:
            free.release()


class SyncCap:
    """`run(fn, end)`: calls `fn()` once fewer than `limit` threads are in it, waiting at most
    `wait` seconds and not past `end` (time.monotonic()) for a slot."""

    def __init__(self, limit: int, wait: float | None) -> None:
        self.limit = limit
        self.wait = wait
        self._free = threading.BoundedSemaphore(limit)
        self._pid = common.pid

    def run(self, fn: Callable[[], T], end: float) -> T:
        if self._pid != common.pid:  # a forked child: slots held by the parent's threads
            self._free, self._pid = threading.BoundedSemaphore(self.limit), common.pid
        free = self._free
        if not free.acquire(blocking=False):
            left = end - time.monotonic()
            wait = left if self.wait is None else min(self.wait, left)
            if wait <= 0 or not free.acquire(timeout=wait):
                raise _exhausted()
        try:
            return fn()
        finally:
            free.release()
