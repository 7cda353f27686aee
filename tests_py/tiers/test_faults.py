"""Outages on real servers: kill -9, SIGSTOP, fail-open and fail-closed, subscription loss.

Every load loop is bounded by a count and a deadline; the servers are this test's own.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import pytest

import stratacache
from stratacache import BreakerConfig, RedisOptions, TierUnavailableError
from stratacache.testing.redis_servers import RedisClusterGroup, RedisServer

from ..conftest import call

FAST = RedisOptions(
    socket_timeout=0.05,
    connect_timeout=0.05,
    retries=1,
    breaker=BreakerConfig(failure_threshold=3, recovery_time=0.3),
)


async def test_a_killed_server_degrades_to_l1_and_loader_without_errors(
    tiered: Callable[..., Any], fresh_redis_server: RedisServer, wait_until: Callable[..., bool]
) -> None:
    a = tiered(fresh_redis_server.url, redis_options=FAST)
    await call(a.set("kept", 1))
    fresh_redis_server.kill()
    deadline = time.monotonic() + 5
    for i in range(200):
        if time.monotonic() > deadline:
            break
        assert await call(a.get(f"absent{i}")) is None
        await call(a.set(f"w{i}", i))
    stats = a._stats().l2
    assert stats.breaker == "open" or stats.breaker_opened >= 1
    assert stats.skipped_reads > 0
    assert stats.skipped_writes > 0
    assert not stats.coherent  # the subscription noticed; L1 was flushed
    assert await call(a.get("kept")) is None  # flushed with the subscription: may be stale

    fresh_redis_server.restart()

    async def writes_land() -> bool:
        await call(a.set("after", 2))
        return fresh_redis_server.command("EXISTS", "sc:\x1fafter") == 1

    deadline = time.monotonic() + 20  # the breaker's trial and a reconnect, under load
    while time.monotonic() < deadline and not await writes_land():
        await asyncio.sleep(0.05)
    assert await writes_land()
    assert wait_until(lambda: a._stats().l2.coherent, timeout=10)


async def test_a_hung_server_costs_at_most_the_timeout_and_opens_the_breaker(
    tiered: Callable[..., Any], fresh_redis_server: RedisServer
) -> None:
    a = tiered(fresh_redis_server.url, redis_options=FAST, l1=False)
    await call(a.set("k", 1))
    fresh_redis_server.pause()
    try:
        slowest = 0.0
        for _ in range(20):
            started = time.monotonic()
            assert await call(a.get("k")) is None
            slowest = max(slowest, time.monotonic() - started)
        # Two attempts of 50 ms plus backoff at most, never redis-py's seconds-long default.
        assert slowest < 1.0
        assert a._stats().l2.breaker_opened >= 1
    finally:
        fresh_redis_server.resume()


async def test_fail_closed_raises_instead_of_missing(
    tiered: Callable[..., Any], fresh_redis_server: RedisServer
) -> None:
    a = tiered(fresh_redis_server.url, redis_options=FAST.replace(fail_open=False), l1=False)
    await call(a.set("k", 1))
    fresh_redis_server.kill()
    with pytest.raises(TierUnavailableError):
        await call(a.get("k"))
    with pytest.raises(TierUnavailableError):
        await call(a.set("k", 2))


def test_fail_closed_refuses_to_start_without_redis(fresh_redis_server: RedisServer) -> None:
    url = fresh_redis_server.url
    fresh_redis_server.stop()
    with pytest.raises(TierUnavailableError, match="unreachable"):
        stratacache.Cache(redis=url, redis_options=FAST.replace(fail_open=False))
    cache = stratacache.Cache(redis=url, redis_options=FAST)  # fail-open: starts anyway
    try:
        assert cache.get("k") is None
    finally:
        cache.close()


async def test_values_cached_before_a_subscription_loss_are_flushed(
    tiered: Callable[..., Any], fresh_redis_server: RedisServer, wait_until: Callable[..., bool]
) -> None:
    a, b = (tiered(fresh_redis_server.url, redis_options=FAST) for _ in range(2))
    await call(a.set("k", "old"))
    assert await call(b.get("k")) == "old"
    fresh_redis_server.kill()
    assert wait_until(lambda: not b._stats().l2.coherent, timeout=5)
    assert not b._store.contains(b._prefix, "k")
    fresh_redis_server.restart()
    assert wait_until(lambda: b._stats().l2.coherent, timeout=10)
    assert b._stats().l2.subscription_drops >= 1


async def test_fail_closed_namespaces_raise_while_others_fail_open(
    tiered: Callable[..., Any], fresh_redis_server: RedisServer
) -> None:
    options = FAST.replace(fail_closed={"payments"})
    payments = tiered(fresh_redis_server.url, redis_options=options, namespace="payments")
    profiles = tiered(fresh_redis_server.url, redis_options=options, namespace="profiles")
    fresh_redis_server.kill()
    with pytest.raises(TierUnavailableError):
        await call(payments.get("invoice:1"))
    assert await call(profiles.get("user:1")) is None


async def test_a_write_cancelled_while_half_open_does_not_leave_the_breaker_stuck(
    fresh_redis_server: RedisServer,
) -> None:
    # issue 11 item 7: the cancelled trial kept its half-open slot; every later call skipped.
    cache = stratacache.AsyncCache(
        redis=fresh_redis_server.url, redis_options=FAST.replace(coherence=None), l1=False
    )
    try:
        breaker = cache._driver.redis.breaker
        fresh_redis_server.pause()
        try:
            for i in range(20):
                await cache.set(f"open{i}", i)
                if breaker.state == "open":
                    break
            assert breaker.state == "open"
            deadline = time.monotonic() + 5
            while breaker.state != "half-open" and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            assert breaker.state == "half-open"
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(cache.set("cancelled", 1), 0.01)
        finally:
            fresh_redis_server.resume()
        landed = False
        deadline = time.monotonic() + 5
        for i in range(200):
            await cache.set(f"after{i}", i)
            if fresh_redis_server.command("EXISTS", f"sc:\x1fafter{i}") == 1:
                landed = True
                break
            if time.monotonic() > deadline:
                break
            await asyncio.sleep(0.05)
        assert landed
        assert breaker.state == "closed"
    finally:
        await cache.close()


async def test_every_call_during_a_sigstop_ends_near_its_deadline(
    tiered: Callable[..., Any], fresh_redis_server: RedisServer
) -> None:
    # issue 11 item 8: retries and reconnects multiplied the socket timeout (1.27 s for 250 ms).
    options = RedisOptions(
        socket_timeout=0.2,
        connect_timeout=0.2,
        call_timeout=0.3,
        retries=4,
        breaker=BreakerConfig(failure_threshold=1000),  # every call really goes out
        coherence=None,
        recovery_grace=0,  # else the value, written before the pause, is a miss for a while
    )
    a = tiered(fresh_redis_server.url, redis_options=options, l1=False)
    await call(a.set("k", 1))
    fresh_redis_server.pause()
    slowest = 0.0
    try:
        for i in range(8):
            started = time.monotonic()
            if i % 2:
                assert await call(a.get("k")) is None  # fail-open: a miss
            else:
                await call(a.set(f"w{i}", i))  # fail-open: skipped
            slowest = max(slowest, time.monotonic() - started)
    finally:
        fresh_redis_server.resume()
    stats = a._stats().l2
    assert stats.skipped_reads == 4
    assert stats.skipped_writes == 4
    # Five attempts of 200 ms each took over a second before; the slack is for a busy VM.
    assert slowest < options.deadline + 0.45
    assert await call(a.get("k")) == 1  # and the tier serves again once Redis is back


def test_the_subscription_heals_as_fast_after_the_tenth_cut_as_after_the_first(
    fresh_redis_server: RedisServer,
) -> None:
    # issue 11 item 6: the reconnect backoff never reset, so each cut healed slower (1.7 s by
    # the twelfth); jittered up to 2 s, ten cuts in a row under 1 s each was near impossible.
    cache = stratacache.Cache(redis=fresh_redis_server.url, redis_options=FAST)
    admin = fresh_redis_server.client()
    try:
        assert cache._stats().l2.coherent
        slowest = 0.0
        for cut in range(1, 11):
            drops = cache._stats().l2.subscription_drops
            assert admin.execute_command("CLIENT", "KILL", "TYPE", "pubsub") >= 1
            began = time.monotonic()
            noticed = False
            while time.monotonic() - began < 5:
                l2 = cache._stats().l2
                noticed = noticed or l2.subscription_drops > drops
                if noticed and l2.coherent:
                    break
                time.sleep(0.002)
            assert noticed, f"cut {cut} went unnoticed"
            assert cache._stats().l2.coherent, f"not coherent 5 s after cut {cut}"
            slowest = max(slowest, time.monotonic() - began)
            assert slowest < 1.0, f"cut {cut} took {slowest:.2f} s to heal"
        assert cache._stats().l2.subscription_drops >= 10
    finally:
        admin.close()
        cache.close()


def test_losing_and_regaining_coherence_is_logged_once_each(
    fresh_redis_server: RedisServer,
    wait_until: Callable[..., bool],
    caplog: pytest.LogCaptureFixture,
) -> None:
    cache = stratacache.Cache(redis=fresh_redis_server.url, redis_options=FAST)
    try:
        with caplog.at_level(logging.WARNING, logger="stratacache"):
            fresh_redis_server.kill()
            assert wait_until(lambda: cache._stats().l2.subscription_drops >= 3, timeout=5)
            fresh_redis_server.restart()
            assert wait_until(lambda: cache._stats().l2.coherent, timeout=10)
        lines = [r.getMessage() for r in caplog.records if "coherence" in r.getMessage()]
        assert len(lines) == 2, lines
        assert "lost" in lines[0]
        assert "back" in lines[1]
    finally:
        cache.close()


async def test_an_async_cache_built_in_a_running_loop_does_not_wait_for_redis(
    fresh_redis_server: RedisServer,
) -> None:
    # issue 12: AsyncCache(...) ran its connect check and waited for its subscriber on the
    # event loop (97 ms measured on a healthy server; seconds with a hung one).
    options = RedisOptions(socket_timeout=3.0, connect_timeout=3.0, call_timeout=10.0)
    fresh_redis_server.pause()
    try:
        began = time.monotonic()
        cache = stratacache.AsyncCache(redis=fresh_redis_server.url, redis_options=options)
        built = time.monotonic() - began
    finally:
        fresh_redis_server.resume()
    try:
        assert built < 1.5, f"the constructor blocked the loop for {built:.2f} s"  # 3-9 s before
        await cache.set("k", 1)  # waits (without blocking the loop) for the check to finish
        assert await cache.get("k") == 1
    finally:
        await cache.close()


def test_a_cluster_call_during_a_sigstop_ends_near_its_deadline(
    redis_cluster_clean: RedisClusterGroup,
) -> None:
    # redis-py's own Cluster retries (3) multiplied the socket timeout inside one attempt.
    options = RedisOptions(
        socket_timeout=0.2,
        connect_timeout=0.2,
        call_timeout=0.25,
        breaker=BreakerConfig(failure_threshold=1000),
        coherence=None,
    )
    cache = stratacache.Cache(redis=redis_cluster_clean.url, redis_options=options, l1=False)
    try:
        node = redis_cluster_clean.primaries[0]
        client = cache._driver.redis.client
        keys = [
            k
            for k in (f"k{i}" for i in range(500))
            if client.get_node_from_key(f"sc:\x1f{k}").port == node.port
        ][:2]
        assert len(keys) == 2
        for key in keys:
            cache.set(key, 1)
        slowest = 0.0
        node.pause()  # briefly: less than the cluster's node timeout, so no failover
        try:
            for key in keys:
                started = time.monotonic()
                assert cache.get(key) is None  # fail-open: a miss
                slowest = max(slowest, time.monotonic() - started)
        finally:
            node.resume()
        assert slowest < options.deadline + 0.35  # about 0.8 s before
    finally:
        cache.close()
