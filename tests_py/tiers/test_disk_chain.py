"""The chain L1 -> disk -> Redis (`Cache(disk=..., redis=...)`) on real redis-servers.

Each cache stands for one process, with its own L1, subscriber and disk directory (unless a
test shares one, as the worker processes of one host do). Loops are bounded by deadlines.
"""

from __future__ import annotations

import inspect
import math
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import redis

from stratacache import BreakerConfig, ConfigError, DiskOptions, RedisOptions
from stratacache.testing.redis_servers import RedisServer
from stratacache.tiers.redis.plan import Message

from ..conftest import call
from .conftest import until

FAST = RedisOptions(
    socket_timeout=0.05,
    connect_timeout=0.05,
    retries=1,
    breaker=BreakerConfig(failure_threshold=3, recovery_time=0.3),
)


@pytest.fixture
async def chained(
    cache_cls: type[Any], tmp_path: Path, wait_until: Callable[..., bool]
) -> AsyncIterator[Callable[..., Any]]:
    """Factory of caches with L1, a disk directory (`tmp_path / dir`) and Redis at `url`;
    each waits until its subscription is up (a cache is degraded until then)."""
    made: list[Any] = []

    def make(url: str, directory: str, **kwargs: Any) -> Any:
        kwargs.setdefault("default_ttl", 60)
        disk = kwargs.pop("disk_options", None) or tmp_path / directory
        cache = cache_cls(redis=url, disk=disk, **kwargs)
        made.append(cache)
        assert wait_until(lambda: cache._stats().l2.coherent, timeout=10)
        return cache

    yield make
    for cache in made:
        result = cache.close()
        if inspect.isawaitable(result):
            await result


def on_disk(cache: Any, key: str, namespace: str | None = None) -> bool:
    """Whether the cache's disk holds a live entry for `key` (counts no disk read)."""
    ns = cache.namespace if namespace is None else namespace
    return cache._disk.remaining(ns, key) is not None


def forget_l1(cache: Any) -> None:
    cache._store.clear("")


async def test_reads_go_l1_then_disk_then_redis_and_backfill_both(
    chained: Callable[..., Any], redis_clean_url: str, settle: Callable[..., None]
) -> None:
    a, b = chained(redis_clean_url, "a"), chained(redis_clean_url, "b")
    await call(a.set("k", {"v": 1}, ttl=30))
    await call(a.set("forever", 2, ttl=math.inf))
    assert on_disk(a, "k")  # a write reaches the writer's disk
    settle(redis_clean_url, b)
    assert not on_disk(b, "k")
    assert await call(b.get("k")) == {"v": 1}  # from Redis: b's disk and L1 are backfilled
    assert await call(b.get("forever")) == 2
    assert b._stats().l2.hits == 2
    left = b._disk.remaining(b.namespace, "k")
    assert left is not None
    assert 0 < left <= 30  # the TTL left, not a fresh one
    assert b._disk.remaining(b.namespace, "forever") == math.inf
    forget_l1(b)
    disk_hits = b._stats().disk.hits
    assert await call(b.get("k")) == {"v": 1}  # from disk: Redis is not asked
    assert b._stats().l2.hits == 2
    assert b._stats().disk.hits == disk_hits + 1
    assert b._store.contains(b._prefix, "k")  # and L1 is backfilled from disk
    l1_left = await call(b.ttl("k"))
    assert l1_left is not None
    assert l1_left <= left
    # Disk answers before Redis: a Redis copy removed behind the cache's back (no message)
    # is still served from disk, as from L1.
    forget_l1(b)
    redis.Redis.from_url(redis_clean_url).delete(b"sc:\x1fk")
    assert await call(b.get("k")) == {"v": 1}


async def test_get_many_reads_disk_first_then_one_mget(
    chained: Callable[..., Any], redis_clean_url: str, settle: Callable[..., None]
) -> None:
    a, b = chained(redis_clean_url, "a"), chained(redis_clean_url, "b")
    await call(a.set_many({"m1": 1, "m2": 2, "m3": 3}))
    settle(redis_clean_url, b)
    assert await call(b.get("m1")) == 1
    forget_l1(b)
    hits = b._stats().l2.hits
    assert await call(b.get_many(["m1", "m2", "m3", "absent"])) == {"m1": 1, "m2": 2, "m3": 3}
    assert b._stats().l2.hits == hits + 2  # m1 came from disk
    assert on_disk(b, "m2")
    assert on_disk(b, "m3")


