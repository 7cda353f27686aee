"""Invalidations another process skipped must not be read back from Redis (issue 11).

Each cache stands for one process. A delete that could not reach Redis is kept and replayed
by its own process (`test_invalidation_log.py`); these tests cover the others: until that
replay, Redis (or a promoted replica) still holds the old value. Loops are bounded by count
and deadline.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from typing import Any

from stratacache import BreakerConfig, RedisOptions
from stratacache.testing.redis_servers import RedisClusterGroup, RedisServer
from stratacache.tiers.redis.plan import Message, channel
from stratacache.tiers.redis.state import Tombstones

from ..conftest import call
from .conftest import until

FAST = RedisOptions(
    socket_timeout=0.05,
    connect_timeout=0.05,
    retries=1,
    breaker=BreakerConfig(failure_threshold=3, recovery_time=0.3),
    recovery_grace=3.0,
)


async def open_breaker(cache: Any) -> bool:
    """One failing read of `cache`; True once its breaker is open."""
    if cache._stats().l2.breaker == "open":
        return True
    await call(cache.get("x"))
    return False


async def test_a_read_only_users_refused_delete_does_not_stop_its_reads(
    tiered: Callable[..., Any], fresh_redis_server: RedisServer
) -> None:
    password = secrets.token_hex(8)
    fresh_redis_server.command(
        "ACL", "SETUSER", "ro", "on", f">{password}", "~*", "&*", "+@all", "-@write"
    )
    writer = tiered(fresh_redis_server.url)
    await call(writer.set("k", "written"))
    reader = tiered(fresh_redis_server.url.replace("redis://", f"redis://ro:{password}@"), l1=False)
    await call(reader.delete("k"))  # refused: never replayable (logged, rate-limited)
    stats = reader._stats().l2
    assert stats.invalidations_pending == 0
    assert stats.invalidations_refused == 1
    for _ in range(3):
        assert await call(reader.get("k")) == "written"
    assert reader._stats().l2.hits == 3


async def test_reads_after_a_pause_distrust_values_written_before_it(
    tiered: Callable[..., Any], fresh_redis_server: RedisServer
) -> None:
    # A pause too short for the subscribers to notice: a keeps its skipped delete until its
    # next call, and b, which saw Redis fail too, must not read the old value meanwhile.
    url = fresh_redis_server.url
    a, b = tiered(url, redis_options=FAST), tiered(url, redis_options=FAST, l1=False)
    await call(a.set("k", "old"))
    assert await call(b.get("k")) == "old"
    fresh_redis_server.pause()
    try:
        # Until a's breaker opens: a command sent to the paused server would still run
        # once it resumes; the delete must not reach Redis at all.
        assert await until(lambda: open_breaker(a))
        await call(a.delete("k"))
        assert await until(lambda: open_breaker(b))  # b sees the outage too
        assert await call(b.get("k")) is None  # Redis does not answer: a miss
    finally:
        fresh_redis_server.resume()
    assert a._stats().l2.invalidations_pending == 1
    await asyncio.sleep(0.4)  # past the breakers' recovery_time (the grace is longer)
    skipped = b._stats().l2.skipped_reads
    assert await call(b.get("k")) is None  # Redis still holds "old": a replays it later
    assert b._stats().l2.skipped_reads == skipped  # Redis answered
    # The grace, or a's announcement of its skipped delete when that PUBLISH was still in the
    # paused server's socket buffer (an asyncio a's reads no longer break its redis-py
    # connections): either one refuses the old value.
    stats = b._stats().l2
    assert stats.grace_misses + stats.tombstone_misses >= 1

    async def replayed_by_a() -> bool:  # a's own calls replay its log once its breaker lets them
        assert await call(a.get("k")) is None
        return a._stats().l2.invalidations_pending == 0

    assert await until(replayed_by_a)


async def test_the_recovery_grace_ends(
    tiered: Callable[..., Any], fresh_redis_server: RedisServer
) -> None:
    cache = tiered(fresh_redis_server.url, redis_options=FAST, l1=False)
    await call(cache.set("k", "v"))
    fresh_redis_server.pause()
    try:
        assert await until(lambda: open_breaker(cache))
    finally:
        fresh_redis_server.resume()
    await asyncio.sleep(0.4)  # past the breaker's recovery_time (the grace is longer)
    skipped = cache._stats().l2.skipped_reads
    assert await call(cache.get("k")) is None  # written before the outage: distrusted
    assert cache._stats().l2.skipped_reads == skipped  # Redis answered
    got: list[Any] = []

    async def served() -> bool:
        got.append(await call(cache.get("k")))
        return got[-1] == "v"

    assert await until(served, timeout=10)


async def test_a_delete_skipped_during_a_cluster_failover_is_announced(
    tiered: Callable[..., Any], redis_cluster_clean: RedisClusterGroup
) -> None:
    cluster = redis_cluster_clean
    options = RedisOptions(socket_timeout=0.2, connect_timeout=0.2, recovery_grace=0)
    a, b = tiered(cluster.url, redis_options=options), tiered(cluster.url, redis_options=options)
    await call(a.set("warm", 1))  # an async cluster client learns its nodes at its first call
    # A key whose primary serves neither the invalidation channel nor a's default node: its
    # death drops no subscription, and a's announcement has a live node to go to.
    spared = {cluster.primary_of_slot(cluster.key_slot(channel("sc:"))).port}
    spared.add(a._driver.redis.client.get_default_node().port)
    key = next(
        f"k{i}"
        for i in range(1000)
        if cluster.primary_of_slot(cluster.key_slot(f"sc:\x1f{f'k{i}'}")).port not in spared
    )
    await call(a.set(key, "old"))
    assert await call(b.get(key)) == "old"  # b keeps it in L1
    received = b._stats().l2.invalidations_received
    cluster.wait_replicated(f"sc:\x1f{key}")  # the promoted replica must hold "old"
    cluster.kill_primary_of(f"sc:\x1f{key}")
    try:
        await call(a.delete(key))
        assert a._stats().l2.invalidations_pending == 1
        # b drops its L1 copy at once, and then distrusts what the promoted replica holds.
        assert await until(lambda: b._stats().l2.invalidations_received > received)
        assert await call(b.get(key)) is None
        cluster.wait_cluster_ok(timeout=30)
        for _ in range(20):  # the replica has "old" until a's subscriber replays the delete
            assert await call(b.get(key)) is None
            await asyncio.sleep(0.02)
        # a's subscriber replays in the background once the cluster is back; under load it can
        # do so before b's reads (CI saw it), and b's misses are then plain ones. While a's
        # delete is still pending, the replica held "old" throughout and b's tombstone refused it.
        if a._stats().l2.invalidations_pending:
            assert b._stats().l2.tombstone_misses >= 1
        else:
            assert await call(a.get(key)) is None  # replayed: the delete reached the replica
    finally:
        cluster.heal()


def test_tombstones_match_keys_tags_patterns_namespaces_and_expire() -> None:
    stones = Tombstones(max_age_ms=1000, limit=200)
    assert not stones.active
    stones.add(Message("o", "k", "ns", ("a", "b"), skipped=True), at_ms=10_000)
    stones.add(Message("o", "t", "", ("team",), skipped=True), at_ms=10_000)
    stones.add(Message("o", "p", "pages", ("p:*",), skipped=True), at_ms=10_000)
    stones.add(Message("o", "n", "flushed", (), skipped=True), at_ms=10_000)
    assert stones.active
    covers = stones.covers
    assert covers("ns", "a", (), 9_999, 10_001)
    assert not covers("ns", "a", (), 10_001, 10_002)  # written after the tombstone
    assert not covers("ns", "c", (), 9_999, 10_001)
    assert not covers("other", "a", (), 9_999, 10_001)
    assert covers("x", "y", ("team",), 9_999, 10_001)
    assert covers("pages", "p:1", (), 9_999, 10_001)
    assert not covers("pages", "q:1", (), 9_999, 10_001)
    assert covers("flushed", "any", (), 9_999, 10_001)
    assert not covers("ns", "a", (), 9_999, 11_001)  # older than max_age: forgotten
    assert not stones.active
    stones.add(Message("o", "a", "", (), skipped=True), at_ms=20_000)
    assert covers("any", "key", (), 19_999, 20_001)
    for i in range(500):  # bounded: the oldest go first
        stones.add(Message("o", "k", "ns", (f"k{i}",), skipped=True), at_ms=30_000)
    assert len(stones._keys) == 200
    assert covers("ns", "k499", (), 29_999, 30_001)
    assert not covers("ns", "k0", (), 29_999, 30_001)


def test_a_skipped_message_round_trips_and_stays_apart() -> None:
    skipped = Message("o", "k", "ns", ("a",), skipped=True)
    assert Message.decode(skipped.encode()) == skipped
    plain = Message("o", "k", "ns", ("a",))
    assert Message.decode(plain.encode()) == plain
    assert Message.decode(b'["o","k","ns",["a"],2]') is None


async def test_the_breakers_trial_after_a_cluster_failover_finds_the_new_primary(
    tiered: Callable[..., Any], redis_cluster_clean: RedisClusterGroup
) -> None:
    # redis-py refreshes its slot map only when a command fails. The last failure came
    # before the failover ended, so the map still named the dead primary, and the breaker's
    # trial went there and failed, keeping the tier down another recovery_time.
    cluster = redis_cluster_clean
    options = RedisOptions(
        # No redis-py retry fits (deadline / socket_timeout - 1 = 0): one attempt per call,
        # so only the trial's own slot-map refresh can reach the new primary. 1 s leaves that
        # refresh room on a loaded machine (0.25 s failed 1 CI run in 2).
        socket_timeout=1.0,
        call_timeout=1.0,
        breaker=BreakerConfig(failure_threshold=2, recovery_time=0.3),
        recovery_grace=0,
        coherence=None,
    )
    cache = tiered(cluster.url, redis_options=options, l1=False)
    await call(cache.set("k", "v"))
    cluster.wait_replicated("sc:\x1fk")  # else the failover itself may lose "v"
    cluster.kill_primary_of("sc:\x1fk")
    try:
        assert await until(lambda: open_breaker_on(cache, "k"))
        cluster.wait_cluster_ok(timeout=30)
        await asyncio.sleep(0.5)  # past recovery_time: the next call is the breaker's trial
        errors = cache._stats().l2.errors
        value = await call(cache.get("k"))  # the trial itself, not a later call
        stats = cache._stats().l2
        assert (value, stats.errors - errors) == ("v", 0), f"breaker {stats.breaker}"
    finally:
        cluster.heal()


async def open_breaker_on(cache: Any, key: str) -> bool:
    if cache._stats().l2.breaker == "open":
        return True
    await call(cache.get(key))
    return False
