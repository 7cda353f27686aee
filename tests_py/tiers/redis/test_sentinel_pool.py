"""The pools of a Sentinel tier on a real Sentinel group: the cap on connections is a wait, as
for a standalone target (redis-py's Sentinel pools raise "Too many connections" at once, which
turned a burst of calls into errors and an open breaker), and a connection to a former primary
is not reused."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest
import redis.sentinel
from redis.exceptions import ConnectionError as RedisConnectionError

import stratacache
from stratacache.testing.redis_servers import RedisSentinelGroup
from stratacache.tiers.redis.pool import SentinelTierPool, one

THREADS, CALLS = 8, 100

PATIENT = "call_timeout=30&connect_timeout=30&retries=0"


def capped(group: RedisSentinelGroup, connections: int) -> str:
    # Waits as long as a loaded CI machine needs (the default call deadline of 0.5 s cuts a
    # queue of 1,000 calls short there, as it should), and no retries: a pool that raises
    # at the cap instead of waiting fails the call at once.
    return f"{group.url}?max_connections={connections}&{PATIENT}"


def test_threads_beyond_the_cap_wait_for_a_connection(
    redis_sentinel_clean: RedisSentinelGroup,
) -> None:
    cache = stratacache.Cache(redis=capped(redis_sentinel_clean, 2), l1=False)
    failures: list[BaseException] = []
    got: list[Any] = []
    stats: Any = None

    def work() -> None:
        try:
            got.extend(cache.get("k") for _ in range(CALLS))
        except BaseException as exc:  # noqa: BLE001 - any exception fails the test below
            failures.append(exc)

    try:
        driver: Any = cache._driver
        assert isinstance(driver.redis.client.connection_pool, SentinelTierPool)
        cache.set("k", {"v": 1})
        threads = [threading.Thread(target=work) for _ in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        stats = cache._stats().l2
    finally:
        cache.close()
    assert failures == []
    assert got == [{"v": 1}] * (THREADS * CALLS)
    assert (stats.errors, stats.skipped_reads, stats.retries) == (0, 0, 0)
    assert stats.hits == THREADS * CALLS


def test_tasks_beyond_the_cap_wait_for_a_connection(
    redis_sentinel_clean: RedisSentinelGroup,
) -> None:
    async def burst() -> tuple[list[Any], Any]:
        cache = stratacache.AsyncCache(redis=capped(redis_sentinel_clean, 2), l1=False)
        try:
            await asyncio.gather(*(cache.set(f"k{i}", i) for i in range(200)))
            got = await asyncio.gather(*(cache.get(f"k{i}") for i in range(200)))
            return got, cache._stats().l2
        finally:
            await cache.close()

    got, stats = asyncio.run(asyncio.wait_for(burst(), 60))
    assert got == list(range(200))
    assert (stats.errors, stats.skipped_writes, stats.skipped_reads) == (0, 0, 0)


def test_a_connection_to_the_former_primary_is_closed_on_release(
    redis_sentinel_clean: RedisSentinelGroup,
) -> None:
    group = redis_sentinel_clean
    cache = stratacache.Cache(redis=group.url, l1=False)
    try:
        driver: Any = cache._driver
        pool = driver.redis.client.connection_pool
        held = pool.get_connection()
        old = (held.host, held.port)
        assert old == group.primary.address
        group.kill_primary()
        new = group.wait_for_failover(timeout=30)
        deadline = time.monotonic() + 10
        while pool.get_master_address() != new and time.monotonic() < deadline:
            time.sleep(0.05)  # the Sentinels that answer first may lag by a moment
        assert pool.master_address == new
        pool.release(held)
        assert held._sock is None  # closed, not handed out again as it was
        assert one(pool, ("SET", b"after", b"1")) == b"OK"
        assert group.primary.command("GET", "after") == "1"
    finally:
        cache.close()
        group.heal()


@pytest.mark.parametrize("connections", [1, 3])
def test_the_cap_is_the_number_of_connections(
    redis_sentinel_clean: RedisSentinelGroup, connections: int
) -> None:
    manager = redis.sentinel.Sentinel(redis_sentinel_clean.sentinel_addresses)  # type: ignore[no-untyped-call]
    client = manager.master_for(  # type: ignore[no-untyped-call]
        redis_sentinel_clean.service_name,
        connection_pool_class=SentinelTierPool,
        max_connections=connections,
        timeout=0.2,
    )
    pool = client.connection_pool
    try:
        held = [pool.get_connection() for _ in range(connections)]
        started = time.monotonic()
        with pytest.raises(RedisConnectionError, match="No connection available"):
            pool.get_connection()
        assert time.monotonic() - started >= 0.15  # it waited for one first
        for conn in held:
            pool.release(conn)
        again = [pool.get_connection() for _ in range(connections)]
        assert {id(c) for c in again} == {id(c) for c in held}  # reused, none opened
        for conn in again:
            pool.release(conn)
        assert one(pool, ("SET", b"capped", b"1")) == b"OK"
    finally:
        client.close()
