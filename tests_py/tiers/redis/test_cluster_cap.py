"""The cap on commands in flight for Cluster tiers (`cap.py`): redis-py's Cluster node pools
raise "Too many connections" at once, so without it a burst of calls beyond max_connections
became errors, misses and an open breaker. On a real cluster, and the caps on their own."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

import stratacache
from stratacache.testing.redis_servers import RedisClusterGroup
from stratacache.tiers.redis.cap import AsyncCap, SyncCap

THREADS, CALLS, KEYS = 8, 100, 50

PATIENT = "call_timeout=30&connect_timeout=30&retries=0"


def capped(cluster: RedisClusterGroup, connections: int) -> str:
    # Waits as long as a loaded CI machine needs (the default call deadline of 0.5 s cuts a
    # queue of 1,000 calls short there, as it should), and no retries: a pool that raises
    # at the cap instead of waiting fails the call at once.
    return f"{cluster.url}?max_connections={connections}&{PATIENT}"


def test_threads_beyond_the_cap_wait_on_a_cluster(redis_cluster_clean: RedisClusterGroup) -> None:
    cache = stratacache.Cache(redis=capped(redis_cluster_clean, 2), l1=False)
    got: list[Any] = []
    failures: list[BaseException] = []
    stats: Any = None

    def work() -> None:
        try:
            got.extend(cache.get(f"k{i % KEYS}") for i in range(CALLS))
        except BaseException as exc:  # noqa: BLE001 - any exception fails the test below
            failures.append(exc)

    try:
        for i in range(KEYS):
            cache.set(f"k{i}", i)
        threads = [threading.Thread(target=work) for _ in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        stats = cache._stats().l2
    finally:
        cache.close()
    assert failures == []
    assert sorted(got) == sorted([i % KEYS for i in range(CALLS)] * THREADS)
    assert (stats.errors, stats.skipped_reads, stats.skipped_writes) == (0, 0, 0)


def test_a_burst_of_tasks_beyond_the_cap_waits_on_a_cluster(
    redis_cluster_clean: RedisClusterGroup,
) -> None:
    async def burst() -> tuple[list[Any], Any]:
        cache = stratacache.AsyncCache(redis=capped(redis_cluster_clean, 4), l1=False)
        try:
            await asyncio.gather(*(cache.set(f"k{i}", i) for i in range(1000)))
            got = await asyncio.gather(*(cache.get(f"k{i}") for i in range(1000)))
            return got, cache._stats().l2
        finally:
            await cache.close()

    got, stats = asyncio.run(asyncio.wait_for(burst(), 120))
    assert got == list(range(1000))
    assert (stats.errors, stats.skipped_writes, stats.skipped_reads) == (0, 0, 0)


def test_async_cap_bounds_the_calls_in_flight() -> None:
    cap = AsyncCap(3, wait=5.0)
    running, most = 0, 0

    async def call() -> int:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.01)
        running -= 1
        return 1

    async def main() -> list[int]:
        end = time.monotonic() + 10
        return await asyncio.gather(*(cap.run(call, end) for _ in range(30)))

    assert asyncio.run(main()) == [1] * 30
    assert most == 3
    assert asyncio.run(main()) == [1] * 30  # a second event loop gets slots of its own


@pytest.mark.parametrize("bound", ["wait", "deadline"])
def test_async_cap_gives_up_at_its_wait_or_the_deadline(bound: str) -> None:
    cap = AsyncCap(1, wait=0.1 if bound == "wait" else 10.0)
    release = asyncio.Event()

    async def hold() -> None:
        await release.wait()

    async def main() -> float:
        end = time.monotonic() + (10.0 if bound == "wait" else 0.1)
        holder = asyncio.create_task(cap.run(hold, end))
        await asyncio.sleep(0)
        started = time.monotonic()
        with pytest.raises(RedisConnectionError, match="No connection available"):
            await cap.run(hold, end)
        waited = time.monotonic() - started
        release.set()
        await holder
        assert await cap.run(lambda: asyncio.sleep(0, "free"), end + 10) == "free"
        return waited

    waited = asyncio.run(main())
    assert 0.05 <= waited < 2.0


def test_sync_cap_bounds_the_threads_in_it_and_hands_a_slot_on() -> None:
    cap = SyncCap(2, wait=5.0)
    lock = threading.Lock()
    running, most = 0, 0
    done: list[int] = []

    def call() -> int:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.01)
        with lock:
            running -= 1
        return 1

    def work() -> None:
        end = time.monotonic() + 10
        done.extend(cap.run(call, end) for _ in range(5))

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert done == [1] * 30
    assert most == 2


def test_sync_cap_gives_up_at_its_wait() -> None:
    cap = SyncCap(1, wait=0.1)
    entered, release = threading.Event(), threading.Event()

    def hold() -> None:
        entered.set()
        release.wait(10)

    holder = threading.Thread(target=cap.run, args=(hold, time.monotonic() + 10))
    holder.start()
    assert entered.wait(10)
    started = time.monotonic()
    with pytest.raises(RedisConnectionError, match="No connection available"):
        cap.run(lambda: None, time.monotonic() + 10)
    assert 0.05 <= time.monotonic() - started < 2.0
    with pytest.raises(RedisConnectionError, match="No connection available"):
        cap.run(lambda: None, time.monotonic() - 1)  # no time left: no wait at all
    release.set()
    holder.join(10)
    assert cap.run(lambda: "free", time.monotonic() + 1) == "free"