async def test_writes_and_every_invalidation_reach_the_disk(
    chained: Callable[..., Any], redis_clean_url: str
) -> None:
    a = chained(redis_clean_url, "a")
    await call(a.set("k", 1))
    await call(a.set_many({"m1": 1, "m2": 2, "user:1": 1, "user:2": 2, "user:10": 10}))
    await call(a.set("t1", "tagged", tags=["grp"]))
    assert all(on_disk(a, k) for k in ("k", "m1", "m2", "user:1", "user:10", "t1"))
    assert await call(a.delete("k")) is True
    assert not on_disk(a, "k")
    assert await call(a.delete_many(["m1"])) == 1
    assert not on_disk(a, "m1")
    await call(a.invalidate_tags("grp"))
    assert not on_disk(a, "t1")
    assert await call(a.invalidate_pattern("user:?")) == 2
    assert not on_disk(a, "user:1")
    assert not on_disk(a, "user:2")
    assert on_disk(a, "user:10")
    assert await call(a.clear()) >= 1
    assert not on_disk(a, "user:10")
    assert not on_disk(a, "m2")
    await call(a.set("again", 1, ttl=0))  # ttl 0 removes everywhere, disk included
    assert not on_disk(a, "again")


async def test_another_process_invalidations_reach_this_disk(
    chained: Callable[..., Any],
    redis_clean_url: str,
    settle: Callable[..., None],
    wait_until: Callable[..., bool],
) -> None:
    a, b = chained(redis_clean_url, "a"), chained(redis_clean_url, "b")
    keys = ("gone", "user:1", "user:2", "tagged", "kept", "other")
    for key in keys:
        await call(a.set(key, key, tags=["grp"] if key == "tagged" else None))
    settle(redis_clean_url, b)
    for key in keys:
        assert await call(b.get(key)) == key
    assert all(on_disk(b, k) for k in keys)
    await call(a.delete("gone"))
    assert wait_until(lambda: not on_disk(b, "gone"))
    await call(a.invalidate_tags("grp"))
    assert wait_until(lambda: not on_disk(b, "tagged"))
    await call(a.invalidate_pattern("user:*"))
    assert wait_until(lambda: not on_disk(b, "user:1") and not on_disk(b, "user:2"))
    await call(a.set("kept", "new"))  # an overwrite elsewhere drops the old copy too
    assert wait_until(lambda: not on_disk(b, "kept"))
    assert await call(b.get("kept")) == "new"
    await call(a.clear())
    assert wait_until(lambda: not on_disk(b, "other") and not on_disk(b, "kept"))
    assert await call(b.get("other")) is None


async def test_a_namespace_clear_elsewhere_empties_only_that_namespace_on_disk(
    chained: Callable[..., Any],
    redis_clean_url: str,
    settle: Callable[..., None],
    wait_until: Callable[..., bool],
) -> None:
    a = chained(redis_clean_url, "a", namespace="ns1")
    b = chained(redis_clean_url, "b", namespace="ns1")
    await call(a.set("k", 1))
    await call(b.set("mine", 1))
    other = chained(redis_clean_url, "b", namespace="ns2")  # another cache on b's disk
    await call(other.set("x", 1))
    settle(redis_clean_url, a, b)
    assert await call(b.get("k")) == 1
    assert on_disk(b, "k")
    assert on_disk(b, "mine")
    await call(a.clear("ns1"))
    assert wait_until(lambda: not on_disk(b, "k") and not on_disk(b, "mine"))
    assert on_disk(other, "x")


async def test_a_tag_bumped_while_the_process_was_gone_is_obeyed_on_disk(
    chained: Callable[..., Any], redis_clean_url: str, settle: Callable[..., None]
) -> None:
    # A change log keeps a host-wide restart warm (without one the disk is cleared: no
    # process of the host heard what changed meanwhile, `tiers/disk/gap.py`).
    logged = RedisOptions(change_log=True)
    a = chained(redis_clean_url, "a", redis_options=logged)
    b = chained(redis_clean_url, "b", redis_options=logged)
    await call(a.set("u1", "ann", tags=["users"]))
    await call(a.set("plain", "p"))
    settle(redis_clean_url, b)  # a's own messages would drop b's copies after its reads
    assert await call(b.get("u1")) == "ann"
    assert await call(b.get("plain")) == "p"
    result = b.close()  # b's process ends; its disk stays
    if inspect.isawaitable(result):
        await result
    await call(a.invalidate_tags("users"))  # nobody on b's host hears it
    again = chained(redis_clean_url, "b", redis_options=logged)  # b restarts, disk warm
    assert on_disk(again, "u1")
    misses = again._stats().l2.tag_misses
    assert await call(again.get("u1")) is None  # its tag version in Redis moved on
    assert again._stats().l2.tag_misses >= misses + 1
    assert not on_disk(again, "u1")  # dropped, not re-checked at every read
    hits = again._stats().l2.hits
    assert await call(again.get("plain")) == "p"  # the rest of the warm disk serves at once
    assert again._stats().l2.hits == hits


