"""Cache.add / incr / touch: atomic in L1 alone and across processes sharing Redis."""

from __future__ import annotations

import math
import multiprocessing
import sys
import threading
from collections.abc import Callable
from typing import Any

import pytest
import redis

import stratacache

from ..conftest import call
from .conftest import until

THREADS = 4
ROUNDS = 200


@pytest.fixture(params=["l1", "redis"])
def make(
    request: pytest.FixtureRequest, cache_cls: type[Any], tiered: Callable[..., Any]
) -> Callable[..., Any]:
    """Caches of the parametrised class, L1 alone or over the (flushed) session Redis."""
    if request.param == "l1":
        return cache_cls
    url = request.getfixturevalue("redis_clean_url")
    return lambda **kw: tiered(url, **kw)


async def test_add_stores_only_when_absent(make: Callable[..., Any]) -> None:
    cache = make()
    assert await call(cache.add("k", 1)) is True
    assert await call(cache.add("k", 2)) is False
    assert await call(cache.get("k")) == 1
    await call(cache.delete("k"))
    assert await call(cache.add("k", 3, ttl=30)) is True
    assert 0 < await call(cache.ttl("k")) <= 30


async def test_add_with_ttl_zero_keeps_nothing(make: Callable[..., Any]) -> None:
    cache = make()
    assert await call(cache.add("k", 1, ttl=0)) is True
    assert await call(cache.contains("k")) is False
    await call(cache.set("k", "old"))
    assert await call(cache.add("k", 1, ttl=0)) is False
    assert await call(cache.get("k")) == "old"


async def test_incr_keeps_the_ttl_and_checks_types(make: Callable[..., Any]) -> None:
    cache = make()
    if getattr(cache, "_subscriber", None) is not None:  # a degraded L1 caps TTLs at 1 s
        assert cache._subscriber.connected.wait(10)
    await call(cache.set("n", 10, ttl=50))
    assert await call(cache.incr("n")) == 11
    assert await call(cache.incr("n", -20)) == -9
    assert await call(cache.get("n")) == -9
    assert 40 < await call(cache.ttl("n")) <= 50
    with pytest.raises(KeyError):
        await call(cache.incr("missing"))
    await call(cache.set("s", "text"))
    with pytest.raises(TypeError, match="stored int"):
        await call(cache.incr("s"))
    with pytest.raises(TypeError, match="delta"):
        await call(cache.incr("n", 1.5))
    await call(cache.set("forever", 1, ttl=math.inf))
    assert await call(cache.incr("forever")) == 2
    assert await call(cache.ttl("forever")) == math.inf


async def test_touch_restarts_the_ttl(make: Callable[..., Any]) -> None:
    cache = make()
    await call(cache.set("k", "v", ttl=5))
    assert await call(cache.touch("k", 500)) is True
    assert await call(cache.ttl("k")) > 400
    assert await call(cache.touch("missing", 5)) is False
    assert await call(cache.touch("k", 0)) is True
    assert await call(cache.contains("k")) is False


async def test_incr_and_touch_reach_redis_and_other_processes(
    redis_clean_url: str, tiered: Callable[..., Any]
) -> None:
    a, b = tiered(redis_clean_url), tiered(redis_clean_url)
    await call(a.set("n", 1, ttl=5))
    assert await call(b.get("n")) == 1  # now in b's L1
    assert await call(a.incr("n", 41)) == 42
    assert await until(lambda: _equals(b, "n", 42))
    assert await call(a.touch("n", 900)) is True
    fresh = tiered(redis_clean_url)
    assert await call(fresh.ttl("n")) > 800  # the envelope in Redis carries the new TTL


async def _equals(cache: Any, key: str, want: Any) -> bool:
    return bool(await call(cache.get(key)) == want)


@pytest.mark.parametrize("held", [b"not an envelope", b"lease"])
async def test_add_replaces_an_unusable_value(
    redis_clean_url: str, tiered: Callable[..., Any], held: bytes
) -> None:
    cache = tiered(redis_clean_url)
    rkey = cache._tier.rkey(cache.namespace, "k")
    raw = redis.Redis.from_url(redis_clean_url)
    try:
        if held == b"lease":
            from stratacache.tiers.redis.plan import LEASE_PREFIX  # noqa: PLC0415

            held = LEASE_PREFIX + b"0123456789ab"
        raw.set(rkey, held)
        assert await call(cache.add("k", "mine")) is True
        assert await call(tiered(redis_clean_url).get("k")) == "mine"
    finally:
        raw.close()


def _race(target: Callable[[int], Any]) -> list[Any]:
    results: list[Any] = [None] * THREADS
    barrier = threading.Barrier(THREADS, timeout=10)

    def run(i: int) -> None:
        barrier.wait()
        results[i] = target(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    return results


def test_threads_race_add_and_incr_in_l1() -> None:
    cache = stratacache.Cache()
    assert sorted(_race(lambda i: cache.add("k", i))) == [False] * (THREADS - 1) + [True]
    cache.set("n", 0)
    _race(lambda _: [cache.incr("n") for _ in range(ROUNDS)])
    assert cache.get("n") == THREADS * ROUNDS


def test_caches_race_add_and_incr_in_redis(redis_clean_url: str) -> None:
    """One cache per thread, each its own L1 and connections: processes in all but name."""
    caches = [stratacache.Cache(redis=redis_clean_url) for _ in range(THREADS)]
    try:
        won = _race(lambda i: caches[i].add("k", i))
        assert won.count(True) == 1
        winner = won.index(True)
        assert all(c.get("k") == winner for c in caches)
        caches[0].set("n", 0, ttl=60)
        _race(lambda i: [caches[i].incr("n") for _ in range(ROUNDS)])
        with stratacache.Cache(redis=redis_clean_url) as fresh:
            assert fresh.get("n") == THREADS * ROUNDS
    finally:
        for c in caches:
            c.close()


def _incr_in_child(url: str, rounds: int, conn: Any) -> None:
    try:
        with stratacache.Cache(redis=url) as cache:
            added = cache.add("first", True)
            for _ in range(rounds):
                cache.incr("n")
        conn.send(("ok", added))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which fails
        conn.send(("error", repr(exc)))


@pytest.mark.skipif(sys.platform == "win32", reason="fork is POSIX only")
def test_processes_race_add_and_incr(redis_clean_url: str) -> None:
    with stratacache.Cache(redis=redis_clean_url) as cache:
        cache.set("n", 0, ttl=60)
    ctx = multiprocessing.get_context("fork")
    pipes, procs = [], []
    for _ in range(THREADS):
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=_incr_in_child, args=(redis_clean_url, ROUNDS, child))
        proc.start()
        pipes.append(parent)
        procs.append(proc)
    try:
        replies = [p.recv() if p.poll(60) else ("timeout", None) for p in pipes]
    finally:
        for proc in procs:
            proc.join(timeout=10)
            if proc.is_alive():
                proc.kill()
    assert all(status == "ok" for status, _ in replies), replies
    assert [added for _, added in replies].count(True) == 1
    with stratacache.Cache(redis=redis_clean_url) as cache:
        assert cache.get("n") == THREADS * ROUNDS


async def test_an_outage_falls_back_to_l1_or_raises(
    fresh_redis_server: Any, tiered: Callable[..., Any]
) -> None:
    """fail_open (the default): add/incr/touch act on L1 alone while Redis is down, and the
    key is logged for invalidation when it returns; fail-closed namespaces raise."""
    # The degraded L1 keeps values 1 s by default: under load, add + incr, each waiting out a
    # failed call, can outlast that. The fallback is the subject here, not the cap.
    opts = stratacache.RedisOptions(call_timeout=0.5, retries=0, degraded_l1_ttl=30)
    cache = tiered(fresh_redis_server.url, redis_options=opts)
    closed = stratacache.RedisOptions(call_timeout=0.5, retries=0, fail_open=False)
    strict = tiered(fresh_redis_server.url, redis_options=closed)
    await call(cache.set("n", 1))
    fresh_redis_server.kill()
    # Losing coherence flushes L1 (stale_if_error off): wait for it, so it cannot race us.
    assert await until(lambda: not cache._stats().l2.coherent)
    with pytest.raises(KeyError):
        await call(cache.incr("n"))  # L1 no longer knows it, and Redis cannot say
    assert await call(cache.add("n", 5)) is True
    assert await call(cache.incr("n")) == 6
    assert await call(cache.add("new", "v")) is True
    assert await call(cache.add("new", "w")) is False
    assert await call(cache.touch("new", 50)) is True
    with pytest.raises(KeyError):
        await call(cache.incr("absent"))
    with pytest.raises(stratacache.TierUnavailableError):
        await call(strict.add("k", 1))
    with pytest.raises(stratacache.TierUnavailableError):
        await call(strict.incr("n"))
