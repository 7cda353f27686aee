"""The asyncio tier's pipelined read connection (`fast_async`, `resp_protocol`) on real servers:
replies matched in order through cancellations, deadlines, error replies and dead or hung
servers; AUTH, TLS and Sentinel on connect; nothing left open after close."""

from __future__ import annotations

import asyncio
import gc
import math
import secrets
import ssl
import time
import warnings
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis import exceptions as rexc

import stratacache
from stratacache import BreakerConfig, RedisOptions
from stratacache.testing.redis_servers import RedisSentinelGroup, RedisServer, RedisTLSServer
from stratacache.tiers.redis.config import parse_url
from stratacache.tiers.redis.fast_async import FastConnection, endpoint_for
from stratacache.tiers.redis.resp_protocol import CallExpired, pack_command, pack_get

#: For tests of correctness under load: no call should time out on a busy machine.
PATIENT = RedisOptions(socket_timeout=2.0, connect_timeout=2.0)
#: For the fault tests: short timeouts, a quick breaker.
FAST = RedisOptions(
    socket_timeout=0.25,
    connect_timeout=0.25,
    retries=1,
    breaker=BreakerConfig(failure_threshold=3, recovery_time=0.2),
)


def fast_of(cache: stratacache.AsyncCache) -> FastConnection:
    """The pipelined connection of a cache's Redis tier (it must have one)."""
    fast = cache._driver.redis._fast  # type: ignore[union-attr]
    assert fast is not None
    return fast.conn


@pytest.fixture
async def caches() -> AsyncIterator[list[stratacache.AsyncCache]]:
    made: list[stratacache.AsyncCache] = []
    yield made
    for cache in made:
        await cache.close()


async def bounded(*awaitables: Any, **kwargs: Any) -> list[Any]:
    """gather(), failing after 30 s: a reply lost by a desynchronised stream fails the test
    instead of hanging it."""
    return await asyncio.wait_for(asyncio.gather(*awaitables, **kwargs), 30)


def l2_only(
    made: list[stratacache.AsyncCache], url: str, options: RedisOptions = PATIENT, **changes: Any
) -> Any:
    cache = stratacache.AsyncCache(
        redis=url, l1=False, redis_options=options.replace(**changes), default_ttl=60
    )
    made.append(cache)
    return cache


async def connection(url: str, options: RedisOptions = PATIENT) -> FastConnection:
    target, options = parse_url(url, options)
    endpoint = endpoint_for(target, options, None)
    assert endpoint is not None
    return FastConnection(endpoint, options)


async def test_a_burst_of_gets_gets_each_its_own_value(
    caches: list[stratacache.AsyncCache], redis_clean_url: str
) -> None:
    cache = l2_only(caches, redis_clean_url)
    keys = [f"k{i}" for i in range(600)]
    await cache.set_many({k: {"v": k} for k in keys})
    got = await bounded(*(cache.get(k) for k in [*keys, *reversed(keys)]))
    assert got == [{"v": k} for k in [*keys, *reversed(keys)]]
    assert await cache.get_many(keys[:50]) == {k: {"v": k} for k in keys[:50]}
    assert fast_of(cache).protocol is not None  # the reads went the pipelined way
    assert cache._stats().l2.hits == 1250


async def test_callers_of_one_key_in_one_turn_each_get_its_value(
    caches: list[stratacache.AsyncCache], redis_clean_url: str
) -> None:
    cache = l2_only(caches, redis_clean_url)
    await cache.set_many({"a": "A", "b": "B", "c": "C"})
    assert await cache.get("a") == "A"  # connected: the burst below folds into one MGET
    asked = ["a", "a", "b", "a", "c", "b", "a", "missing", "missing"]
    tasks = [asyncio.ensure_future(cache.get(k, "none")) for k in asked]
    await asyncio.sleep(0)  # every task has asked
    tasks[1].cancel()  # one of several callers of "a" stops waiting: the others still get it
    done = await bounded(*tasks, return_exceptions=True)
    assert isinstance(done[1], asyncio.CancelledError)
    assert [r for i, r in enumerate(done) if i != 1] == [
        "A",
        "B",
        "A",
        "C",
        "B",
        "A",
        "none",
        "none",
    ]


async def test_cancelled_waiters_do_not_shift_later_replies(
    caches: list[stratacache.AsyncCache], redis_clean_url: str
) -> None:
    cache = l2_only(caches, redis_clean_url)
    keys = [f"k{i}" for i in range(300)]
    await cache.set_many({k: k for k in keys})
    for _ in range(3):
        tasks = [asyncio.ensure_future(cache.get(k)) for k in keys]
        await asyncio.sleep(0)  # every task has sent its GET
        for task in tasks[::3]:
            task.cancel()
        done = await bounded(*tasks, return_exceptions=True)
        for i, (key, result) in enumerate(zip(keys, done, strict=True)):
            if i % 3 == 0:
                assert isinstance(result, asyncio.CancelledError)
            else:
                assert result == key
    assert await bounded(*(cache.get(k) for k in keys)) == keys


