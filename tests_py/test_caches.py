"""Behaviour of Cache and AsyncCache, written once and run over both classes and every policy."""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import math
import threading
import time
from typing import Any

import pytest

import stratacache
from stratacache import ConfigError, InvalidTTLError, ValueTooLargeError

from .conftest import call


async def test_set_get_delete_roundtrip(make_cache: Any) -> None:
    c = make_cache(max_entries=100)
    value = {"a": [1, 2]}
    await call(c.set("k", value))
    assert await call(c.get("k")) is value  # an L1 hit returns the stored object itself
    assert await call(c.delete("k")) is True
    assert await call(c.delete("k")) is False
    assert await call(c.get("k", "dflt")) == "dflt"


async def test_none_is_a_value(make_cache: Any) -> None:
    c = make_cache(max_entries=10)
    await call(c.set("k", None))
    assert await call(c.get("k", "missing")) is None
    assert await call(c.contains("k")) is True
    assert await call(c.contains("other")) is False
    stats = await call(c.stats())
    assert (stats.hits, stats.misses) == (1, 0)  # contains() counts nothing


async def test_many_operations(make_cache: Any) -> None:
    c = make_cache(max_entries=100)
    await call(c.set_many({"a": 1, "b": None, "c": 3}))
    assert await call(c.get_many(["a", "b", "x"])) == {"a": 1, "b": None}
    assert await call(c.delete_many(["a", "x"])) == 1
    assert await call(c.get_many(["a", "c"])) == {"c": 3}


async def test_ttl_expiry_and_introspection(make_cache: Any) -> None:
    c = make_cache(max_entries=10)
    await call(c.set("short", 1, ttl=0.05))
    await call(c.set("forever", 2))
    remaining = await call(c.ttl("short"))
    assert 0 < remaining <= 0.05
    assert await call(c.ttl("forever")) == math.inf
    assert await call(c.ttl("missing")) is None
    deadline = time.monotonic() + 5
    while await call(c.contains("short")) and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    assert await call(c.get("short", "gone")) == "gone"
    assert await call(c.get("forever")) == 2


async def test_default_ttl_and_overrides(make_cache: Any) -> None:
    c = make_cache(max_entries=10, default_ttl=100)
    await call(c.set("a", 1))
    assert 99 < await call(c.ttl("a")) <= 100
    await call(c.set("b", 1, ttl=math.inf))
    assert await call(c.ttl("b")) == math.inf
    await call(c.set("a", 2, ttl=0))  # zero TTL: stores nothing, removes the old value
    assert await call(c.contains("a")) is False


async def test_touch_restarts_ttl(make_cache: Any) -> None:
    c = make_cache(max_entries=10)
    await call(c.set("a", 1, ttl=1))
    assert await call(c.touch("a", ttl=500)) is True
    assert await call(c.ttl("a")) > 400
    assert await call(c.touch("missing", ttl=5)) is False


@pytest.mark.parametrize("bad", [-1, -0.001, math.nan])
async def test_invalid_ttl_raises_and_keeps_old_value(make_cache: Any, bad: float) -> None:
    c = make_cache(max_entries=10)
    await call(c.set("a", "old"))
    with pytest.raises(InvalidTTLError, match="ttl"):
        await call(c.set("a", "new", ttl=bad))
    assert await call(c.get("a")) == "old"


@pytest.mark.parametrize("bad", ["10", True, [1]])
async def test_ttl_of_wrong_type_is_a_type_error(make_cache: Any, bad: Any) -> None:
    c = make_cache(max_entries=10)
    with pytest.raises(TypeError, match="ttl"):
        await call(c.set("a", 1, ttl=bad))


@pytest.mark.parametrize("bad_key", [1, b"bytes", None, ("t",)])
async def test_non_str_keys_are_a_type_error(make_cache: Any, bad_key: Any) -> None:
    c = make_cache(max_entries=10)
    with pytest.raises(TypeError, match="key must be str"):
        await call(c.set(bad_key, 1))
    with pytest.raises(TypeError, match="key must be str"):
        await call(c.get(bad_key))


async def test_unicode_and_long_keys(make_cache: Any) -> None:
    c = make_cache(max_entries=10)
    long_key = "k" * 10_000
    await call(c.set("ключ-🔑", 1))
    await call(c.set(long_key, 2))
    assert await call(c.get("ключ-🔑")) == 1
    assert await call(c.get(long_key)) == 2


