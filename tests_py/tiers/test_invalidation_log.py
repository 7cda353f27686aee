"""Invalidations skipped while Redis is unreachable are kept and replayed (issue 11, item 2).

A delete, tag bump, pattern or clear made during an outage (fail-open) used to be dropped:
Redis kept the old value and every process read it again once Redis answered. Each test
pauses (SIGSTOP) a server of its own; loops are bounded by count and deadline.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest

import stratacache
from stratacache import BreakerConfig, RedisOptions
from stratacache.testing.redis_servers import RedisSentinelGroup, RedisServer

from ..conftest import call
from .conftest import until

FAST = RedisOptions(
    socket_timeout=0.05,
    connect_timeout=0.05,
    retries=1,
    breaker=BreakerConfig(failure_threshold=3, recovery_time=0.3),
)


async def test_deletes_skipped_during_a_pause_are_replayed(
    tiered: Callable[..., Any],
    fresh_redis_server: RedisServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = fresh_redis_server.url
    a, b = tiered(url, redis_options=FAST), tiered(url, redis_options=FAST)
    keys = [f"k{i}" for i in range(60)]
    for key in keys:
        await call(a.set(key, "old", tags=["team"] if key == "k0" else None))
    await call(a.set("page:1", "old"))
    await call(a.set("tagged", "old", tags=["users"]))
    for key in [*keys, "page:1", "tagged"]:
        assert await call(b.get(key)) == "old"

    fresh_redis_server.pause()
    try:
        with caplog.at_level(logging.WARNING, logger="stratacache"):
            for key in keys[:30]:
                await call(a.delete(key))
            await call(a.delete_many(keys[30:]))
            await call(a.invalidate_tags("users"))
            assert await call(a.invalidate_pattern("page:*")) == 0
        assert "keeping skipped invalidations" in caplog.text
        assert a._stats().l2.invalidations_pending == len(keys) + 2
        assert await until(lambda: not a._stats().l2.coherent)  # both subscribers dropped
        assert await until(lambda: not b._stats().l2.coherent)
    finally:
        fresh_redis_server.resume()

    # a's subscriber notices the pause, and replays once Redis answers again.
    with caplog.at_level(logging.WARNING, logger="stratacache"):
        assert await until(lambda: a._stats().l2.invalidations_pending == 0)
        assert await until(lambda: b._stats().l2.coherent)
    assert "replayed 62 skipped invalidations" in caplog.text
    assert a._stats().l2.invalidations_replayed == len(keys) + 2
    for cache in (a, b):
        for key in [*keys, "page:1", "tagged"]:
            assert await call(cache.get(key)) is None, key


async def test_the_next_call_replays_before_reading_redis(
    tiered: Callable[..., Any], fresh_redis_server: RedisServer
) -> None:
    # A pause too short for the subscribers to notice: only a's next call can replay.
    url = fresh_redis_server.url
    a, b = tiered(url, redis_options=FAST), tiered(url, redis_options=FAST, l1=False)
    await call(a.set("k", "old"))
    await call(a.set("cleared", "old", ttl=30))
    fresh_redis_server.pause()
    try:
        await call(a.delete("k"))
        await call(a.set("cleared", "new"))  # a skipped write leaves the old value behind
    finally:
        fresh_redis_server.resume()
    assert a._stats().l2.invalidations_pending == 2

    async def replayed_by_a_read() -> bool:
        assert await call(a.get("k")) is None  # never the old value from Redis
        assert await call(a.get("cleared")) in (None, "new")
        return a._stats().l2.invalidations_pending == 0

    assert await until(replayed_by_a_read)
    assert await call(b.get("k")) is None
    assert await call(b.get("cleared")) is None


async def test_an_overflowing_log_flushes_the_namespaces_instead(
    tiered: Callable[..., Any], fresh_redis_server: RedisServer
) -> None:
    url = fresh_redis_server.url
    a = tiered(url, redis_options=FAST, namespace="users")
    other = tiered(url, redis_options=FAST, namespace="orders", l1=False)
    a._tier.log.limit = 10
    for i in range(40):
        await call(a.set(f"k{i}", "old"))
    await call(other.set("o", "kept"))
    fresh_redis_server.pause()
    try:
        for i in range(20):
            await call(a.delete(f"k{i}"))
    finally:
        fresh_redis_server.resume()
    stats = a._stats().l2
    assert stats.invalidations_overflowed >= 10
    assert stats.invalidations_pending == 1  # one namespace flush

    async def replayed() -> bool:
        assert await call(a.get("k0")) is None
        return a._stats().l2.invalidations_pending == 0

    assert await until(replayed)
    assert await call(a.get("k39")) is None  # flushed with its namespace
    assert await call(other.get("o")) == "kept"
    assert a._stats().l2.invalidations_pending == 0


@pytest.mark.failover
def test_deletes_skipped_during_a_sentinel_failover_are_replayed(
    redis_sentinel_clean: RedisSentinelGroup, wait_until: Callable[..., bool]
) -> None:
    group = redis_sentinel_clean
    options = FAST.replace(socket_timeout=0.2, connect_timeout=0.2)
    a = stratacache.Cache(redis=group.url, redis_options=options, default_ttl=60)
    b = stratacache.Cache(redis=group.url, redis_options=options, default_ttl=60)
    try:
        keys = [f"k{i}" for i in range(40)]
        a.set_many(dict.fromkeys(keys, "old"))
        assert all(b.get(k) == "old" for k in keys)
        assert group.primary.command("WAIT", 1, 2000) >= 1  # the replica has them too
        group.kill_primary()
        for key in keys:  # before the promotion: every delete is skipped
            a.delete(key)
        assert a._stats().l2.invalidations_pending == len(keys)
        group.wait_for_failover(timeout=20)
        assert wait_until(lambda: a._stats().l2.invalidations_pending == 0, timeout=20)
        assert wait_until(lambda: b._stats().l2.coherent, timeout=20)
        assert a._stats().l2.invalidations_replayed == len(keys)
        for cache in (a, b):
            assert [k for k in keys if cache.get(k) is not None] == []
    finally:
        a.close()
        b.close()


def test_size_counts_pending_items_as_len_does() -> None:
    from stratacache.tiers.redis.invalidation_log import InvalidationLog  # noqa: PLC0415

    log = InvalidationLog(limit=3)
    assert (log.size, len(log), bool(log)) == (0, 0, False)
    log.add("k", "ns", ["a", "b"])
    assert (log.size, len(log), bool(log)) == (2, 2, True)
    log.add("k", "ns", ["c", "d"])  # past the limit: collapsed into a flush of "ns"
    assert log.size == len(log) == 1
    log.done(log.pending())
    assert (log.size, bool(log)) == (0, False)