async def test_a_decorated_function_over_l1_disk_and_redis(
    chained: Callable[..., Any], redis_clean_url: str
) -> None:
    a = chained(redis_clean_url, "a")
    calls: list[int] = []
    if a._asyncio:

        @a.cache(ttl=30, tags=["sq"])
        async def square(n: int) -> int:
            calls.append(n)
            return n * n

    else:

        @a.cache(ttl=30, tags=["sq"])
        def square(n: int) -> int:
            calls.append(n)
            return n * n

    assert await call(square(3)) == 9
    assert calls == [3]
    assert a._stats().disk.entries == 1  # the load's result went to disk as well
    forget_l1(a)
    l2_misses = a._stats().l2.misses
    assert await call(square(3)) == 9  # from disk: neither the function nor Redis ran
    assert calls == [3]
    assert a._stats().l2.misses == l2_misses
    await call(a.invalidate_tags("sq"))
    assert a._stats().disk.entries == 0
    assert await call(square(3)) == 9
    assert calls == [3, 3]


async def test_a_copy_invalidated_by_a_skipped_message_is_not_served_from_disk(
    chained: Callable[..., Any], redis_clean_url: str, settle: Callable[..., None]
) -> None:
    """A process that could not reach Redis announces its delete as skipped: until its
    replay, older copies are refused (tombstones), on disk as in L1 and Redis."""
    b = chained(redis_clean_url, "b")
    await call(b.set("k", "old"))
    envelope = b._disk.envelope(b.namespace, "k")
    assert envelope is not None
    client = redis.Redis.from_url(redis_clean_url)
    message = Message("elsewhere", "k", b.namespace, ("k",), skipped=True)
    client.publish(b._tier.channel, message.encode())
    settle(redis_clean_url, b)
    assert not on_disk(b, "k")
    # Another worker of the host, not yet told, writes its older copy back to the shared disk.
    b._disk.put(b.namespace, "k", envelope, 60)
    assert await call(b.get("k")) is None
    assert b._stats().l2.tombstone_misses >= 1


async def open_breaker(cache: Any) -> bool:
    """One failing read of `cache`; True once its breaker is open."""
    if cache._stats().l2.breaker == "open":
        return True
    await call(cache.get("x"))
    return False


async def test_after_an_outage_disk_copies_older_than_it_are_distrusted(
    chained: Callable[..., Any], fresh_redis_server: RedisServer, settle: Callable[..., None]
) -> None:
    """The recovery grace: another process's delete may be waiting for its replay, so a
    disk copy written before the outage this process saw is not served (as a Redis value)."""
    url = fresh_redis_server.url
    grace = RedisOptions(
        socket_timeout=0.05,
        connect_timeout=0.05,
        retries=1,
        breaker=BreakerConfig(failure_threshold=3, recovery_time=0.3),
        recovery_grace=3.0,
    )
    a, b = chained(url, "a", redis_options=grace), chained(url, "b", redis_options=grace)
    await call(a.set("k", "old"))
    settle(url, b)  # a's message applied: b's read is kept
    assert await call(b.get("k")) == "old"
    forget_l1(b)  # evicted from L1: the disk copy is what b holds
    assert on_disk(b, "k")
    fresh_redis_server.pause()
    try:
        assert await until(lambda: open_breaker(a))
        await call(a.delete("k"))  # skipped: kept by a for replay
        assert await until(lambda: open_breaker(b))
        misses = b._stats().l2.grace_misses
        assert await call(b.get("k")) is None  # the disk copy predates b's outage
        assert b._stats().l2.grace_misses == misses + 1
        assert not on_disk(b, "k")
    finally:
        fresh_redis_server.resume()


async def test_redis_down_the_disk_obeys_the_l1_stale_rules(
    chained: Callable[..., Any], fresh_redis_server: RedisServer, wait_until: Callable[..., bool]
) -> None:
    a = chained(fresh_redis_server.url, "a", redis_options=FAST)
    for i in range(20):
        await call(a.set(f"k{i}", i))
    assert a._stats().disk.entries == 20
    fresh_redis_server.kill()
    assert wait_until(lambda: not a._stats().l2.coherent, timeout=5)
    # Messages may be lost from now on: L1 is flushed (strict default), and so is the disk.
    assert len(a) == 0
    assert wait_until(lambda: a._stats().disk.entries == 0)
    assert await call(a.get("k0")) is None
    await call(a.set("during", 1))  # kept in L1 for degraded_l1_ttl, never on disk
    assert not on_disk(a, "during")
    fresh_redis_server.restart()
    assert wait_until(lambda: a._stats().l2.coherent, timeout=10)
    await call(a.set("after", 1))
    assert on_disk(a, "after")


