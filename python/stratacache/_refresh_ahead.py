"""Refresh-ahead of a cached function: reload hot entries in the background before they expire.

One `Refresher` per call site (`_CallSite.bind` makes it when ``refresh_ahead=`` is given).
Every load the site completes calls `loaded`, which keeps the call's arguments (bounded) and
the time the entry expires (L1's remaining TTL, which with a Redis tier follows Redis's).

- "predict": the key joins a schedule (a heap by due time, ``expiry - lead``), checked on the
  predictor's feed thread after each drain. Due keys are scored in one call to the C++ model
  (``LivePredictor.probabilities``, GIL released); a key at `threshold` or above is
  refreshed even if no request reads it in its last moments, which reader-driven XFetch cannot.
  Each due key is also queued as a training observation (``LivePredictor.observe``, labelled
  by a read past `lead` within the horizon), so the model learns the decision it makes. Until
  its first training batch the model scores every key 0.5 and nothing is refreshed. Only keys
  the predictor samples are scheduled (with ``sample_rate < 1``, that share).
- "xfetch": the site's L1 getter is wrapped: a hit draws XFetch's test against the entry's
  remaining TTL and may start a refresh (the wrapper costs a TTL lookup per hit).

A refresh runs on a bounded thread pool (sync functions) or as a task on the loop of the
function's last load (async ones), at most one per key and `workers` per function, within a
token-bucket `budget`. L1-only, it reloads only while the entry is still there and stores the
result only if the entry is still the one it replaces (an identity check right before the
set); with a Redis tier it goes through the tier's `refresh` (a lease read, a compare-and-set
fill, L1 filled only if no invalidation arrived meanwhile). A loader exception is counted in
`stats().refresh_ahead.failed` and the old value stays until it expires.
"""

from __future__ import annotations

import heapq
import math
import random
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from ._log import RateLimited
from ._options import prefix_of
from ._predictor_live import DRAIN_INTERVAL
from ._refresh_options import Budget, RefreshAhead, counters_of
from .errors import ConfigError
from .tiers.chain import Load

if TYPE_CHECKING:
    import asyncio

__all__ = ["Refresher", "attach"]

Call = tuple[tuple[Any, ...], dict[str, Any]]
_MISS: Any = object()
_GONE = "gone"
_failed_log = RateLimited("stratacache: a refresh-ahead call of %s raised %s: old value kept")


def attach(site: Any, cache: Any, namespace: str, get: Callable[..., Any]) -> Callable[..., Any]:
    """Gives `site` its refresher for `cache` (None without ``refresh_ahead=``); returns the
    L1 getter the site is to use (XFetch's wraps `get`).

    Raises:
        ConfigError: predict without a predictor, no TTL, or a tier that cannot refresh.
    """
    options: RefreshAhead | None = site.refresh_ahead
    site.refresher = None
    if options is None:
        return get
    refresher = Refresher(site, options, cache, namespace)
    site.refresher = refresher
    return refresher.xfetch_getter(get) if options.mode == "xfetch" else get