async def test_namespaces_isolate_and_clear(cache_cls: Any) -> None:
    a = cache_cls(max_entries=10, namespace="a")
    await call(a.set("k", 1))
    assert a.namespace == "a"
    assert await call(a.clear(namespace="b")) == 0
    assert await call(a.clear(namespace="a")) == 1
    assert await call(a.get("k")) is None


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"max_entries": 0}, ConfigError),
        ({"max_entries": -5}, ConfigError),
        ({"max_bytes": 0}, ConfigError),
        ({"max_entries": 1.5}, TypeError),
        ({"policy": "nope"}, ConfigError),
        ({"policy": 3}, TypeError),
        ({"default_ttl": -1}, InvalidTTLError),
        ({"namespace": "a\x1fb"}, ConfigError),
        ({"namespace": 5}, TypeError),
        ({"shards": 3}, ConfigError),
        ({"weigher": 5, "max_bytes": 10}, TypeError),
    ],
)
def test_bad_construction_arguments(cache_cls: Any, kwargs: dict[str, Any], error: type) -> None:
    with pytest.raises(error):
        cache_cls(**kwargs)


async def test_capacity_bound_holds(make_cache: Any) -> None:
    c = make_cache(max_entries=50)
    for i in range(1000):
        await call(c.set(f"k{i}", i))
    stats = await call(c.stats())
    assert len(c) <= 50
    assert stats.entries == len(c)
    assert stats.evicted_size == 1000 - len(c)


async def test_byte_bound_weighs_values(make_cache: Any) -> None:
    c = make_cache(max_bytes=20_000)
    for i in range(200):
        await call(c.set(f"k{i}", "x" * 500))
    stats = await call(c.stats())
    assert 0 < stats.bytes <= 20_000
    assert stats.entries < 200


async def test_too_heavy_value_is_counted_not_stored(make_cache: Any) -> None:
    c = make_cache(max_bytes=1000)
    await call(c.set("big", "x" * 5000))
    assert await call(c.contains("big")) is False
    assert (await call(c.stats())).rejected == 1


async def test_too_heavy_value_raises_in_strict_mode(make_cache: Any) -> None:
    c = make_cache(max_bytes=1000, strict=True)
    with pytest.raises(ValueTooLargeError, match="bytes"):
        await call(c.set("big", "x" * 5000))


async def test_custom_weigher(make_cache: Any) -> None:
    c = make_cache(max_bytes=100, weigher=lambda v: 40)
    for i in range(10):
        await call(c.set(f"k{i}", i))
    assert len(c) == 2  # 40 + len(key) bytes each


async def test_stats_count_every_cause(make_cache: Any) -> None:
    c = make_cache(max_entries=2)
    await call(c.set("a", 1))
    await call(c.get("a"))
    await call(c.get("zz"))
    await call(c.set("b", 1))
    await call(c.set("c", 1))
    await call(c.delete("c"))
    s = await call(c.stats())
    assert (s.hits, s.misses, s.sets) == (1, 1, 3)
    assert s.evicted_size + s.evicted_explicit + s.entries == 3
    assert 0 < s.hit_ratio < 1


def test_reentrant_destructor_does_not_deadlock() -> None:
    # A value whose __del__ calls back into the cache: the engine must release its lock
    # before dropping replaced values.
    c = stratacache.Cache(max_entries=4)

    class CallsBack:
        def __del__(self) -> None:
            c.set("from-del", 1)

    c.set("k", CallsBack())
    c.set("k", "replacement")
    gc.collect()
    assert c.get("from-del") == 1


def test_threads_share_one_cache() -> None:
    c = stratacache.Cache(max_entries=1000)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(2000):
                key = f"k{(i * 7 + n) % 300}"
                c.set(key, key)
                v = c.get(key)
                assert v is None or v == key
        except BaseException as e:  # noqa: BLE001 - collected and re-raised below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert len(c) <= 300


def test_policies_are_listed_and_default_is_one_of_them() -> None:
    assert stratacache.DEFAULT_POLICY in stratacache.POLICIES
    assert stratacache.Cache().policy == stratacache.DEFAULT_POLICY


async def test_default_single_shard_holds_exactly_the_bound(make_cache: Any) -> None:
    c = make_cache(max_entries=20_000)
    for i in range(30_000):
        await call(c.set(f"k{i}", i))
    assert len(c) == 20_000


