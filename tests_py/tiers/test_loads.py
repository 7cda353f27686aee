"""Cached functions over the Redis tier: sharing, tags, locks, early and stale refresh."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

import stratacache
from stratacache import ConfigError

pytestmark = pytest.mark.usefixtures("redis_clean_url")


def counted(is_async: bool, delay: float = 0.0) -> tuple[Callable[..., Any], list[int]]:
    """A function (sync or async) that records its calls and returns 10 * x."""
    calls: list[int] = []
    if is_async:

        async def load_async(x: int) -> int:
            calls.append(x)
            await asyncio.sleep(delay)
            return x * 10 + len(calls) - 1

        return load_async, calls

    def load(x: int) -> int:
        calls.append(x)
        time.sleep(delay)
        return x * 10 + len(calls) - 1

    return load, calls


async def run(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    result = fn(*args, **kwargs)
    return await result if asyncio.iscoroutine(result) else result


def is_async(cache: Any) -> bool:
    return isinstance(cache, stratacache.AsyncCache)


async def test_a_result_loaded_by_one_process_is_reused_by_another(
    tiered: Callable[..., Any], redis_url: str
) -> None:
    a, b = tiered(redis_url), tiered(redis_url)
    fa, calls = counted(is_async(a))
    la, lb = a.cache(ttl=30)(fa), b.cache(ttl=30)(fa)
    assert await run(la, 4) == 40
    assert await run(lb, 4) == 40  # from Redis: fa ran once
    assert calls == [4]
    assert b._stats().l2.hits == 1


async def test_tags_on_a_cached_function(
    tiered: Callable[..., Any], redis_url: str, wait_until: Callable[..., bool]
) -> None:
    a, b = tiered(redis_url), tiered(redis_url)  # constructed first: no message in flight
    fa, calls = counted(is_async(a))
    la, lb = a.cache(tags=["users"])(fa), b.cache(tags=["users"])(fa)
    assert await run(la, 1) == 10
    assert await run(lb, 1) == 10
    await run(a.invalidate_tags, "users")
    assert wait_until(lambda: len(b) == 0)
    assert await run(lb, 1) == 11  # recomputed after the bump
    assert calls == [1, 1]


async def test_stale_values_are_served_while_one_refresh_runs(
    tiered: Callable[..., Any], redis_url: str, eventually: Callable[..., Any]
) -> None:
    a = tiered(redis_url, l1=False, stale_ttl=30)
    fa, calls = counted(is_async(a), delay=0.05)
    la = a.cache(ttl=0.2)(fa)
    assert await run(la, 2) == 20
    await asyncio.sleep(0.3)  # expired, inside the stale window
    assert await run(la, 2) == 20  # served stale; one refresh starts
    assert await run(la, 2) == 20  # still stale: the refresh is running, no second one
    assert await eventually(lambda: a._stats().l2.sets == 2)
    assert await run(la, 2) == 21
    assert calls == [2, 2]
    assert a._stats().l2.stale_hits == 2
    assert a._stats().l2.refreshes == 1


async def test_early_refresh_reloads_a_hot_key_before_it_expires(
    tiered: Callable[..., Any], redis_url: str, eventually: Callable[..., Any]
) -> None:
    # beta so large that every read after the first picks an early refresh.
    a = tiered(redis_url, l1=False, early_refresh=1e9)
    fa, _ = counted(is_async(a), delay=0.001)
    la = a.cache(ttl=60)(fa)
    assert await run(la, 3) == 30
    assert await run(la, 3) == 30  # fresh, but picked for an early refresh
    assert await eventually(lambda: a._stats().l2.sets == 2)
    assert await run(la, 3) in (31, 32)  # the refreshed value (a later read may refresh again)
    assert a._stats().l2.refreshes >= 1
    assert a._stats().l2.stale_hits == 0


def test_the_lock_makes_one_process_load_while_others_wait(
    redis_url: str, wait_until: Callable[..., bool]
) -> None:
    caches = [stratacache.Cache(redis=redis_url, lock_timeout=5) for _ in range(3)]
    calls: list[int] = []

    def slow(x: int) -> int:
        calls.append(x)
        time.sleep(0.3)
        return x

    fns = [c.cache(ttl=30)(slow) for c in caches]
    results: list[int] = []
    threads = [threading.Thread(target=lambda f=f: results.append(f(9))) for f in fns]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    try:
        assert results == [9, 9, 9]
        assert calls == [9]
        assert sum(c._stats().l2.lock_waits for c in caches) >= 1
    finally:
        for c in caches:
            c.close()


async def test_a_sync_function_on_an_async_tiered_cache_is_refused(
    tiered: Callable[..., Any], redis_url: str
) -> None:
    a = tiered(redis_url)
    fa, _ = counted(not is_async(a))
    with pytest.raises(ConfigError, match="AsyncCache"):
        a.cache(ttl=1)(fa)


async def test_tags_need_a_redis_tier(cache_cls: type[Any]) -> None:
    cache = cache_cls()
    # Cache.set is the C setter itself, which takes no tags argument at all.
    with pytest.raises((ConfigError, TypeError), match="tags"):
        await run(cache.set, "k", 1, tags=["t"])
    with pytest.raises(ConfigError, match="Redis tier"):
        cache.cache(tags=["t"])(lambda x: x)
