"""The Warmer's task runner, for an AsyncCache: the thread runner's rounds (`_warmer_run`) as a
task of the running loop, batches as tasks under a semaphore, the timeout by cancellation.
Its own module so that a sync-only program's Warmer never loads asyncio.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from ._steps import run_async
from ._warm import COVERAGE_WAIT, WarmReport, coverage_wait, covered_async
from ._warmer_plan import Strategy, due_order, next_due
from ._warmer_run import MAX_SLEEP, record, report
from ._warmer_steps import fill, prepare

__all__ = ["AsyncRunner"]


class AsyncRunner:
    """Runs strategies in a task of the running loop (`start`) or in the caller (`run_once`)."""

    def __init__(self, cache: Any, strategies: list[Strategy]) -> None:
        self.cache = cache
        self.strategies = strategies
        self.task: asyncio.Task[None] | None = None
        self.wake: asyncio.Event | None = None
        self.round_lock: asyncio.Lock | None = None

    def start(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            msg = "start() of an AsyncCache's Warmer needs a running loop: call it in a coroutine"
            raise RuntimeError(msg) from None
        self.wake = asyncio.Event()
        if self.round_lock is None:
            self.round_lock = asyncio.Lock()
        self.task = loop.create_task(self._loop(), name="stratacache-warmer")

    async def stop(self, timeout: float) -> None:
        task, self.task = self.task, None
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, asyncio.TimeoutError):
            await asyncio.wait_for(task, timeout)

    def poke(self) -> None:
        if self.wake is not None:
            self.wake.set()

    async def _loop(self) -> None:
        assert self.wake is not None
        # As warm(): on-start strategies wait for the subscription, whose coming up flushes L1.
        wait = coverage_wait(self.cache, time.monotonic() + COVERAGE_WAIT)
        if wait > 0:
            await covered_async(self.cache, wait)
        while True:
            await self.run_round(force=False)
            due = next_due(self.strategies)
            delay = MAX_SLEEP if due is None else due - time.monotonic()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.wake.wait(), min(max(delay, 0.0), MAX_SLEEP))
            self.wake.clear()

    async def run_round(self, force: bool) -> dict[str, WarmReport]:
        if self.round_lock is None:
            self.round_lock = asyncio.Lock()
        out: dict[str, WarmReport] = {}
        async with self.round_lock:
            for s in due_order(self.strategies, time.monotonic(), force):
                start = time.monotonic()
                try:
                    record(out, s, start, await self._run(s, start))
                except Exception as exc:  # noqa: BLE001 - counted and logged; the others still run
                    record(out, s, start, exc)
        return out

    async def _run(self, s: Strategy, start: float) -> WarmReport:
        todo, source = await run_async(prepare(self.cache, s))
        found: list[tuple[dict[str, Any], int]] = []
        gate = asyncio.Semaphore(s.concurrency)
        tasks: list[asyncio.Task[None]] = []

        async def one(batch: list[Any]) -> None:
            try:
                found.append(await run_async(fill(self.cache, s, batch, True)))
            finally:
                gate.release()

        async def pump() -> None:
            for batch in todo:
                await gate.acquire()
                tasks.append(asyncio.create_task(one(batch)))
            await asyncio.gather(*tasks)

        try:
            await asyncio.wait_for(pump(), max(start + s.timeout - time.monotonic(), 0.0))
        except asyncio.TimeoutError:
            return report(start, found, source, True)
        finally:
            for t in tasks:
                t.cancel()
        return report(start, found, source, False)
