"""Foreign bytes in the tier's internal keys (tag versions, locks), written by a raw client:
a counted miss or a logged repair, never an exception (issue 11, item 9)."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from typing import Any

import pytest
import redis

import stratacache

from ..conftest import call
from .test_loads import counted, is_async

pytestmark = pytest.mark.usefixtures("redis_clean_url")

FOREIGN = [b"abc", b"1.5", b" 7", b"1_000", b"99999999999999999999", b""]


def raw(url: str) -> redis.Redis:
    return redis.Redis.from_url(url)


@pytest.mark.parametrize("payload", FOREIGN)
async def test_a_foreign_tag_version_is_a_counted_miss_not_an_error(
    tiered: Callable[..., Any], redis_url: str, payload: bytes
) -> None:
    a, b = tiered(redis_url), tiered(redis_url, l1=False)
    await call(a.set("k", "v", tags=["t"]))
    raw(redis_url).set(b"sc:tag:t", payload)
    assert await call(b.get("k", "default")) == "default"
    stats = b._stats().l2
    assert stats.tag_misses == 1
    assert stats.corrupt == 1


@pytest.mark.parametrize("payload", FOREIGN)
async def test_a_tagged_set_repairs_a_foreign_version(
    tiered: Callable[..., Any],
    redis_url: str,
    payload: bytes,
    caplog: pytest.LogCaptureFixture,
) -> None:
    a, b = tiered(redis_url), tiered(redis_url, l1=False)
    raw(redis_url).set(b"sc:tag:t", payload)
    with caplog.at_level(logging.WARNING, logger="stratacache"):
        await call(a.set("k", "v", tags=["t"]))
    assert "foreign bytes" in caplog.text
    assert int(raw(redis_url).get(b"sc:tag:t") or b"") > 0  # an integer again
    assert await call(b.get("k")) == "v"
    assert a._stats().l2.corrupt == 1


async def test_invalidate_tags_replaces_a_foreign_version(
    tiered: Callable[..., Any], redis_url: str, settle: Callable[..., None]
) -> None:
    a, b = tiered(redis_url), tiered(redis_url)
    await call(a.set("k", "v", tags=["t"]))
    settle(redis_url, b)
    assert await call(b.get("k")) == "v"  # in b's L1 now
    client = raw(redis_url)
    client.set(b"sc:tag:t", b"not a number")
    await call(a.invalidate_tags("t"))
    assert int(client.get(b"sc:tag:t") or b"") > 0
    settle(redis_url, b)
    assert await call(b.get("k")) is None  # the bump was published, not skipped
    assert a._stats().l2.skipped_writes == 0


async def test_a_tag_key_of_another_type_is_repaired(
    tiered: Callable[..., Any], redis_url: str
) -> None:
    a = tiered(redis_url, l1=False)
    client = raw(redis_url)
    client.hset(b"sc:tag:t", "f", "1")
    await call(a.set("k", "v", tags=["t"]))  # MGET reads a hash as absent: version 0
    assert await call(a.get("k")) == "v"
    await call(a.invalidate_tags("t"))  # INCR would refuse a hash
    assert client.type(b"sc:tag:t") == b"string"
    assert await call(a.get("k")) is None
    assert a._stats().l2.skipped_writes == 0


async def test_a_tagged_decorated_call_survives_a_foreign_version(
    tiered: Callable[..., Any], redis_url: str
) -> None:
    a = tiered(redis_url)
    load, calls = counted(is_async(a))
    f = a.cache(tags=["t"])(load)
    raw(redis_url).set(b"sc:tag:t", b"garbage")
    assert await call(f(2)) == 20
    assert await call(f(2)) == 20
    assert calls == [2]


async def test_a_lock_without_expiry_is_taken_over(
    tiered: Callable[..., Any], redis_url: str
) -> None:
    a = tiered(redis_url, lock_timeout=2, l1=False)
    load, _ = counted(is_async(a))
    f = a.cache(load)
    client = raw(redis_url)
    await call(f(0))  # learn the lock key's name from the one it used
    lock_keys = list(client.scan_iter(b"sc:lock:*"))
    assert lock_keys == []  # released
    rkeys = [k for k in client.scan_iter(b"sc:*") if b"\x1f" in k]
    assert len(rkeys) == 1
    client.delete(rkeys[0])
    client.set(b"sc:lock:" + rkeys[0], b"foreign")  # no TTL: never one of ours
    assert await call(f(0)) == 1  # loaded again, without waiting for the foreign lock
    assert a._stats().l2.lock_waits == 0
    assert a._stats().l2.corrupt == 1
    assert client.exists(b"sc:lock:" + rkeys[0]) == 0


def mutated_envelopes(seed: int = 1, tries: int = 5000) -> list[bytes]:
    """Envelopes of the default codec with 1-3 random bytes changed (unsigned: anyone who
    can write to Redis can plant them)."""
    rng = random.Random(seed)
    good = stratacache.Codec().encode_entry(
        "sc:\x1fk", {"a": [1, "x" * 20]}, ttl_ms=60_000, tags={"team": 1}
    )
    out = []
    for _ in range(tries):
        data = bytearray(good)
        for _ in range(rng.randrange(1, 4)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        out.append(bytes(data))
    return out


async def test_mutated_envelopes_are_a_miss_or_a_value_never_an_error(
    tiered: Callable[..., Any], redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    a = tiered(redis_url, l1=False)
    client = raw(redis_url)
    for data in mutated_envelopes():
        client.set(b"sc:\x1fk", data)
        await call(a.get("k"))  # a value or None; raising fails the test
    assert a._stats().l2.corrupt > 0


async def test_a_value_key_of_another_type_is_replaced_by_a_load(
    tiered: Callable[..., Any], redis_url: str
) -> None:
    a = tiered(redis_url, l1=False)
    load, calls = counted(is_async(a))
    f = a.cache(load)
    client = raw(redis_url)
    assert await call(f(1)) == 10
    (rkey,) = [k for k in client.scan_iter(b"sc:*") if b"\x1f" in k]
    client.delete(rkey)
    client.rpush(rkey, b"foreign")  # GET on it would be a WRONGTYPE error on every call
    assert await call(f(1)) == 11
    assert client.type(rkey) == b"string"
    assert await call(f(1)) == 11  # stored again: no third load
    assert calls == [1, 1]
    assert a._stats().l2.corrupt == 1
