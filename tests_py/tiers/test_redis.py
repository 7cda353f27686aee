"""The Redis tier on a real standalone server, through Cache and AsyncCache alike.

Two caches on one server stand for two processes: each has its own L1 and subscriber.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import pytest
import redis

import stratacache
from stratacache.tiers.redis.resp_protocol import FOLD_MAX

from ..conftest import call

pytestmark = pytest.mark.usefixtures("redis_clean_url")


def raw(url: str) -> redis.Redis:
    return redis.Redis.from_url(url)


async def test_a_value_written_by_one_process_is_read_by_another(
    tiered: Callable[..., Any], redis_url: str, settle: Callable[..., None]
) -> None:
    a, b = tiered(redis_url), tiered(redis_url)
    value = {"id": 7, "tags": ("x", "y"), "blob": b"\x00\xff", "n": None}
    await call(a.set("user:7", value))
    # a's invalidation reaches b after the write; a read racing it is not kept in L1.
    settle(redis_url, b)
    assert await call(b.get("user:7")) == value
    assert b._stats().l2.hits == 1
    # b kept it in L1: the next read does not reach Redis.
    assert await call(b.get("user:7")) == value
    assert b._stats().l2.hits == 1
    assert b._stats().hits == 1


async def test_backfill_keeps_only_the_ttl_left(
    tiered: Callable[..., Any], redis_url: str, settle: Callable[..., None]
) -> None:
    a, b = tiered(redis_url), tiered(redis_url)
    await call(a.set("k", 1, ttl=10))
    await call(a.set("forever", 2, ttl=math.inf))
    settle(redis_url, b)
    assert await call(b.get("k")) == 1
    left = await call(b.ttl("k"))
    assert left is not None
    assert 8 < left <= 10
    assert await call(b.get("forever")) == 2
    assert await call(b.ttl("forever")) == math.inf
    assert raw(redis_url).pttl(b"sc:\x1fforever") == -1


async def test_ttl_zero_removes_the_value_everywhere(
    tiered: Callable[..., Any], redis_url: str, wait_until: Callable[..., bool]
) -> None:
    a, b = tiered(redis_url), tiered(redis_url)
    await call(a.set("k", 1))
    assert await call(b.get("k")) == 1
    await call(a.set("k", 2, ttl=0))
    assert wait_until(lambda: not b._store.contains(b._prefix, "k"))
    assert await call(b.get("k")) is None
    assert raw(redis_url).exists(b"sc:\x1fk") == 0


async def test_delete_reaches_the_other_process_l1(
    tiered: Callable[..., Any], redis_url: str, wait_until: Callable[..., bool]
) -> None:
    a, b = tiered(redis_url), tiered(redis_url)
    await call(a.set("k", "v"))
    assert await call(b.get("k")) == "v"
    assert await call(a.delete("k")) is True
    assert wait_until(lambda: not b._store.contains(b._prefix, "k"))
    assert await call(b.get("k", "gone")) == "gone"
    assert await call(a.delete("k")) is False


async def test_overwrite_reaches_the_other_process_l1(
    tiered: Callable[..., Any],
    redis_url: str,
    settle: Callable[..., None],
    wait_until: Callable[..., bool],
) -> None:
    a, b = tiered(redis_url), tiered(redis_url)
    # An AsyncCache subscribes in the background: without this, a's first write could be
    # published before b listens, and b would count one message fewer (1 run in ~12).
    assert b._subscriber.connected.wait(10)
    settle(redis_url, a, b)
    seen_a, seen_b = a._stats().l2.invalidations_received, b._stats().l2.invalidations_received
    await call(a.set("k", 1))
    assert await call(b.get("k")) == 1
    await call(a.set("k", 2))
    settle(redis_url, b)
    assert not b._store.contains(b._prefix, "k")
    assert await call(b.get("k")) == 2
    assert a._stats().l2.invalidations_received - seen_a <= 1  # the marker at most: never its own
    # Two writes and one settle marker; settle sees the marker applied a moment before the
    # subscriber counts it.
    assert wait_until(lambda: b._stats().l2.invalidations_received - seen_b == 3)


async def test_many_calls_use_mget_and_pipelines(
    tiered: Callable[..., Any], redis_url: str, settle: Callable[..., None]
) -> None:
    a, b = tiered(redis_url), tiered(redis_url)
    items = {f"k{i}": i for i in range(50)}
    await call(a.set_many(items, ttl=30))
    await call(b.set("local", -1))
    before = raw(redis_url).info("commandstats").get("cmdstat_mget", {}).get("calls", 0)
    got = await call(b.get_many([*items, "local", "absent"]))
    after = raw(redis_url).info("commandstats")["cmdstat_mget"]["calls"]
    assert got == items | {"local": -1}
    assert after - before == 1
    assert await call(b.delete_many(["k1", "k2", "absent"])) == 2
    settle(redis_url, a)
    assert await call(a.get("k1")) is None


async def test_a_large_set_many_lands_whole_in_bounded_pipelines(
    tiered: Callable[..., Any], redis_url: str
) -> None:
    # One pipeline of 20,000 SETs outlived the async call's deadline: it landed, yet counted
    # as failed, and its announcement overflowed the replay buffer (which clears L1).
    a, b = tiered(redis_url), tiered(redis_url, l1=False)
    items = {f"k{i}": i for i in range(20_000)}
    await call(a.set_many(items))
    l2 = a._stats().l2
    assert (l2.sets, l2.errors, l2.skipped_writes, l2.invalidations_overflowed) == (20_000, 0, 0, 0)
    assert await call(a.get("k19999")) == 19_999
    keys = list(items)
    for i in range(0, len(keys), 5000):
        part = keys[i : i + 5000]
        assert await call(b.get_many(part)) == {k: items[k] for k in part}


async def test_without_l1_every_read_goes_to_redis(
    tiered: Callable[..., Any], redis_url: str
) -> None:
    a = tiered(redis_url, l1=False)
    await call(a.set("k", [1, 2]))
    assert len(a) == 0
    assert await call(a.get("k")) == [1, 2]
    assert await call(a.get("k")) == [1, 2]
    assert a._stats().l2.hits == 2
    assert await call(a.contains("k"))
    assert not await call(a.contains("nope"))


async def test_namespaces_are_separate_and_flushed_alone(
    tiered: Callable[..., Any], redis_url: str
) -> None:
    users = tiered(redis_url, namespace="users")
    items = tiered(redis_url, namespace="items")
    await call(users.set("1", "ann"))
    await call(items.set("1", "chair"))
    assert await call(users.clear(namespace="users")) >= 1
    assert await call(users.get("1")) is None
    assert await call(items.get("1")) == "chair"
    keys = sorted(raw(redis_url).scan_iter(match=b"sc:*"))
    assert keys == [b"sc:items\x1f1"]


async def test_tags_invalidate_every_process(
    tiered: Callable[..., Any], redis_url: str, settle: Callable[..., None]
) -> None:
    a, b = tiered(redis_url), tiered(redis_url)
    await call(a.set("u1", "ann", tags=["users", "team:1"]))
    await call(a.set("u2", "bob", tags=["users"]))
    await call(a.set("p1", "plan", tags=["plans"]))
    assert await call(b.get("u1")) == "ann"
    await call(b.invalidate_tags("team:1"))
    settle(redis_url, a)
    assert await call(a.get("u1")) is None  # a's L1 copy dropped, Redis copy's version stale
    assert await call(b.get("u2")) == "bob"
    await call(a.invalidate_tags("users"))
    settle(redis_url, b)
    assert await call(b.get("u2")) is None
    assert await call(b.get("p1")) == "plan"
    assert b._stats().l2.tag_misses >= 1


async def test_pattern_invalidation_uses_redis_globs(
    tiered: Callable[..., Any], redis_url: str, wait_until: Callable[..., bool]
) -> None:
    a, b = tiered(redis_url), tiered(redis_url)
    await call(a.set_many({"user:1": 1, "user:2": 2, "user:10": 10, "item:1": 3}))
    assert await call(b.get_many(["user:1", "user:2", "user:10", "item:1"])) != {}
    assert await call(a.invalidate_pattern("user:?")) == 2
    assert wait_until(lambda: not b._store.contains(b._prefix, "user:1"))
    assert await call(b.get_many(["user:1", "user:2", "user:10", "item:1"])) == {
        "user:10": 10,
        "item:1": 3,
    }


@pytest.mark.parametrize(
    "payload",
    [b"", b"garbage", b"SC\x01", b"\x00" * 64, b"plain text stored by another app"],
)
async def test_foreign_or_corrupt_bytes_are_a_counted_miss(
    tiered: Callable[..., Any], redis_url: str, payload: bytes
) -> None:
    a = tiered(redis_url)
    raw(redis_url).set(b"sc:\x1fk", payload)
    assert await call(a.get("k", "default")) == "default"
    assert a._stats().l2.corrupt == 1


async def test_truncated_or_moved_envelopes_are_a_counted_miss(
    tiered: Callable[..., Any], redis_url: str
) -> None:
    # Signed envelopes bind the key: a valid envelope copied under another key is refused.
    a = tiered(redis_url, l1=False, codec=stratacache.Codec(signing_key=b"s" * 32))
    await call(a.set("k", {"big": "x" * 5000}))
    client = raw(redis_url)
    data = client.get(b"sc:\x1fk")
    assert data is not None
    client.set(b"sc:\x1ftruncated", data[: len(data) // 2])
    client.set(b"sc:\x1fmoved", data)
    client.set(b"sc:\x1fflipped", data[:-1] + bytes([data[-1] ^ 1]))
    assert await call(a.get("k")) == {"big": "x" * 5000}
    assert await call(a.get("truncated")) is None
    assert await call(a.get("moved")) is None
    assert await call(a.get("flipped")) is None
    assert a._stats().l2.corrupt == 3


async def test_unserializable_values_raise_and_store_nothing(
    tiered: Callable[..., Any], redis_url: str
) -> None:
    a = tiered(redis_url)
    with pytest.raises(TypeError, match="lock"):
        await call(a.set("k", {"lock": __import__("threading").Lock()}))
    assert await call(a.get("k")) is None
    assert raw(redis_url).exists(b"sc:\x1fk") == 0


async def test_each_namespace_can_have_its_own_codec(
    tiered: Callable[..., Any], redis_url: str
) -> None:
    key = bytes(range(32))
    codecs = {"secrets": stratacache.Codec(encryption_keys=key), None: stratacache.Codec()}
    a = tiered(redis_url, namespace="secrets", codec=codecs, l1=False)
    await call(a.set("token", "s3cr3t"))
    assert await call(a.get("token")) == "s3cr3t"
    assert b"s3cr3t" not in (raw(redis_url).get(b"sc:secrets\x1ftoken") or b"s3cr3t")
    plain = tiered(redis_url, namespace="secrets", l1=False)  # no key: refused, counted
    assert await call(plain.get("token")) is None
    assert plain._stats().l2.corrupt == 1
    with pytest.raises(TypeError, match="codec"):
        tiered(redis_url, codec={"x": "not a codec"})


async def test_concurrent_async_misses_leave_together(redis_url: str) -> None:
    import asyncio  # noqa: PLC0415

    cache = stratacache.AsyncCache(redis=redis_url, l1=False)
    try:
        await cache.set_many({f"k{i}": i for i in range(100)})
        stats = raw(redis_url).info("commandstats")
        mgets = stats.get("cmdstat_mget", {}).get("calls", 0)
        gets = stats.get("cmdstat_get", {}).get("calls", 0)
        got = await asyncio.gather(*(cache.get(f"k{i % 100}") for i in range(300)))
        stats = raw(redis_url).info("commandstats")
        assert got == [i % 100 for i in range(300)]
        # The first GET goes out at once (an idle connection); the rest of the turn's leave
        # together as MGETs of at most FOLD_MAX keys, not as 299 commands.
        sent = stats["cmdstat_mget"]["calls"] - mgets
        sent += stats.get("cmdstat_get", {}).get("calls", 0) - gets
        assert 1 <= sent <= 1 + -(-299 // FOLD_MAX)
    finally:
        await cache.close()


def test_a_dropped_cache_stops_its_subscriber(redis_url: str) -> None:
    import gc  # noqa: PLC0415
    import threading  # noqa: PLC0415

    def subscribers() -> int:
        return sum(t.name == "stratacache-invalidation" for t in threading.enumerate())

    before = subscribers()
    cache = stratacache.Cache(redis=redis_url)
    cache.set("k", 1)
    assert subscribers() == before + 1
    del cache
    gc.collect()
    deadline = time.monotonic() + 5
    while subscribers() > before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert subscribers() == before


async def test_ttl_falls_back_to_redis(tiered: Callable[..., Any], redis_url: str) -> None:
    a = tiered(redis_url, l1=False)
    await call(a.set("k", 1, ttl=30))
    await call(a.set("forever", 1, ttl=math.inf))
    left = await call(a.ttl("k"))
    assert left is not None
    assert 25 < left <= 30
    assert await call(a.ttl("forever")) == math.inf
    assert await call(a.ttl("absent")) is None
