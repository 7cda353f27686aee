"""cache.health() (python/stratacache/health.py) against real Redis servers, paused and not."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import stratacache
from stratacache import Health, RedisOptions, TierHealth
from stratacache.health import disk_health
from stratacache.testing.redis_servers import RedisServer

from .conftest import call

FAST = RedisOptions(socket_timeout=0.05, connect_timeout=0.05, retries=0)


async def test_an_l1_cache_is_healthy(make_cache: Callable[..., Any]) -> None:
    cache = make_cache(max_entries=10)
    await call(cache.set("k", 1))
    health = await call(cache.health())
    assert isinstance(health, Health)
    assert health.healthy
    assert health.status == "ok"
    assert set(health.tiers) == {"l1"}
    assert health.as_dict() == {
        "healthy": True,
        "status": "ok",
        "tiers": {"l1": {"status": "ok", "detail": "1 entries"}},
    }


async def test_redis_reports_its_round_trip_breaker_and_coherence(
    cache_cls: type[Any], redis_url: str
) -> None:
    cache = cache_cls(redis=redis_url)
    try:
        # Degraded (not coherent) until the subscriber thread has subscribed.
        deadline = time.monotonic() + 10
        health = await call(cache.health())
        while health.tiers["redis"].status != "ok" and time.monotonic() < deadline:
            assert health.tiers["redis"].detail == "invalidation subscription down"
            await asyncio.sleep(0.02)
            health = await call(cache.health())
        redis = health.tiers["redis"]
        assert health.healthy
        assert redis.status == "ok"
        assert redis.breaker == "closed"
        assert redis.coherent is True
        assert redis.round_trip is not None
        assert redis.round_trip > 0
    finally:
        await call(cache.close())


async def test_a_paused_server_is_down_and_opens_the_breaker(
    cache_cls: type[Any], fresh_redis_server: RedisServer
) -> None:
    cache = cache_cls(redis=fresh_redis_server.url, redis_options=FAST, l1=False)
    try:
        await call(cache.set("k", 1))
        fresh_redis_server.pause()
        try:
            for _ in range(20):  # fail-open misses until the breaker opens
                assert await call(cache.get("k")) is None
            health = await call(cache.health())
            redis = health.tiers["redis"]
            assert not health.healthy
            assert health.status == "down"
            assert redis.status == "down"
            assert redis.breaker == "open"
            assert redis.round_trip is None
            assert "Timeout" in redis.detail
        finally:
            fresh_redis_server.resume()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # PING answers again at once; the breaker later
            health = await call(cache.health())
            if health.tiers["redis"].status != "down":
                break
            await asyncio.sleep(0.05)
        assert health.healthy
        assert health.tiers["redis"].round_trip is not None
    finally:
        await call(cache.close())


async def test_an_open_breaker_on_a_live_server_is_degraded(
    cache_cls: type[Any], fresh_redis_server: RedisServer
) -> None:
    options = RedisOptions(
        socket_timeout=0.05,
        connect_timeout=0.05,
        retries=0,
        breaker=stratacache.BreakerConfig(failure_threshold=1, recovery_time=60),
    )
    cache = cache_cls(redis=fresh_redis_server.url, redis_options=options, l1=False)
    try:
        fresh_redis_server.pause()
        try:
            for _ in range(3):
                await call(cache.get("k"))
        finally:
            fresh_redis_server.resume()
        health = await call(cache.health())
        assert health.tiers["redis"].status == "degraded"
        assert "breaker open" in health.tiers["redis"].detail
        assert health.healthy  # degraded still serves: fail-open
    finally:
        await call(cache.close())


def test_disk_health_reports_space(tmp_path: Path) -> None:
    ok = disk_health(tmp_path)
    assert ok.status == "ok"
    assert ok.disk_free is not None
    assert ok.disk_total is not None
    assert 0 < ok.disk_free <= ok.disk_total
    low = disk_health(tmp_path, min_free=ok.disk_total + 1)
    assert low.status == "degraded"
    assert "bytes free" in low.detail
    gone = disk_health(tmp_path / "missing")
    assert gone.status == "down"
    with pytest.raises(ValueError, match="min_free"):
        disk_health(tmp_path, min_free=-1)


async def test_tiers_plug_their_checks_into_the_hook(
    make_cache: Callable[..., Any], tmp_path: Path
) -> None:
    cache = make_cache(max_entries=10)
    cache._health_checks["disk"] = lambda: disk_health(tmp_path / "missing")
    health = await call(cache.health())
    assert isinstance(health.tiers["disk"], TierHealth)
    assert health.tiers["disk"].status == "down"
    assert not health.healthy
