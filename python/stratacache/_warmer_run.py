"""The Warmer's thread runner (a Cache's; `_warmer_async` has the AsyncCache's task) and
what both share. A runner runs the due strategies highest priority first, one run of
`_warmer_steps` at a time, and sleeps until the next is due; a strategy that raises is
counted, logged and skipped until its next time.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

from ._log import logger
from ._steps import run_sync
from ._warm import COVERAGE_WAIT, WarmReport, coverage_wait, covered_sync
from ._warmer_plan import Strategy, due_order, next_due
from ._warmer_steps import fill, prepare
from ._weigh import weigh

__all__ = ["MAX_SLEEP", "SyncRunner", "record", "report"]

#: Longest sleep between two looks at the schedule (a strategy added meanwhile wakes it).
MAX_SLEEP = 60.0
#: How often a sync run looks at its deadline and at stop() while batches run.
_POLL = 0.05


def report(
    start: float, found: list[tuple[dict[str, Any], int]], source: str, out: bool
) -> WarmReport:
    values = [v for batch, _ in found for v in batch.values()]
    asked = sum(n for _, n in found)
    total = sum(weigh(v) for v in values)
    return WarmReport(len(values), total, time.monotonic() - start, source, asked, out)


def record(
    out: dict[str, WarmReport], s: Strategy, start: float, result: WarmReport | BaseException
) -> None:
    """Adds a run's report, or its exception (logged), to the strategy and to `out`."""
    if isinstance(result, BaseException):
        logger.warning("warmer: strategy %r failed: %r", s.name, result, exc_info=result)
        s.ran(start, 0, 0, False, repr(result))
        return
    s.ran(start, result.keys, result.bytes, result.timed_out, None)
    out[s.name] = result


def _harvest(running: set[Future[Any]], found: list[Any], deadline: float) -> None:
    """Waits (at most _POLL) for a batch to finish and moves the finished ones to `found`."""
    left = min(_POLL, max(deadline - time.monotonic(), 0.0))
    done, _ = wait(running, timeout=left, return_when=FIRST_COMPLETED)
    for f in done:
        running.discard(f)
        found.append(f.result())  # a batch's exception fails the run


class SyncRunner:
    """Runs strategies on a daemon thread (`start`) or in the caller's thread (`run_once`)."""

    def __init__(self, cache: Any, strategies: list[Strategy]) -> None:
        self.cache = cache
        self.strategies = strategies
        self.stopping = threading.Event()
        self.wake = threading.Event()
        self.round_lock = threading.Lock()  # one round at a time: the thread's or run_once's
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        # A fresh event: a thread that outlived an earlier stop()'s join still sees its own.
        self.stopping = threading.Event()
        thread = threading.Thread(
            target=self._loop, args=(self.stopping,), name="stratacache-warmer", daemon=True
        )
        self.thread = thread
        thread.start()

    def poke(self) -> None:
        self.wake.set()

    def stop(self, timeout: float) -> None:
        self.stopping.set()
        self.wake.set()
        thread, self.thread = self.thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _loop(self, stopping: threading.Event) -> None:
        # As warm(): on-start strategies wait for the subscription, whose coming up flushes L1.
        wait = coverage_wait(self.cache, time.monotonic() + COVERAGE_WAIT)
        if wait > 0:
            covered_sync(self.cache, wait)
        while not stopping.is_set():
            self.run_round(False, stopping)
            due = next_due(self.strategies)
            delay = MAX_SLEEP if due is None else due - time.monotonic()
            self.wake.wait(min(max(delay, 0.0), MAX_SLEEP))
            self.wake.clear()

    def run_round(
        self, force: bool, stopping: threading.Event | None = None
    ) -> dict[str, WarmReport]:
        """One round; `stopping` is the thread's stop event (None: run_once's, never set)."""
        stopping = threading.Event() if stopping is None else stopping
        out: dict[str, WarmReport] = {}
        with self.round_lock:
            for s in due_order(self.strategies, time.monotonic(), force):
                if stopping.is_set():
                    break
                start = time.monotonic()
                try:
                    record(out, s, start, self._run(s, start, stopping))
                except Exception as exc:  # noqa: BLE001 - counted and logged; the others still run
                    record(out, s, start, exc)
        return out

    def _run(self, s: Strategy, start: float, stopping: threading.Event) -> WarmReport:
        deadline = start + s.timeout

        def late() -> bool:
            return stopping.is_set() or time.monotonic() >= deadline

        todo, source = run_sync(prepare(self.cache, s))
        found: list[tuple[dict[str, Any], int]] = []
        running: set[Future[tuple[dict[str, Any], int]]] = set()
        pool = ThreadPoolExecutor(s.concurrency, thread_name_prefix="stratacache-warm")
        try:
            for batch in todo:
                while len(running) >= s.concurrency and not late():
                    _harvest(running, found, deadline)
                if late():
                    return report(start, found, source, True)
                running.add(pool.submit(run_sync, fill(self.cache, s, batch, False)))
            while running and not late():
                _harvest(running, found, deadline)
            return report(start, found, source, bool(running))
        finally:
            # A batch still running at the deadline finishes in the background, unwaited.
            pool.shutdown(wait=False, cancel_futures=True)
