"""Write-through: the store is written first, then the cache, so the cache never holds a value
the store refused.

A store failure raises and leaves the cache untouched. A cache failure after the store took
the value is not the caller's problem (fail-open): the key is invalidated everywhere (L1 of
every process and Redis, through `cache.delete`) so that the next read loads the stored value,
and the failure is logged and counted.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from .._log import logger
from .._options import TTL, require_callable, require_type

__all__ = ["AsyncWriteThrough", "WriteThrough", "WriteThroughStats"]


@dataclass(frozen=True)
class WriteThroughStats:
    """Counters of one WriteThrough since it was built.

    Attributes:
        writes: values the store took.
        store_failures: sets whose store call raised (the cache was left untouched).
        cache_failures: sets whose cache write raised after the store took the value.
        invalidation_failures: of those, the ones whose invalidation raised too (the key
            may be stale in the cache until its TTL ends).
    """

    writes: int
    store_failures: int
    cache_failures: int
    invalidation_failures: int


class _Counters:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.values = dict.fromkeys(WriteThroughStats.__dataclass_fields__, 0)

    def add(self, name: str) -> None:
        with self._lock:
            self.values[name] += 1

    def snapshot(self) -> WriteThroughStats:
        with self._lock:
            return WriteThroughStats(**self.values)


def _check(cache: Any, store: object, cls: str) -> None:
    from ..caches import AsyncCache, Cache  # noqa: PLC0415 - patterns load lazily

    want = AsyncCache if cls == "AsyncWriteThrough" else Cache
    require_type(cache, want, "cache", f"a stratacache.{want.__name__}")
    require_callable(store, "store", "a function (key, value) -> None")


def _log_cache_failure(exc: BaseException) -> None:
    # Never the key or the value: they may be personal data.
    logger.warning("write-through: cache write failed after the store took it (%s)", type(exc))


class WriteThrough:
    """Writes go to `store(key, value)` first, then to `cache`.

    Args:
        cache: a `stratacache.Cache`.
        store: a function (key, value) -> None writing the system of record; it raises to
            refuse a write.

    Raises:
        TypeError: cache is not a Cache, or store is not callable.
    """

    def __init__(self, cache: Any, store: Callable[[str, Any], object]) -> None:
        _check(cache, store, "WriteThrough")
        self._cache = cache
        self._store = store
        self._counters = _Counters()

    def set(self, key: str, value: Any, ttl: TTL = None) -> None:
        """Writes `value` to the store, then to the cache (with `ttl`, see `Cache.set`).

        Raises:
            TypeError: key is not a str.
            Exception: whatever the store raised; the cache is then untouched.
        """
        require_type(key, str, "key", "a str")
        try:
            self._store(key, value)
        except BaseException:
            self._counters.add("store_failures")
            raise
        self._counters.add("writes")
        try:
            self._cache.set(key, value, ttl)
        except Exception as exc:  # noqa: BLE001 - fail-open: the store holds the value
            self._counters.add("cache_failures")
            _log_cache_failure(exc)
            try:
                self._cache.delete(key)
            except Exception:  # noqa: BLE001 - counted; the TTL bounds the staleness
                self._counters.add("invalidation_failures")

    def get(self, key: str, default: Any = None) -> Any:
        """The cached value of `key` (see `Cache.get`)."""
        return self._cache.get(key, default)

    def stats(self) -> WriteThroughStats:
        """A snapshot of the counters."""
        return self._counters.snapshot()


class AsyncWriteThrough:
    """`WriteThrough` for an `AsyncCache`; `store` may be a coroutine function or a plain one.

    Raises:
        TypeError: cache is not an AsyncCache, or store is not callable.
    """

    def __init__(self, cache: Any, store: Callable[[str, Any], Awaitable[object] | object]) -> None:
        _check(cache, store, "AsyncWriteThrough")
        self._cache = cache
        self._store = store
        self._counters = _Counters()

    async def set(self, key: str, value: Any, ttl: TTL = None) -> None:
        """See `WriteThrough.set`."""
        require_type(key, str, "key", "a str")
        try:
            result = self._store(key, value)
            if isinstance(result, Awaitable):
                await result
        except BaseException:
            self._counters.add("store_failures")
            raise
        self._counters.add("writes")
        try:
            await self._cache.set(key, value, ttl)
        except Exception as exc:  # noqa: BLE001 - fail-open: the store holds the value
            self._counters.add("cache_failures")
            _log_cache_failure(exc)
            try:
                await self._cache.delete(key)
            except Exception:  # noqa: BLE001 - counted; the TTL bounds the staleness
                self._counters.add("invalidation_failures")

    async def get(self, key: str, default: Any = None) -> Any:
        """See `WriteThrough.get`."""
        return await self._cache.get(key, default)

    def stats(self) -> WriteThroughStats:
        """A snapshot of the counters."""
        return self._counters.snapshot()
