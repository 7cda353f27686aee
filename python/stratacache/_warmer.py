"""`stratacache.Warmer`: warming strategies with priorities and schedules, for Cache (a daemon
thread) and AsyncCache (a task). The strategies and their checks live in `_warmer_plan`, what a
run reads in `_warmer_steps`, the thread in `_warmer_run`, the task in `_warmer_async`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from ._options import check_positive
from ._warmer_plan import (
    DEFAULT_BATCH,
    DEFAULT_TIMEOUT,
    Strategy,
    StrategyStats,
    check_common,
    check_loader,
    key_source,
)
from ._warmer_run import SyncRunner
from .caches import AsyncCache, Cache
from .errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Coroutine

    from typing_extensions import Self

    from ._warm import WarmReport

__all__ = ["StrategyStats", "Warmer"]

C = TypeVar("C", Cache, AsyncCache)


def _n(value: object, name: str = "n") -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        msg = f"{name} must be an int or None, not {type(value).__name__}"
        raise TypeError(msg)
    if value < 1:
        msg = f"{name} must be at least 1, got {value!r}"
        raise ConfigError(msg)
    return value


class Warmer(Generic[C]):
    """Warms a cache's L1 by strategies, each with a priority, a batch size, a concurrency and
    a schedule.

    Add strategies with `keys`, `predicted`, `recent` and `calls`; then `start()` (or use the
    warmer as a context manager: ``with`` for a Cache, ``async with`` for an AsyncCache) runs
    them on schedule, on a daemon thread for a Cache and in a task of the running loop for an
    AsyncCache. When several are due they run one after the other, highest priority first
    (ties in the order added). A run reads its keys in batches, at most `concurrency` batches
    at a time, and starts no batch after its `timeout`; a strategy that raises is counted in
    `stats()`, logged on the ``stratacache`` logger, and does not stop the others.

    Every strategy takes these keywords:
        priority: int, higher first (default 0).
        batch_size: keys per read of the lower tier or per loader call (default 200).
        concurrency: batches read at the same time (default 1).
        timeout: seconds a run may take; no batch starts after it (default 60).
        on_start: run when the warmer starts (default True).
        every: then run every `every` seconds (from the end of the previous run).
        cron: or run at the times of this cron expression, local time; needs croniter
            (``pip install 'stratacache[cron]'``).
        namespace: whose keys (default: the cache's namespace).
        name: the strategy's name in `stats()` and `run_once()` (default: its kind).

    Args:
        cache: a `Cache` or an `AsyncCache`.

    Raises:
        TypeError: cache is neither.
    """

    @overload
    def __init__(self: Warmer[Cache], cache: Cache) -> None: ...
    @overload
    def __init__(self: Warmer[AsyncCache], cache: AsyncCache) -> None: ...
    def __init__(self, cache: Cache | AsyncCache) -> None:
        if not isinstance(cache, (Cache, AsyncCache)):
            msg = f"cache must be a Cache or an AsyncCache, not {type(cache).__name__}"
            raise TypeError(msg)
        self._cache: Any = cache
        self._async = isinstance(cache, AsyncCache)
        self._strategies: list[Strategy] = []
        if self._async:
            from ._warmer_async import AsyncRunner  # noqa: PLC0415 - sync programs skip asyncio

            self._runner: Any = AsyncRunner(cache, self._strategies)
        else:
            self._runner = SyncRunner(cache, self._strategies)
        self._armed = False

    # -- strategies -------------------------------------------------------------------------

    def keys(
        self,
        keys: Iterable[str] | Callable[[], Iterable[str]],
        *,
        loader: Callable[[list[str]], Any] | None = None,
        ttl: float | None = None,
        n: int | None = None,
        **options: Any,
    ) -> Self:
        """Warms explicit keys: an iterable of str, or a function returning one (called at each
        run, so a generator function gives fresh keys each time; it runs on the warmer's
        thread or task). Keys L1 holds are skipped; the others are read from the lower tiers
        or, with `loader`, loaded: ``loader(keys)`` returns a mapping key -> value (an async
        function for an AsyncCache may be awaited; a sync one runs in a thread), whose values
        are stored in every tier with `ttl` (None: the cache's default). `n` caps the keys of
        a run. Returns the warmer.

        Raises:
            TypeError: an argument has the wrong type.
            ConfigError: no loader on a cache without a lower tier, a one-shot iterator on a
                repeating schedule, or a bad common option (see the class docstring).
        """
        common = self._common("keys", options)
        source, count = key_source(keys, common["schedule"]), _n(n)
        loader, ttl_s = check_loader(self._cache, loader, ttl)
        return self._add("keys", common, source=source, n=count, loader=loader, ttl=ttl_s)

    def predicted(
        self,
        n: int = 1000,
        *,
        loader: Callable[[list[str]], Any] | None = None,
        ttl: float | None = None,
        **options: Any,
    ) -> Self:
        """Warms the `n` keys the predictor ranks hottest (as `cache.warm` does: this process's
        model, else the hot set its peers published to Redis), from the lower tiers or
        `loader` (see `keys`). Returns the warmer.

        Raises:
            TypeError, ConfigError: as for `keys`.
        """
        common, count = self._common("predicted", options), _n(n)
        loader, ttl_s = check_loader(self._cache, loader, ttl)
        return self._add("predicted", common, n=count, loader=loader, ttl=ttl_s)

    def recent(
        self,
        n: int = 1000,
        *,
        loader: Callable[[list[str]], Any] | None = None,
        ttl: float | None = None,
        **options: Any,
    ) -> Self:
        """Warms the `n` keys read most recently that L1 no longer holds (evicted or expired),
        from the lower tiers or `loader` (see `keys`). The predictor's model knows them: it
        keeps the last read of every key it tracks, so this needs ``predictor=`` (keys outside
        its `sample_rate` are not seen). Returns the warmer.

        Raises:
            ConfigError: the cache has no predictor; as for `keys` otherwise.
            TypeError: as for `keys`.
        """
        common, count = self._common("recent", options), _n(n)
        if self._cache._predictor is None:
            msg = "recent() needs a cache created with predictor=True (it knows the last reads)"
            raise ConfigError(msg)
        loader, ttl_s = check_loader(self._cache, loader, ttl)
        return self._add("recent", common, n=count, loader=loader, ttl=ttl_s)

    def calls(self, func: Any, n: int | None = None, **options: Any) -> Self:
        """Re-runs a cached function for its predicted-hot argument tuples that L1 lacks (as
        ``func.warm`` does), through its usual miss path; `batch_size` calls per batch.
        `namespace` is the function's own. Returns the warmer.

        Raises:
            TypeError: func is not a function decorated with this cache's ``cache``.
            ConfigError: the cache has no predictor, func is async and the cache sync, or it
                caches into another cache; as for `keys` otherwise.
        """
        site = getattr(func, "__stratacache_site__", None)
        if site is None:
            msg = f"calls() takes a cached function, not {type(func).__name__}"
            raise TypeError(msg)
        common = self._common("calls", options)
        if site.current_cache() is not self._cache:
            msg = f"{site.keys.func_name} caches into another cache than this warmer's"
            raise ConfigError(msg)
        if site.is_async and not self._async:
            msg = f"{site.keys.func_name} is async: warm it with a Warmer of an AsyncCache"
            raise ConfigError(msg)
        if self._cache._predictor is None or site.arg_memory is None:
            msg = f"calls({site.keys.func_name}) needs a cache created with predictor=True"
            raise ConfigError(msg)
        return self._add("calls", common, source=site, n=_n(n))

    def _common(self, kind: str, options: dict[str, Any]) -> dict[str, Any]:
        defaults = {
            "name": None, "priority": 0, "batch_size": DEFAULT_BATCH, "concurrency": 1,
            "timeout": DEFAULT_TIMEOUT, "on_start": True, "every": None, "cron": None,
            "namespace": None,
        }  # fmt: skip
        unknown = sorted(set(options) - set(defaults))
        if unknown:
            msg = f"unknown strategy option(s): {', '.join(unknown)}"
            raise TypeError(msg)
        names = {s.name for s in self._strategies}
        return check_common(self._cache, names, kind, defaults | options)

    def _add(self, kind: str, common: dict[str, Any], **fields: Any) -> Self:
        s = Strategy(kind=kind, order=len(self._strategies), **common, **fields)
        if self._armed:
            s.due = s.schedule.first(time.monotonic())
        self._strategies.append(s)
        self._runner.poke()
        return self

    def _arm(self) -> None:
        now = time.monotonic()
        for s in self._strategies:
            s.due = s.schedule.first(now)
        self._armed = True

    # -- running ----------------------------------------------------------------------------

    def start(self) -> None:
        """Runs the strategies on schedule from now on: the on-start ones at once. For an
        AsyncCache, call it from a coroutine (it creates a task of the running loop).

        Raises:
            RuntimeError: the warmer runs already, or (AsyncCache) no loop is running.
        """
        if self.running:
            msg = "this Warmer runs already"
            raise RuntimeError(msg)
        self._arm()  # before the thread starts: its first round sees the on-start ones due
        self._runner.start()

    @overload
    def stop(self: Warmer[Cache], timeout: float = 5.0) -> None: ...
    @overload
    def stop(self: Warmer[AsyncCache], timeout: float = 5.0) -> Coroutine[Any, Any, None]: ...
    def stop(self, timeout: float = 5.0) -> Any:
        """Stops the schedule and waits at most `timeout` seconds for the running strategy,
        which starts no further batch (a batch already running finishes in the background).
        A coroutine for an AsyncCache.

        Raises:
            TypeError, ConfigError: timeout is not a number > 0.
        """
        timeout = check_positive(timeout, "timeout")
        if self._async:
            return self._runner.stop(timeout)
        self._runner.stop(timeout)
        return None

    @property
    def running(self) -> bool:
        """True between `start()` and `stop()`."""
        return (self._runner.task if self._async else self._runner.thread) is not None

    @overload
    def run_once(self: Warmer[Cache], force: bool = False) -> dict[str, WarmReport]: ...
    @overload
    def run_once(
        self: Warmer[AsyncCache], force: bool = False
    ) -> Coroutine[Any, Any, dict[str, WarmReport]]: ...
    def run_once(self, force: bool = False) -> Any:
        """Runs the strategies due now (every one with `force`) in the caller, highest priority
        first, and returns the report of each that did not raise, by name (a coroutine for an
        AsyncCache). Before `start()` the on-start strategies are due. A strategy's next time
        is counted from this run.

        Raises:
            TypeError: force is not a bool.
        """
        if not isinstance(force, bool):
            msg = f"force must be a bool, not {type(force).__name__}"
            raise TypeError(msg)
        if not self._armed:
            self._arm()
        return self._runner.run_round(force)

    def stats(self) -> dict[str, StrategyStats]:
        """Each strategy's results so far (`StrategyStats`), by name, in the order added."""
        return {s.name: s.stats() for s in self._strategies}

    def __enter__(self: Warmer[Cache]) -> Warmer[Cache]:
        if self._async:
            msg = "a Warmer of an AsyncCache is used with 'async with'"
            raise TypeError(msg)
        self.start()
        return self

    def __exit__(self: Warmer[Cache], *exc: object) -> None:
        self.stop()

    async def __aenter__(self: Warmer[AsyncCache]) -> Warmer[AsyncCache]:
        if not self._async:
            msg = "a Warmer of a Cache is used with 'with'"
            raise TypeError(msg)
        self.start()
        return self

    async def __aexit__(self: Warmer[AsyncCache], *exc: object) -> None:
        await self.stop()

    def __repr__(self) -> str:
        names = ", ".join(s.name for s in self._strategies)
        state = "running" if self.running else "stopped"
        return f"<Warmer of {type(self._cache).__name__} [{names}] {state}>"
