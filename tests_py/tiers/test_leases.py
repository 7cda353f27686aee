"""Leases: a delete invalidates the fills that began before it (issue 11, item 3).

A loader that read the database before an update and finishes after the writer's delete
must not put the old value into Redis (every process would serve it until the TTL ends), nor
into L1. As in Facebook's memcache (Nishtala et al., NSDI 2013), the miss takes a lease and
the fill stores only while it holds. The loader blocks on an event, so the order is fixed.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import pytest
import redis

import stratacache
from stratacache.testing.redis_servers import RedisClusterGroup
from stratacache.tiers.redis.state import Load

from ..conftest import call

pytestmark = pytest.mark.usefixtures("redis_clean_url")


async def race_a_delete(loader: Any, writer: Any, key: str, **load: Any) -> Any:
    """Runs loader's miss for `key` with a loader that reads "old", lets `writer` delete
    the key (the database now says "new") while it is held, then lets it finish; returns
    what the held load returned."""
    db = {"value": "old"}
    load_ = loader._tier_loader("")
    if isinstance(loader, stratacache.AsyncCache):
        started, go = asyncio.Event(), asyncio.Event()

        async def compute_async() -> str:
            seen = db["value"]
            started.set()
            await go.wait()
            return seen

        task = asyncio.ensure_future(load_(key, Load(compute_async, 60, (), None)))
        await asyncio.wait_for(started.wait(), 5)
        db["value"] = "new"
        assert await call(writer.delete(key)) in (True, False)
        go.set()
        return await asyncio.wait_for(task, 10)

    t_started, t_go = threading.Event(), threading.Event()
    results: list[Any] = []

    def compute() -> str:
        seen = db["value"]
        t_started.set()
        assert t_go.wait(10)
        return seen

    thread = threading.Thread(
        target=lambda: results.append(load_(key, Load(compute, 60, (), None))), daemon=True
    )
    thread.start()
    assert t_started.wait(5)
    db["value"] = "new"
    writer.delete(key)
    t_go.set()
    thread.join(10)
    assert results
    return results[0]


@pytest.mark.parametrize("lock_timeout", [None, 2.0])
async def test_a_fill_begun_before_a_delete_is_not_stored(
    tiered: Callable[..., Any],
    redis_url: str,
    settle: Callable[..., None],
    lock_timeout: float | None,
) -> None:
    a = tiered(redis_url, lock_timeout=lock_timeout)
    b = tiered(redis_url, lock_timeout=lock_timeout)
    assert await race_a_delete(a, b, "user:1") == "old"  # the caller still gets its value
    settle(redis_url, a, b)
    assert redis.Redis.from_url(redis_url).get(b"sc:\x1fuser:1") is None
    assert await call(a.get("user:1")) is None
    assert await call(b.get("user:1")) is None
    assert a._stats().l2.fills_refused == 1


async def test_a_delete_in_the_same_process_refuses_the_fill(
    tiered: Callable[..., Any], redis_url: str
) -> None:
    a = tiered(redis_url)
    assert await race_a_delete(a, a, "user:2") == "old"
    assert await call(a.get("user:2")) is None


async def test_a_fill_without_a_delete_is_stored_and_shared(
    tiered: Callable[..., Any], redis_url: str, settle: Callable[..., None]
) -> None:
    a, b = tiered(redis_url), tiered(redis_url)

    def compute() -> str:
        return "loaded"

    async def compute_async() -> str:
        return "loaded"

    fn = compute_async if isinstance(a, stratacache.AsyncCache) else compute
    assert await call(a._tier_loader("")("k", Load(fn, 60, (), None))) == "loaded"
    settle(redis_url, b)
    assert await call(b.get("k")) == "loaded"
    assert a._stats().l2.fills_refused == 0


async def test_a_hit_runs_no_script_and_a_miss_takes_its_lease(
    tiered: Callable[..., Any], redis_url: str
) -> None:
    # The load path reads the key first: a value there is the lease script's own answer, so
    # a hit is one GET (MGET) with no Lua call; only a miss runs the script, taking a lease.
    a = tiered(redis_url, l1=False)
    server = redis.Redis.from_url(redis_url)
    loads: list[int] = []

    def compute() -> str:
        loads.append(1)
        return "loaded"

    async def compute_async() -> str:
        loads.append(1)
        return "loaded"

    fn = compute_async if isinstance(a, stratacache.AsyncCache) else compute
    load = a._tier_loader("")

    def scripts() -> int:
        stats = server.info("commandstats")
        return sum(stats.get(f"cmdstat_{c}", {}).get("calls", 0) for c in ("evalsha", "eval"))

    before = scripts()
    assert await call(load("k", Load(fn, 60, (), None))) == "loaded"
    assert scripts() > before  # the miss: its lease, then its fill
    assert server.get(b"sc:\x1fk") is not None
    before = scripts()
    for _ in range(3):
        assert await call(load("k", Load(fn, 60, (), None))) == "loaded"
    assert scripts() == before
    assert loads == [1]
    assert a._stats().l2.hits == 3


async def test_leases_hold_on_cluster(
    tiered: Callable[..., Any], redis_cluster_clean: RedisClusterGroup
) -> None:
    # The lease lives in the value key itself: always the same slot as the value.
    a = tiered(redis_cluster_clean.url, lock_timeout=2.0)
    b = tiered(redis_cluster_clean.url, lock_timeout=2.0)
    assert await race_a_delete(a, b, "user:3") == "old"
    assert await call(b.get("user:3")) is None
    assert await call(a.get("user:3")) is None
    assert a._stats().l2.fills_refused == 1


async def test_a_refresh_begun_before_a_delete_is_not_stored(
    tiered: Callable[..., Any], redis_url: str
) -> None:
    # Stale-while-revalidate: the refresh replaces the stale value only if it is still there.
    a = tiered(redis_url, l1=False, stale_ttl=30)
    b = tiered(redis_url, l1=False)
    load_ = a._tier_loader("")
    is_async = isinstance(a, stratacache.AsyncCache)
    started, go = threading.Event(), threading.Event()

    def first() -> str:
        return "old"

    def held() -> str:
        started.set()
        assert go.wait(10)
        return "old, refreshed"

    async def first_async() -> str:
        return first()

    async def held_async() -> str:
        started.set()
        for _ in range(1000):
            if go.is_set():
                break
            await asyncio.sleep(0.01)
        return "old, refreshed"

    assert await call(load_("k", Load(first_async if is_async else first, 0.05, (), None))) == "old"
    await asyncio.sleep(0.1)  # now stale
    request = Load(held_async if is_async else held, 60, (), None)
    assert await call(load_("k", request)) == "old"  # served stale; the refresh is held
    for _ in range(500):
        if started.is_set():
            break
        await asyncio.sleep(0.01)
    assert started.is_set()
    await call(b.delete("k"))
    go.set()
    for _ in range(500):
        if not a._driver._refreshing:
            break
        await asyncio.sleep(0.01)
    assert not a._driver._refreshing
    assert redis.Redis.from_url(redis_url).get(b"sc:\x1fk") is None
    assert a._stats().l2.fills_refused == 1