@pytest.mark.parametrize("bad", [1e15 * 1.5, 1e16, 1e17, 1e300])
async def test_a_ttl_beyond_the_range_is_refused_by_every_entry_point(
    make_cache: Any, bad: float
) -> None:
    c = make_cache(max_entries=10)
    await call(c.set("a", "old"))
    with pytest.raises(InvalidTTLError, match=r"<= 1e\+15 seconds, or math.inf"):
        await call(c.set("a", "new", ttl=bad))
    with pytest.raises(InvalidTTLError, match=r"<= 1e\+15"):
        await call(c.set_many({"a": "new"}, ttl=bad))
    with pytest.raises(InvalidTTLError, match=r"<= 1e\+15"):
        await call(c.touch("a", ttl=bad))
    with pytest.raises(InvalidTTLError, match=r"default_ttl must be >= 0 and <= 1e\+15"):
        make_cache(default_ttl=bad)
    with pytest.raises(InvalidTTLError, match=r"<= 1e\+15"):
        c.cache(ttl=bad)
    assert await call(c.get("a")) == "old"
    await call(c.set("a", "forever", ttl=math.inf))  # inf stays "never expires"
    await call(c.set("b", "longest", ttl=1e15))
    assert await call(c.ttl("a")) == math.inf
    assert await call(c.get("b")) == "longest"


@pytest.mark.parametrize("weigher", [None, len])
async def test_tags_without_a_tier_are_a_config_error(make_cache: Any, weigher: Any) -> None:
    c = make_cache(max_bytes=10_000, weigher=weigher) if weigher else make_cache()
    with pytest.raises(ConfigError, match="tags need a Redis tier"):
        await call(c.set("a", "x", tags=["t"]))
    assert await call(c.contains("a")) is False
    await call(c.set("a", "y", tags=None))  # no tags: an ordinary set
    await call(c.set("b", "z", ttl=5))
    assert await call(c.get("a")) == "y"
    with pytest.raises(TypeError, match="colour"):
        await call(c.set("a", "x", colour=1))


LONE = "ab\ud800c"  # a lone surrogate at index 2: no UTF-8 form


@pytest.mark.parametrize(
    "op",
    [
        lambda c: c.set(LONE, 1),
        lambda c: c.get(LONE),
        lambda c: c.delete(LONE),
        lambda c: c.contains(LONE),
        lambda c: c.get_many(["x", LONE]),
        lambda c: c.set_many({LONE: 1}),
        lambda c: c.touch(LONE),
        lambda c: c.ttl(LONE),
    ],
)
async def test_a_key_with_a_lone_surrogate_is_a_value_error_naming_its_index(
    make_cache: Any, op: Any
) -> None:
    c = make_cache()
    with pytest.raises(ValueError, match="lone surrogate at index 2") as info:
        await call(op(c))
    assert not isinstance(info.value, UnicodeError)
    assert LONE not in str(info.value)


async def test_ttls_accept_timedelta_everywhere(make_cache: Any) -> None:
    minute = dt.timedelta(minutes=1)
    c = make_cache()
    await call(c.set("a", 1, ttl=minute))
    assert 50 < await call(c.ttl("a")) <= 60
    await call(c.set_many({"b": 2}, ttl=dt.timedelta(seconds=30)))
    assert 20 < await call(c.ttl("b")) <= 30
    assert await call(c.touch("a", ttl=dt.timedelta(hours=1))) is True
    assert await call(c.ttl("a")) > 3000
    assert make_cache(default_ttl=minute).default_ttl == 60.0
    await call(c.set("z", 0, ttl=dt.timedelta(0)))  # 0 stores nothing
    assert await call(c.contains("z")) is False
    with pytest.raises(InvalidTTLError, match="ttl"):
        await call(c.set("a", 1, ttl=dt.timedelta(seconds=-1)))
    f = c.cache(ttl=minute)(lambda x: x)
    assert f.__stratacache_site__.ttl == 60.0


async def test_timedelta_ttl_through_the_weighing_setter(make_cache: Any) -> None:
    c = make_cache(max_bytes=100_000)
    await call(c.set("a", 1, ttl=dt.timedelta(seconds=90)))
    assert 80 < await call(c.ttl("a")) <= 90


async def test_async_cache_stats_is_synchronous_and_awaitable() -> None:
    c = stratacache.AsyncCache(max_entries=10)
    await c.set("a", 1)
    await c.get("a")
    snapshot = c.stats()  # no await: a metric collector's thread can call it
    assert isinstance(snapshot, stratacache.CacheStats)
    assert (snapshot.hits, snapshot.entries) == (1, 1)
    awaited = await c.stats()  # the coroutine-style call still works
    assert awaited.hits == 1
    from_thread = await asyncio.to_thread(c.stats)
    assert from_thread.entries == 1
