"""The few lines where the sync and async drivers really differ: sleeping, background work,
and resolving a loader's result. `redis/driver_sync.py` is generated from `redis/driver_async.py`, with
`AsyncRuntime` replaced by `SyncRuntime`."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

__all__ = ["AsyncRuntime", "SyncRuntime"]


class SyncRuntime:
    """Background refreshes on a small thread pool, created on first use."""

    def __init__(self) -> None:
        self._pool: ThreadPoolExecutor | None = None

    def _sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def _resolve(self, value: Any) -> Any:
        return value

    def _spawn(self, fn: Callable[[], None]) -> None:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="stratacache-refresh")
        self._pool.submit(fn)

    def _remember_loop(self) -> None:
        """Nothing to remember: `_from_thread` runs its function in the calling thread."""

    def _from_thread(self, fn: Callable[[], None]) -> None:
        fn()

    def _drain(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None


class AsyncRuntime:
    """Background refreshes as tasks of the running loop, kept referenced until done."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None

    async def _sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    async def _resolve(self, value: Any) -> Any:
        return await value if inspect.isawaitable(value) else value

    def _spawn(self, fn: Callable[[], Awaitable[None]]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(fn())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _remember_loop(self) -> None:
        """Notes the running loop, which `_from_thread` hands work to."""
        self._loop = asyncio.get_running_loop()

    def _from_thread(self, fn: Callable[[], Awaitable[None]]) -> None:
        """Runs `fn` as a task of the remembered loop (from another thread), if it still runs."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._spawn, fn)

    async def _drain(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
