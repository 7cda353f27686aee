"""Dependency invalidation (issue 15): ``set(..., depends_on=...)`` and ``@cache(depends_on=)``.

Deleting a key deletes, transitively, what depends on it, from Redis and from every process's
L1; cycles end; fan-out is bounded and reported; Cluster keeps each key's edges in its slot.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
import redis
from redis.crc import key_slot

import stratacache
from stratacache.errors import ConfigError
from stratacache.testing.redis_servers import RedisClusterGroup
from stratacache.tiers.redis.deps import LINK, POP, edge_key

from ..conftest import call

pytestmark = pytest.mark.usefixtures("redis_clean_url")


def is_async(cache: Any) -> bool:
    return isinstance(cache, stratacache.AsyncCache)


async def chain(cache: Any) -> None:
    """a <- b <- c: b depends on a, c on b; plus an unrelated key."""
    await call(cache.set("a", 1))
    await call(cache.set("b", 2, depends_on=["a"]))
    await call(cache.set("c", 3, depends_on=("b",)))
    await call(cache.set("other", 4))


async def test_a_chain_is_invalidated_from_its_root_in_every_process(
    tiered: Callable[..., Any], redis_url: str, settle: Callable[..., None]
) -> None:
    a, b = tiered(redis_url), tiered(redis_url)  # two processes
    await chain(a)
    assert await call(b.get_many(["a", "b", "c"])) == {"a": 1, "b": 2, "c": 3}  # b's L1 now
    assert await call(a.delete("a")) is True
    settle(redis_url, a, b)
    assert await call(b.get_many(["a", "b", "c", "other"])) == {"other": 4}
    assert await call(a.get_many(["a", "b", "c", "other"])) == {"other": 4}
    assert a.stats().dependents_invalidated == 2
    client = redis.Redis.from_url(redis_url)
    try:
        edges = [k for k in client.keys("*") if b"dep:" in k]
        assert len(edges) == 2  # a's and b's, popped: each a tombstone for a retried call
        assert {client.type(k) for k in edges} == {b"string"}
        assert all(0 < client.pttl(k) <= 60_000 for k in edges)
        await call(a.set("b", 2, depends_on=["a"]))  # a new edge replaces the tombstone
        assert client.smembers(edges[0] if b"\x1fa}" in edges[0] else edges[1]) == {b"b"}
    finally:
        client.close()


async def test_deleting_a_leaf_leaves_its_dependencies(
    tiered: Callable[..., Any], redis_url: str
) -> None:
    a = tiered(redis_url)
    await chain(a)
    assert await call(a.delete_many(["c"])) == 1
    assert await call(a.get_many(["a", "b", "c"])) == {"a": 1, "b": 2}
    assert await call(a.delete_many(["b", "other"])) == 2
    assert await call(a.get("a")) == 1


async def test_a_cycle_ends(tiered: Callable[..., Any], redis_url: str) -> None:
    a = tiered(redis_url)
    await call(a.set("x", 1, depends_on=["y"]))
    await call(a.set("y", 2, depends_on=["z"]))
    await call(a.set("z", 3, depends_on=["x"]))
    await call(a.set("x", 1, depends_on=["y", "x"]))  # a self-edge too
    assert await call(a.delete("y")) is True
    assert await call(a.get_many(["x", "y", "z"])) == {}
    assert a.stats().dependents_invalidated == 2  # z and x, each once


async def test_fan_out_is_bounded_counted_and_logged(
    tiered: Callable[..., Any], redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    a = tiered(redis_url, dependency_limit=4)
    for i in range(6):  # root may have 4 dependents; the last two are refused
        await call(a.set(f"d{i}", i, depends_on=["root"]))
    assert await call(a.get_many([f"d{i}" for i in range(6)])) == {f"d{i}": i for i in range(4)}
    assert a.stats().dependency_links_refused == 2
    for i in range(4):  # each has one dependent of its own: 8 below root in all
        await call(a.set(f"e{i}", i, depends_on=[f"d{i}"]))
    with caplog.at_level(logging.WARNING, logger="stratacache"):
        removed = await call(a.delete_many(["root"]))
    assert removed == 4  # root was never set; 4 dependents reached, then the cap
    stats = a.stats()
    assert stats.dependency_walks_capped == 1
    assert stats.dependents_invalidated == 4
    assert any("limit of 4 dependents" in r.getMessage() for r in caplog.records)


async def test_a_full_edge_set_drops_dependents_that_are_gone(
    tiered: Callable[..., Any], redis_url: str, make_cache: Callable[..., Any]
) -> None:
    for c in (tiered(redis_url, dependency_limit=3), make_cache(dependency_limit=3)):
        for i in range(3):
            await call(c.set(f"d{i}", i, depends_on=["root"]))
        await call(c.set("d3", 3, depends_on=["root"]))  # full
        assert c.stats().dependency_links_refused == 1
        await call(c.delete("d1"))  # gone without a walk from root: its edge is dead
        await call(c.set("d3", 3, depends_on=["root"]))  # the dead edge makes room
        assert await call(c.get("d3")) == 3
        assert c.stats().dependency_links_refused == 1
        assert await call(c.delete_many(["root"])) == 3  # d0, d2, d3
        assert await call(c.get_many(["d0", "d2", "d3"])) == {}


async def test_edges_live_as_long_as_their_dependents(
    tiered: Callable[..., Any], redis_url: str
) -> None:
    a = tiered(redis_url)
    await call(a.set("short", 1, ttl=5, depends_on=["base"]))
    await call(a.set("long", 1, ttl=50, depends_on=["base"]))
    client = redis.Redis.from_url(redis_url)
    try:
        (edge,) = [k for k in client.keys("*") if b"dep:" in k]
        assert 45_000 < client.pttl(edge) <= 50_000
        await call(a.set("forever", 1, ttl=float("inf"), depends_on=["base"]))
        assert client.pttl(edge) == -1
        assert client.smembers(edge) == {b"short", b"long", b"forever"}
    finally:
        client.close()


async def test_cached_functions_depend_on_keys(
    tiered: Callable[..., Any], redis_url: str, settle: Callable[..., None]
) -> None:
    a, b = tiered(redis_url), tiered(redis_url)
    calls: list[int] = []

    def deps(uid: int) -> list[str]:
        return [f"user:{uid}"]

    if is_async(a):

        async def profile_async(uid: int) -> str:
            calls.append(uid)
            return f"profile {uid} #{len(calls)}"

        fn: Any = profile_async
    else:

        def profile(uid: int) -> str:
            calls.append(uid)
            return f"profile {uid} #{len(calls)}"

        fn = profile
    fa, fb = a.cache(depends_on=deps)(fn), b.cache(depends_on=deps)(fn)
    assert await call(fa(1)) == "profile 1 #1"
    assert await call(fb(1)) == "profile 1 #1"  # from Redis, now in b's L1
    assert await call(fa(2)) == "profile 2 #2"
    await call(a.delete("user:1"))  # the user changed: every process drops the profile
    settle(redis_url, a, b)
    assert await call(fb(1)) == "profile 1 #3"
    assert await call(fa(1)) == "profile 1 #3"
    assert await call(fa(2)) == "profile 2 #2"
    assert await call(fa.invalidate(2)) is True  # a function's entry is a key like any other


async def test_an_invalidation_during_the_call_reaches_the_result(
    tiered: Callable[..., Any], redis_url: str
) -> None:
    a, other = tiered(redis_url), tiered(redis_url)
    db = {"user": "old"}
    writes = ["new"]  # the first call's write lands while the view is computed
    if is_async(a):

        async def view_async(uid: int) -> str:
            seen = db["user"]
            if writes:
                db["user"] = writes.pop()
                await other.delete("user")
            return seen

        fn: Any = view_async
    else:

        def view(uid: int) -> str:
            seen = db["user"]
            if writes:
                db["user"] = writes.pop()
                other.delete("user")
            return seen

        fn = view
    f = a.cache(depends_on=lambda uid: ["user"])(fn)
    assert await call(f(1)) == "old"  # returned, but its fill was refused
    assert await call(f(1)) == "new"  # recomputed: the old view was never stored
    db["user"] = "newer"
    assert await call(f(1)) == "new"  # this one was stored


async def test_cluster_walks_dependencies_across_slots(
    tiered: Callable[..., Any], redis_cluster_clean: RedisClusterGroup, settle: Callable[..., None]
) -> None:
    url = redis_cluster_clean.url
    a, b = tiered(url), tiered(url)
    keys = [f"item:{i}" for i in range(40)]
    slots = {key_slot(a._tier.rkey("", k)) for k in keys}
    assert len(slots) > 10  # spread over many slots and all three primaries
    for i, key in enumerate(keys):  # item:0 <- item:1 <- ... and each also on "root"
        await call(a.set(key, i, depends_on=["root", *keys[i - 1 : i]] if i else ["root"]))
    assert len(await call(b.get_many(keys))) == 40
    assert await call(a.delete_many(["item:0"])) == 40  # the chain, level by level
    settle(redis_cluster_clean.primaries[0].url, b)
    assert await call(b.get_many(keys)) == {}
    for i, key in enumerate(keys):
        await call(a.set(key, i, depends_on=["root"]))
    assert await call(a.delete("root")) is True  # root itself was never set
    assert await call(a.get_many(keys)) == {}
    left = [k for n in redis_cluster_clean.primaries for k in n.command("KEYS", "*")]
    assert left  # the tombstones of the popped edge sets (60 s), and nothing else
    assert all(k.startswith("sc:dep:") for k in left)


@pytest.mark.parametrize(
    ("rest", "own_slot"),
    [
        (b"\x1fk", True),
        (b"ns\x1f{user:1}:orders", True),  # the value key's own hash tag
        (b"\x1fa}b", False),  # untagged, holding "}": no tag can name its slot
        (b"\x1f{}x", False),  # an empty tag is no tag
        (b"\x1f\xc3\xa9", True),
    ],
)
@pytest.mark.parametrize("prefix", [b"app:", b"{app}:", b""])
def test_edge_keys_share_the_slot_of_their_value_key(
    prefix: bytes, rest: bytes, own_slot: bool
) -> None:
    rkey = prefix + rest
    edge = edge_key(prefix, rkey)
    assert edge.startswith(prefix + b"dep:")
    assert edge != rkey
    assert (key_slot(edge) == key_slot(rkey)) is (own_slot or prefix == b"{app}:")


async def test_l1_only_caches_keep_edges_in_memory(make_cache: Callable[..., Any]) -> None:
    c = make_cache(dependency_limit=3)
    await chain(c)
    assert await call(c.delete("a")) is True
    assert await call(c.get_many(["a", "b", "c", "other"])) == {"other": 4}
    await call(c.set("x", 1, depends_on=["x"]))  # a cycle of one
    assert await call(c.delete_many(["x"])) == 1
    for i in range(5):
        await call(c.set(f"d{i}", i, depends_on=["root"]))
    stats = c.stats()
    assert stats.dependency_links_refused == 2
    assert stats.dependents_invalidated == 2
    assert await call(c.delete("root")) is True  # root was never set: its dependents were
    assert await call(c.get_many([f"d{i}" for i in range(5)])) == {}
    calls: list[int] = []

    def load(uid: int) -> int:
        calls.append(uid)
        return len(calls)

    if is_async(c):

        async def load_async(uid: int) -> int:
            return load(uid)

        f: Any = c.cache(depends_on=lambda uid: [f"u{uid}"])(load_async)
    else:
        f = c.cache(depends_on=lambda uid: [f"u{uid}"])(load)
    assert await call(f(1)) == 1
    assert await call(f(1)) == 1
    await call(c.delete("u1"))
    assert await call(f(1)) == 2


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        ("a", "depends_on must be an iterable of str keys, not str"),
        (5, "depends_on must be an iterable of str keys, not int"),
        ([1], "each depends_on key must be a str, not int"),
        ([b"a"], "each depends_on key must be a str, not bytes"),
    ],
)
async def test_bad_depends_on_raises(cache_cls: type[Any], bad: Any, match: str) -> None:
    c = cache_cls()
    with pytest.raises(TypeError, match=match):
        await call(c.set("k", 1, depends_on=bad))
    assert await call(c.get("k")) is None
    with pytest.raises(ValueError, match="lone surrogate"):
        await call(c.set("k", 1, depends_on=["\ud800"]))
    with pytest.raises(TypeError, match="depends_on must be a callable"):
        c.cache(depends_on=["a"])
    f = c.cache(depends_on=lambda x: bad)(_double_async if is_async(c) else _double)
    with pytest.raises(TypeError, match=match):
        await call(f(1))


async def test_bad_depends_on_raises_on_a_redis_tier(
    tiered: Callable[..., Any], redis_url: str
) -> None:
    c = tiered(redis_url)
    with pytest.raises(TypeError, match="not str"):
        await call(c.set("k", 1, depends_on="a"))
    with pytest.raises(TypeError, match="cache key must be str"):
        await call(c.set(1, 1, depends_on=["a"]))


@pytest.mark.parametrize("limit", [-1, -10])
def test_dependency_limit_must_not_be_negative(limit: int) -> None:
    with pytest.raises(ConfigError, match="dependency_limit must be >= 0"):
        stratacache.Cache(dependency_limit=limit)
    with pytest.raises(TypeError, match="dependency_limit must be an int"):
        stratacache.Cache(dependency_limit=1.5)  # type: ignore[arg-type]


async def test_dependency_limit_zero_turns_dependencies_off(
    tiered: Callable[..., Any], redis_url: str, make_cache: Callable[..., Any]
) -> None:
    for c in (tiered(redis_url, dependency_limit=0), make_cache(dependency_limit=0)):
        await call(c.set("a", 1))
        with pytest.raises(ConfigError, match="dependency_limit=0"):
            await call(c.set("b", 2, depends_on=["a"]))
        assert await call(c.get("b")) is None
        assert await call(c.delete("a")) is True
        f = c.cache(depends_on=lambda x: ["a"])(_double_async if is_async(c) else _double)
        with pytest.raises(ConfigError, match="dependency_limit=0"):
            await call(f(1))


def _double(x: int) -> int:
    return 2 * x


async def _double_async(x: int) -> int:
    return 2 * x


def test_a_retried_pop_of_the_same_walk_gets_the_members_again(redis_clean_url: str) -> None:
    client = redis.Redis.from_url(redis_clean_url)
    try:
        client.sadd(b"e", b"x", b"y")
        first = client.eval(POP, 1, b"e", "walk1")
        assert sorted(first[0]) == [b"x", b"y"]
        assert sorted(client.eval(POP, 1, b"e", "walk1")[0]) == [b"x", b"y"]  # its reply lost
        assert client.eval(POP, 1, b"e", "walk2") == [[]]  # another walk: already handled
        assert client.eval(LINK, 1, b"e", b"z", 0, 10) == 1  # the tombstone makes way
        assert client.smembers(b"e") == {b"z"}
    finally:
        client.close()
