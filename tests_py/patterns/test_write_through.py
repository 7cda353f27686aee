"""WriteThrough / AsyncWriteThrough on a real Redis tier: store first, then the cache."""

from __future__ import annotations

import time
from typing import Any

import pytest

import stratacache
from stratacache.patterns import AsyncWriteThrough, WriteThrough


class Unencodable:
    """A value the default codec cannot serialize: the cache write fails after the store's."""


def test_store_first_then_cache(redis_clean_url: str) -> None:
    seen: list[tuple[str, Any]] = []
    with stratacache.Cache(redis=redis_clean_url) as cache:
        wt = WriteThrough(cache, store=lambda k, v: seen.append((k, v)))
        wt.set("a", {"n": 1})
        assert seen == [("a", {"n": 1})]
        assert wt.get("a") == {"n": 1}
        with stratacache.Cache(redis=redis_clean_url) as other:  # another process's view
            assert other.get("a") == {"n": 1}
        assert wt.stats().writes == 1


def test_store_failure_raises_and_leaves_the_cache_untouched(redis_clean_url: str) -> None:
    def refuse(key: str, value: Any) -> None:
        msg = "database down"
        raise ConnectionError(msg)

    with stratacache.Cache(redis=redis_clean_url) as cache:
        cache.set("a", "old")
        wt = WriteThrough(cache, store=refuse)
        with pytest.raises(ConnectionError, match="database down"):
            wt.set("a", "new")
        assert cache.get("a") == "old"
        assert wt.stats().store_failures == 1


def test_cache_failure_after_store_invalidates_everywhere(redis_clean_url: str) -> None:
    stored: dict[str, Any] = {}
    with (
        stratacache.Cache(redis=redis_clean_url) as cache,
        stratacache.Cache(redis=redis_clean_url) as other,
    ):
        cache.set("a", "old")
        assert other.get("a") == "old"  # now in other's L1 too
        wt = WriteThrough(cache, store=stored.__setitem__)
        value = Unencodable()
        wt.set("a", value)  # fail-open: no exception, the store has it
        assert stored["a"] is value
        assert cache.get("a") is None
        assert cache.contains("a") is False
        deadline = time.monotonic() + 3  # the invalidation message reaches other's L1
        while other.get("a") is not None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert other.get("a") is None
        stats = wt.stats()
        assert (stats.writes, stats.cache_failures, stats.invalidation_failures) == (1, 1, 0)


def test_arguments_are_checked(redis_clean_url: str) -> None:
    with stratacache.Cache(redis=redis_clean_url) as cache:
        with pytest.raises(TypeError, match="store"):
            WriteThrough(cache, store=42)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="cache"):
            WriteThrough("not a cache", store=print)
        with pytest.raises(TypeError, match="key"):
            WriteThrough(cache, store=print).set(1, 2)  # type: ignore[arg-type]


async def test_async_write_through(redis_clean_url: str) -> None:
    stored: dict[str, Any] = {}

    async def store(key: str, value: Any) -> None:
        stored[key] = value

    cache = stratacache.AsyncCache(redis=redis_clean_url)
    try:
        wt = AsyncWriteThrough(cache, store=store)
        await wt.set("a", 1)
        assert stored == {"a": 1}
        assert await wt.get("a") == 1
        await cache.set("b", "old")
        await wt.set("b", Unencodable())
        assert await cache.get("b") is None
        assert wt.stats().cache_failures == 1

        async def refuse(key: str, value: Any) -> None:
            raise KeyError(key)

        with pytest.raises(KeyError):
            await AsyncWriteThrough(cache, store=refuse).set("a", 2)
        assert await cache.get("a") == 1
        with pytest.raises(TypeError, match="AsyncCache"):
            AsyncWriteThrough(stratacache.Cache(), store=store)
    finally:
        await cache.close()