class Refresher:
    """The refresh-ahead state of one call site bound to one cache (see the module doc)."""

    def __init__(self, site: Any, options: RefreshAhead, cache: Any, namespace: str) -> None:
        name = site.keys.func_name
        self.site, self.options, self.namespace = site, options, namespace
        self.prefix = prefix_of(namespace)
        self.store = cache._store
        self.model = getattr(cache, "_predictor", None)
        self.counters = counters_of(cache)
        if site.ttl is None and getattr(cache, "default_ttl", None) is None:
            msg = f"{name}: refresh_ahead needs a TTL (ttl= or the cache's default_ttl)"
            raise ConfigError(msg)
        self.tier_refresh: Callable[..., Any] | None = None
        if site.tier_load is not None:
            self.tier_refresh = getattr(cache._driver, "refresh", None)
            if self.tier_refresh is None:
                msg = f"{name}: refresh_ahead needs an L1-only cache or one with a Redis tier"
                raise ConfigError(msg)
        if options.mode == "predict" and self.model is None:
            msg = (
                f"{name}: refresh_ahead='predict' needs a cache created with predictor=True "
                "(or stratacache.PredictorOptions); without one use refresh_ahead='xfetch'"
            )
            raise ConfigError(msg)
        self.loader_seconds = 0.0  # a moving mean of the function's loader time
        self._calls: OrderedDict[str, Call] = OrderedDict()
        self._due: dict[str, float] = {}
        self._heap: list[tuple[float, str]] = []
        self._running: set[str] = set()
        self._lock = threading.Lock()
        self._budget = Budget(options.budget)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pool: ThreadPoolExecutor | None = None
        if options.mode == "predict":
            assert self.model is not None
            ref, hooks = weakref.ref(self), self.model.on_drain

            def tick() -> None:
                refresher = ref()
                if refresher is not None:
                    refresher.tick()
                elif tick in hooks:  # the site was rebound (configure()): drop the hook
                    hooks.remove(tick)

            hooks.append(tick)

    # What the site reports ------------------------------------------------------------------
    def timed(self, seconds: float) -> None:
        """One loader call took `seconds` (the mean XFetch's delta and the lead use)."""
        mean = self.loader_seconds
        self.loader_seconds = seconds if mean == 0.0 else mean + 0.1 * (seconds - mean)

    def loaded(self, key: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        """A load of `key` finished (request path or refresh): keep its call, schedule it."""
        predict = self.options.mode == "predict"
        if predict and not self.store.recorded(self.prefix, key):
            return  # the model never scores it
        if self.site.is_async and self._loop is None:
            import asyncio  # noqa: PLC0415 - loaded already by an async function's call

            self._loop = asyncio.get_running_loop()
        left = self.store.ttl(self.prefix, key)
        with self._lock:
            self._calls[key] = (args, kwargs)
            self._calls.move_to_end(key)
            if len(self._calls) > self.options.max_keys:
                old, _ = self._calls.popitem(last=False)
                self._due.pop(old, None)
            if not predict or left is None or math.isinf(left):
                return
            due = time.monotonic() + left - self.lead()
            self._due[key] = due
            heapq.heappush(self._heap, (due, key))
            if len(self._heap) > 2 * len(self._due) + 64:  # drop superseded entries
                self._heap = [(d, k) for d, k in self._heap if self._due.get(k) == d]
                heapq.heapify(self._heap)

    def lead(self) -> float:
        if self.options.lead is not None:
            return self.options.lead
        return 3 * DRAIN_INTERVAL + 4 * self.loader_seconds

    # Deciding -------------------------------------------------------------------------------
    def tick(self) -> None:
        """On the predictor's feed thread: score the keys now due and refresh the likely ones."""
        now = time.monotonic()
        ready = []
        with self._lock:
            while self._heap and self._heap[0][0] <= now:
                due, key = heapq.heappop(self._heap)
                if self._due.get(key) == due:
                    del self._due[key]
                    ready.append(key)
        if not ready:
            return
        assert self.model is not None
        core = self.model.core
        ready = [key for key in ready if self.store.contains(self.prefix, key)]  # else gone
        # Untrained, the model scores every key 0.5: it knows nothing yet, so nothing refreshes.
        trained = core.stats()["trained"] > 0
        scores = core.probabilities(self.prefix, ready) if trained else [0.0] * len(ready)
        # Each decision point trains the model on the question it answers: is the key read
        # after the entry would have expired (past `lead`), within the horizon?
        core.observe(self.prefix, ready, self.lead())
        threshold = self.options.threshold
        for key, p in zip(ready, scores, strict=True):
            if p >= threshold:
                self.start(key)
            else:
                self.counters.add("skipped_cold")

    def xfetch_getter(self, get: Callable[..., Any]) -> Callable[..., Any]:
        """`get`, plus XFetch's draw on each hit of a key with a TTL."""
        ttl_of, prefix, beta = self.store.ttl, self.prefix, self.options.beta
        running, draw, log = self._running, random.random, math.log

        def xfetch_get(key: str, default: Any) -> Any:
            value = get(key, default)
            if value is not default and key not in running:
                left = ttl_of(prefix, key)
                if left is not None and self.loader_seconds * beta * -log(draw() or 1e-12) >= left:
                    self.start(key)
            return value

        return xfetch_get

    def start(self, key: str) -> None:
        """Starts one refresh of `key` unless one runs, the pool is full or the budget spent."""
        with self._lock:
            call = self._calls.get(key)
            if call is None or key in self._running:
                return
            if len(self._running) >= self.options.workers:
                self.counters.add("skipped_busy")
                return
            if not self._budget.take():
                self.counters.add("skipped_budget")
                return
            self._running.add(key)
        self.counters.add("started")
        try:
            self._submit(key, call)
        except RuntimeError:  # the loop closed or the interpreter is exiting
            self._finish(key, "failed")

    def _submit(self, key: str, call: Call) -> None:
        if not self.site.is_async:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    max_workers=self.options.workers, thread_name_prefix="stratacache-refresh"
                )
            self._pool.submit(self._run_sync, key, call)
            return
        import asyncio  # noqa: PLC0415 - a sync-only program never loads asyncio

        loop = self._loop
        if loop is None or loop.is_closed():
            msg = "no event loop to refresh on"
            raise RuntimeError(msg)
        coro = self._run_async(key, call)
        try:
            asyncio.run_coroutine_threadsafe(coro, loop)
        except RuntimeError:
            coro.close()
            raise

    def _finish(self, key: str, outcome: str) -> None:
        with self._lock:
            self._running.discard(key)
        self.counters.add(outcome)

    # Running --------------------------------------------------------------------------------
    def _run_sync(self, key: str, call: Call) -> None:
        outcome = "failed"
        try:
            outcome = self._refresh_sync(key, call)
        except Exception as exc:  # noqa: BLE001 - background work: count, log, keep the old value
            _failed_log.hit(self.site.keys.func_name, type(exc).__name__)
        finally:
            self._finish(key, outcome)

    def _refresh_sync(self, key: str, call: Call) -> str:
        site, (args, kwargs) = self.site, call

        def compute() -> Any:
            started = time.perf_counter()
            next(site.loads)
            value = site.func(*args, **kwargs)
            self.timed(time.perf_counter() - started)
            return value

        on = site._dependencies(args, kwargs)
        if on and not site.current_cache()._link(self.namespace, key, on, site.ttl):
            return _GONE
        if self.tier_refresh is not None:
            load = Load(compute, site.ttl, site.tags, site.unless)
            done = self.tier_refresh(self.namespace, key, load)
        else:
            old = site.peek(key, _MISS)
            if old is _MISS:
                return _GONE
            done = self._store_if_same(key, old, compute())
        if done:
            self.loaded(key, args, kwargs)
        return "succeeded" if done else _GONE

    async def _run_async(self, key: str, call: Call) -> None:
        outcome = "failed"
        try:
            outcome = await self._refresh_async(key, call)
        except Exception as exc:  # noqa: BLE001 - background work: count, log, keep the old value
            _failed_log.hit(self.site.keys.func_name, type(exc).__name__)
        finally:
            self._finish(key, outcome)

    async def _refresh_async(self, key: str, call: Call) -> str:
        site, (args, kwargs) = self.site, call

        async def compute() -> Any:
            started = time.perf_counter()
            next(site.loads)
            value = await site.func(*args, **kwargs)
            self.timed(time.perf_counter() - started)
            return value

        on = site._dependencies(args, kwargs)
        if on and not await site.current_cache()._link_async(self.namespace, key, on, site.ttl):
            return _GONE
        if self.tier_refresh is not None:
            load = Load(compute, site.ttl, site.tags, site.unless)
            done = await self.tier_refresh(self.namespace, key, load)
        else:
            old = site.peek(key, _MISS)
            if old is _MISS:
                return _GONE
            done = self._store_if_same(key, old, await compute())
        if done:
            self.loaded(key, args, kwargs)
        return "succeeded" if done else _GONE

    def _store_if_same(self, key: str, old: Any, value: Any) -> bool:
        """L1 only: stores `value` if `key` still holds `old` (not invalidated, expired or
        rewritten while the loader ran). The check and the set are two engine calls a few
        bytecodes apart: a delete from another thread landing exactly between them is the one
        window left (the engine has no compare-and-set)."""
        site = self.site
        if site.peek(key, _MISS) is not old:
            return False
        site._store(key, value)
        return True