async def test_a_reply_past_its_deadline_is_dropped_and_the_next_one_is_right(
    fresh_redis_server: RedisServer,
) -> None:
    fresh_redis_server.command("SET", "a", "A")
    fresh_redis_server.command("SET", "b", "B")
    conn = await connection(fresh_redis_server.url, FAST.replace(socket_timeout=5))
    try:
        proto = await conn.connect(time.monotonic() + 1)
        fresh_redis_server.pause()
        try:
            late = proto.request(pack_get(b"a"), time.monotonic() + 0.05)
            with pytest.raises(CallExpired):
                await asyncio.wait_for(late, 2)
        finally:
            fresh_redis_server.resume()
        assert await asyncio.wait_for(proto.request(pack_get(b"b"), math.inf), 2) == b"B"
        assert proto.usable
    finally:
        await conn.close()


async def test_an_error_reply_fails_only_its_own_command(redis_clean_url: str) -> None:
    conn = await connection(redis_clean_url)
    try:
        proto = await conn.connect(time.monotonic() + 1)
        commands = [
            pack_command("SET", "n", "not a number"),
            pack_command("INCR", "n"),
            pack_get(b"n"),
            pack_command("NOSUCHCOMMAND"),
            pack_command("MGET", "n", "absent"),
        ]
        replies = await bounded(
            *(proto.request(c, time.monotonic() + 30) for c in commands), return_exceptions=True
        )
        assert replies[0] == b"OK"
        assert isinstance(replies[1], rexc.ResponseError)
        assert replies[2] == b"not a number"
        assert isinstance(replies[3], rexc.ResponseError)
        assert replies[4] == [b"not a number", None]
    finally:
        await conn.close()


async def test_a_server_killed_mid_burst_fails_the_burst_open_and_is_redialed(
    caches: list[stratacache.AsyncCache], fresh_redis_server: RedisServer
) -> None:
    cache = l2_only(caches, fresh_redis_server.url, FAST)
    keys = [f"k{i}" for i in range(200)]
    await cache.set_many({k: k for k in keys})
    burst = [asyncio.ensure_future(cache.get(k)) for k in keys]
    await asyncio.sleep(0)
    fresh_redis_server.kill()
    got = await asyncio.wait_for(asyncio.gather(*burst), 30)  # fail-open: misses, no errors
    assert all(value in (key, None) for key, value in zip(keys, got, strict=True))
    assert None in got
    assert cache._stats().l2.errors >= 1
    fresh_redis_server.restart()  # empty: no persistence
    await recovered(cache, keys, refill=True)


async def test_a_server_paused_mid_burst_costs_about_the_deadline(
    caches: list[stratacache.AsyncCache], fresh_redis_server: RedisServer
) -> None:
    cache = l2_only(caches, fresh_redis_server.url, FAST)
    keys = [f"k{i}" for i in range(200)]
    await cache.set_many({k: k for k in keys})
    assert await cache.get(keys[0]) == keys[0]
    fresh_redis_server.pause()
    try:
        started = time.monotonic()
        got = await asyncio.wait_for(asyncio.gather(*(cache.get(k) for k in keys)), 30)
        assert got == [None] * len(keys)
        assert time.monotonic() - started < 2.0  # deadline 0.5 s, not redis-py's seconds
    finally:
        fresh_redis_server.resume()
    await recovered(cache, keys, refill=False)


async def recovered(cache: stratacache.AsyncCache, keys: list[str], *, refill: bool) -> None:
    """Waits (10 s at most) until every key reads right again; misses on the way are allowed
    (breaker, reconnects, a busy machine), a wrong value never is."""
    deadline = time.monotonic() + 10
    while True:
        if refill:
            await cache.set_many({k: k for k in keys})  # skipped while the breaker is open
        got = await bounded(*(cache.get(k) for k in keys))
        assert all(value in (key, None) for key, value in zip(keys, got, strict=True))
        if got == keys or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.05)
    assert got == keys


async def test_acl_user_logs_in_and_a_wrong_password_is_refused(
    caches: list[stratacache.AsyncCache], fresh_redis_server: RedisServer
) -> None:
    name, password = "reads", secrets.token_hex(8)
    fresh_redis_server.command("ACL", "SETUSER", name, "on", f">{password}", "~*", "&*", "+@all")
    fresh_redis_server.command("SELECT", 3)
    url = fresh_redis_server.url.replace("redis://", f"redis://{name}:{password}@")
    url = url.rsplit("/", 1)[0] + "/3?client_name=fastreads"
    cache = l2_only(caches, url)
    await cache.set("k", "v")
    assert await cache.get("k") == "v"
    clients = fresh_redis_server.command("CLIENT", "LIST")
    assert "name=fastreads" in clients
    assert f"user={name}" in clients

    conn = await connection(url.replace(password, "wrong"))
    try:
        with pytest.raises(rexc.AuthenticationError):
            await conn.connect(time.monotonic() + 1)
    finally:
        await conn.close()