async def test_stale_if_error_keeps_l1_but_not_the_disk(
    chained: Callable[..., Any], fresh_redis_server: RedisServer, wait_until: Callable[..., bool]
) -> None:
    a = chained(fresh_redis_server.url, "a", redis_options=FAST, stale_if_error=30)
    await call(a.set("k", "v"))
    forget_l1(a)
    await call(a.set("in_l1", "v"))
    fresh_redis_server.kill()
    assert wait_until(lambda: not a._stats().l2.coherent, timeout=5)
    assert await call(a.get("in_l1")) == "v"  # L1 serves for stale_if_error
    assert await call(a.get("k")) is None  # the disk copy is not served while degraded
    assert wait_until(lambda: a._stats().disk.entries == 0)  # and dropped: messages lost


async def test_a_warm_disk_serves_a_new_process_at_once(
    chained: Callable[..., Any], redis_clean_url: str
) -> None:
    a = chained(redis_clean_url, "shared")
    await call(a.set_many({f"k{i}": i for i in range(50)}))
    worker = chained(redis_clean_url, "shared")  # a second worker on the same directory
    assert [await call(worker.get(f"k{i}")) for i in range(50)] == list(range(50))
    assert worker._stats().l2.hits == 0  # every value came from the shared disk


async def test_workers_sharing_a_disk_keep_each_others_writes(
    chained: Callable[..., Any], redis_clean_url: str, settle: Callable[..., None]
) -> None:
    w1, w2 = chained(redis_clean_url, "host1"), chained(redis_clean_url, "host1")
    elsewhere = chained(redis_clean_url, "host2")
    await call(w1.set("k", "v1"))
    settle(redis_clean_url, w2, elsewhere)  # w2 heard w1's write: the shared copy stays
    assert on_disk(w2, "k")
    assert await call(w2.get("k")) == "v1"
    assert w2._stats().l2.hits == 0  # from the shared disk
    await call(elsewhere.set("k", "v2"))  # another host's write: host1's copy is stale
    settle(redis_clean_url, w1, w2)
    assert not on_disk(w1, "k")
    assert not w2._store.contains(w2._prefix, "k")
    assert await call(w2.get("k")) == "v2"


async def test_corrupt_disk_bytes_are_a_counted_miss_then_redis(
    chained: Callable[..., Any], redis_clean_url: str
) -> None:
    a = chained(redis_clean_url, "a")
    await call(a.set("k", "v"))
    a._disk.put(a.namespace, "k", b"\x00garbage", 60)
    forget_l1(a)
    assert await call(a.get("k")) == "v"  # a counted miss on disk, then Redis
    assert a._stats().disk.corrupt == 1
    assert a._stats().l2.hits == 1
    assert on_disk(a, "k")  # Redis's value replaced the bad bytes


async def test_a_value_the_disk_refuses_does_not_leave_the_older_one_there(
    chained: Callable[..., Any], redis_clean_url: str, tmp_path: Path
) -> None:
    small = DiskOptions(tmp_path / "small", max_bytes=1 << 16)
    a = chained(redis_clean_url, "small", disk_options=small)
    await call(a.set("k", "old"))
    assert on_disk(a, "k")
    big = os.urandom(1 << 16)  # incompressible, heavier than half the bound: refused
    await call(a.set("k", big))
    assert not on_disk(a, "k")
    assert a._stats().disk.rejected == 1
    forget_l1(a)
    assert await call(a.get("k")) == big  # from Redis, never the older disk copy


async def test_health_reports_the_disk_tier(
    chained: Callable[..., Any], redis_clean_url: str
) -> None:
    a = chained(redis_clean_url, "a")
    await call(a.set("k", "v"))
    health = await call(a.health())
    disk = health.tiers["disk"]
    assert disk.status == "ok"
    assert disk.disk_free is not None
    assert disk.disk_free > 0
    assert disk.used_bytes is not None
    assert 0 < disk.used_bytes < disk.max_bytes
    assert set(health.tiers) == {"l1", "redis", "disk"}


def test_disk_and_redis_need_l1(cache_cls: type[Any], tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="needs l1=True"):
        cache_cls(redis="redis://127.0.0.1:1", disk=tmp_path / "d", l1=False)
    assert not (tmp_path / "d").exists() or not any((tmp_path / "d").iterdir())


async def test_sync_durability_in_the_chain(
    chained: Callable[..., Any], redis_clean_url: str, tmp_path: Path
) -> None:
    options = DiskOptions(tmp_path / "durable", durability="sync")
    a = chained(redis_clean_url, "durable", disk_options=options)
    await call(a.set("k", "v"))
    worker = chained(redis_clean_url, "durable", disk_options=options)
    assert await call(worker.get("k")) == "v"
    assert worker._stats().l2.hits == 0
