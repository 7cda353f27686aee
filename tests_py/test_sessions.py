"""SessionStore and AsyncSessionStore on a real redis-server: the lifecycle, TTLs, the
per-user limit, binding, and the codec requirement. One body drives both classes."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import redis

import stratacache
from stratacache.errors import ConfigError
from stratacache.sessions import AsyncSessionStore, Session, SessionStore

from .conftest import call

KEY = os.urandom(32)


@pytest.fixture(params=["sync", "async"])
async def make_store(
    request: pytest.FixtureRequest, redis_clean_url: str
) -> AsyncIterator[Callable[..., Any]]:
    cls = SessionStore if request.param == "sync" else AsyncSessionStore
    made: list[Any] = []

    def make(**kwargs: Any) -> Any:
        kwargs.setdefault("codec", stratacache.Codec(encryption_keys=KEY))
        store = cls(redis_clean_url, **kwargs)
        made.append(store)
        return store

    yield make
    for store in made:
        await call(store.close())


async def test_lifecycle(make_store: Callable[..., Any]) -> None:
    store = make_store(ttl=60)
    s = await call(store.create("alice", {"cart": [1, 2]}, ip="10.0.0.1", user_agent="UA"))
    assert isinstance(s, Session)
    assert len(s.id) == 43
    got = await call(store.get(s.id))
    assert (got.user_id, got.data, got.ip, got.user_agent) == (
        "alice",
        {"cart": [1, 2]},
        "10.0.0.1",
        "UA",
    )
    assert got.id == s.id
    assert await call(store.update(s.id, {"cart": [3]})) is True
    assert (await call(store.get(s.id))).data == {"cart": [3]}
    assert await call(store.touch(s.id)) is True
    listed = await call(store.list("alice"))
    assert [x.data for x in listed] == [{"cart": [3]}]
    assert not hasattr(listed[0], "id")
    assert await call(store.revoke(s.id)) is True
    assert await call(store.get(s.id)) is None  # replay after revoke
    assert await call(store.revoke(s.id)) is False
    assert await call(store.update(s.id, 1)) is False
    assert await call(store.touch(s.id)) is False
    stats = store.stats()
    assert (stats.created, stats.revoked, stats.hits, stats.refused_missing) == (
        1,
        1,
        2,
        2,
    )  # update after revoke is refused too


async def test_ttl_expires_and_sliding_extends(make_store: Callable[..., Any]) -> None:
    sliding = make_store(ttl=0.6)
    fixed = make_store(ttl=0.6, sliding=False)
    a = await call(sliding.create("u"))
    b = await call(fixed.create("v"))
    for _ in range(4):  # 1.2 s of use in all, each use within the TTL of the last
        await asyncio.sleep(0.3)
        assert await call(sliding.get(a.id)) is not None
    assert await call(fixed.get(b.id)) is None
    await asyncio.sleep(0.8)
    assert await call(sliding.get(a.id)) is None
    assert await call(sliding.list("u")) == []


async def test_max_per_user_evicts_the_oldest(make_store: Callable[..., Any]) -> None:
    store = make_store(max_per_user=3)
    sessions = [await call(store.create("alice", i)) for i in range(5)]
    other = await call(store.create("bob", "b"))
    alive = [await call(store.get(s.id)) is not None for s in sessions]
    assert alive == [False, False, True, True, True]
    assert [x.data for x in await call(store.list("alice"))] == [2, 3, 4]
    assert store.stats().evicted == 2
    assert await call(store.get(other.id)) is not None
    assert await call(store.revoke_user("alice")) == 3
    assert all([await call(store.get(s.id)) is None for s in sessions])
    assert await call(store.get(other.id)) is not None


async def test_ip_and_user_agent_binding(make_store: Callable[..., Any]) -> None:
    store = make_store(bind_ip=True, bind_user_agent=True)
    s = await call(store.create("alice", 1, ip="10.0.0.1", user_agent="Firefox"))
    assert await call(store.get(s.id, ip="10.0.0.1", user_agent="Firefox")) is not None
    assert await call(store.get(s.id, ip="10.0.0.2", user_agent="Firefox")) is None
    assert await call(store.get(s.id, ip="10.0.0.1", user_agent="curl")) is None
    assert await call(store.get(s.id)) is None
    assert await call(store.update(s.id, 2, ip="10.0.0.9", user_agent="Firefox")) is False
    assert store.stats().refused_binding == 4
    with pytest.raises(ValueError, match="pass ip="):
        await call(store.create("alice", 1, user_agent="Firefox"))
    with pytest.raises(ValueError, match="user agent"):
        await call(store.create("alice", 1, ip="10.0.0.1"))


def test_an_encrypting_codec_is_required(redis_clean_url: str) -> None:
    with pytest.raises(ConfigError, match="encrypting codec"):
        SessionStore(redis_clean_url)
    with pytest.raises(ConfigError, match="must encrypt"):
        SessionStore(redis_clean_url, codec=stratacache.Codec(signing_key=KEY))
    fields = stratacache.Codec(encryption_keys=KEY, encrypt_fields=["secret"])
    with pytest.raises(ConfigError, match="must encrypt"):
        SessionStore(redis_clean_url, codec=fields)
    with stratacache.Cache(redis=redis_clean_url) as plain, pytest.raises(ConfigError):
        SessionStore(plain)
    codec = stratacache.Codec(encryption_keys=KEY)
    with stratacache.Cache(redis=redis_clean_url, codec=codec) as cache:
        store = SessionStore(cache)  # the cache's codec encrypts: accepted
        assert store.get(store.create("u", 1).id) is not None
        store.close()


def test_nothing_readable_reaches_redis(redis_clean_url: str) -> None:
    store = SessionStore(redis_clean_url, codec=stratacache.Codec(encryption_keys=KEY))
    s = store.create("alice@example.com", {"card": "4111-1111"}, ip="10.1.2.3")
    raw = redis.Redis.from_url(redis_clean_url)
    dump = b"".join(
        k + b"".join(raw.hgetall(k).values()) if raw.type(k) == b"hash" else k
        for k in raw.keys("*")
    )
    raw.close()
    for secret in (s.id.encode(), b"4111-1111", b"alice@example.com", b"10.1.2.3"):
        assert secret not in dump
    store.close()


def test_arguments_are_checked(redis_clean_url: str) -> None:
    codec = stratacache.Codec(encryption_keys=KEY)
    for bad in ({"ttl": 0}, {"ttl": float("inf")}, {"max_per_user": 0}):
        with pytest.raises(ConfigError):
            SessionStore(redis_clean_url, codec=codec, **bad)
    with pytest.raises(TypeError, match="sliding"):
        SessionStore(redis_clean_url, codec=codec, sliding="yes")  # type: ignore[arg-type]
    store = SessionStore(redis_clean_url, codec=codec)
    with pytest.raises(TypeError, match="user_id"):
        store.create(42)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="longer"):
        store.create("u" * 5000)
    store.close()


def test_a_redis_py_client_is_accepted(redis_clean_url: str) -> None:
    client = redis.Redis.from_url(redis_clean_url)
    store = SessionStore(client, codec=stratacache.Codec(encryption_keys=KEY))
    s = store.create("alice", 1)
    assert store.get(s.id) is not None
    store.close()  # not ours: the client stays usable
    assert client.ping()
    client.close()
    decoding = redis.Redis.from_url(redis_clean_url, decode_responses=True)
    with pytest.raises(ConfigError, match="decode_responses"):
        SessionStore(decoding, codec=stratacache.Codec(encryption_keys=KEY))
    decoding.close()