async def test_tls_is_verified(
    caches: list[stratacache.AsyncCache], redis_tls_clean: RedisTLSServer
) -> None:
    url = f"{redis_tls_clean.url_for('writer')}?ssl_ca_certs={redis_tls_clean.ca_file}"
    cache = l2_only(caches, url)
    await cache.set("k", "v")
    assert await bounded(*(cache.get("k") for _ in range(50))) == ["v"] * 50
    assert fast_of(cache).protocol is not None

    untrusted = await connection(redis_tls_clean.url_for("writer"))  # system CAs only
    try:
        with pytest.raises(ssl.SSLCertVerificationError):
            await untrusted.connect(time.monotonic() + 1)
    finally:
        await untrusted.close()


async def test_sentinel_reads_follow_a_failover(
    caches: list[stratacache.AsyncCache], redis_sentinel_clean: RedisSentinelGroup
) -> None:
    group = redis_sentinel_clean
    cache = l2_only(caches, group.url, FAST, socket_timeout=0.25, connect_timeout=0.5)
    await cache.set("k", "v")
    group.primary.command("WAIT", 2, 2000)  # on both replicas before the primary dies
    assert await cache.get("k") == "v"
    group.kill_primary()
    try:
        _, port = group.wait_for_failover()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and await cache.get("k") != "v":
            await asyncio.sleep(0.1)
        assert await cache.get("k") == "v"
        proto = fast_of(cache).protocol
        assert proto is not None
        assert proto._transport is not None
        assert proto._transport.get_extra_info("peername")[1] == port
    finally:
        group.heal()


async def test_close_leaves_no_transport_open(
    caches: list[stratacache.AsyncCache], redis_clean_url: str
) -> None:
    cache = stratacache.AsyncCache(redis=redis_clean_url, l1=False, redis_options=PATIENT)
    await cache.set("k", 1)
    assert await cache.get("k") == 1
    proto = fast_of(cache).protocol
    assert proto is not None
    await cache.close()
    assert proto.lost.done()
    assert not proto.usable


async def test_a_lone_get_is_written_before_the_loop_turns(
    caches: list[stratacache.AsyncCache], fresh_redis_server: RedisServer
) -> None:
    def gets_seen() -> int:
        stats = fresh_redis_server.command("INFO", "commandstats")
        return int(stats.get("cmdstat_get", {}).get("calls", 0))

    cache = l2_only(caches, fresh_redis_server.url)
    await cache.set("k", "v")
    assert await cache.get("k") == "v"  # connected
    before = gets_seen()
    pending = asyncio.ensure_future(cache.get("k"))
    await asyncio.sleep(0)  # the task runs up to its wait for the reply
    deadline = time.monotonic() + 2  # the loop is blocked here: no later turn can write it
    while gets_seen() == before and time.monotonic() < deadline:
        time.sleep(0.01)  # noqa: ASYNC251 - blocking the loop is the point
    assert gets_seen() == before + 1
    assert await pending == "v"


async def test_scripts_go_the_fast_way_and_survive_a_script_flush(
    caches: list[stratacache.AsyncCache], fresh_redis_server: RedisServer
) -> None:
    cache = l2_only(caches, fresh_redis_server.url)

    @cache.cache(ttl=60)
    async def f(x: int) -> dict[str, int]:
        return {"x": x}

    assert await f(1) == {"x": 1}
    fresh_redis_server.command("SCRIPT", "FLUSH")
    before = fresh_redis_server.command("INFO", "commandstats")
    # A miss: the lease script, then the fill's, each refused by EVALSHA, then sent as EVAL
    # (a hit reads the key with no script).
    assert await f(2) == {"x": 2}
    after = fresh_redis_server.command("INFO", "commandstats")
    assert after["cmdstat_eval"]["calls"] == before.get("cmdstat_eval", {}).get("calls", 0) + 2
    assert await f(2) == {"x": 2}
    assert cache._stats().l2.errors == 0
    assert cache._stats().l2.hits >= 1


def test_a_cache_used_by_two_asyncio_runs_closes_each_runs_connection(
    redis_clean_url: str,
) -> None:
    options = PATIENT.replace(coherence=None)
    with stratacache.Cache(redis=redis_clean_url, redis_options=options) as filler:
        filler.set("k", "v")  # the async cache below only reads: its fast connection alone
    cache = stratacache.AsyncCache(redis=redis_clean_url, l1=False, redis_options=options)
    lost: list[asyncio.Future[None]] = []  # not the protocols: the collector must find them

    async def read() -> None:
        assert await cache.get("k") == "v"
        proto = fast_of(cache).protocol
        assert proto is not None
        lost.append(proto.lost)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        asyncio.run(read())
        asyncio.run(read())  # a new loop: a connection of its own
        asyncio.run(cache.close())
        gc.collect()
    first, second = lost
    assert first is not second  # each run dialled its own
    assert first.done()  # closed as its loop shut down, not left to the collector
    assert second.done()
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []
