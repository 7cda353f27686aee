"""stale_if_error= (RFC 5861): while coherence is lost, L1 keeps what it holds for that long
instead of being flushed; the strict default flushes at once (tests_py/tiers/test_faults.py)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest

import stratacache
from stratacache import BreakerConfig, ConfigError, RedisOptions
from stratacache.testing.redis_servers import RedisServer

from ..conftest import call

FAST = RedisOptions(
    socket_timeout=0.05,
    connect_timeout=0.05,
    retries=1,
    breaker=BreakerConfig(failure_threshold=3, recovery_time=0.3),
)


async def test_l1_keeps_serving_during_an_outage_for_stale_if_error(
    tiered: Callable[..., Any], fresh_redis_server: RedisServer, wait_until: Callable[..., bool]
) -> None:
    a = tiered(fresh_redis_server.url, redis_options=FAST, stale_if_error=30)
    strict = tiered(fresh_redis_server.url, redis_options=FAST)
    # Until its subscription is confirmed a cache is degraded and caps what L1 keeps.
    assert wait_until(lambda: a._stats().l2.coherent and strict._stats().l2.coherent)
    for i in range(100):
        await call(a.set(f"k{i}", i))
        await call(strict.set(f"s{i}", i))  # other keys: its writes would invalidate a's
    fresh_redis_server.kill()
    assert wait_until(lambda: not a._stats().l2.coherent, timeout=5)
    assert wait_until(lambda: not strict._stats().l2.coherent, timeout=5)
    assert [await call(a.get(f"k{i}")) for i in range(100)] == list(range(100))
    left = [await call(a.ttl(f"k{i}")) for i in range(100)]
    assert all(0 < (t or 0) <= 30 for t in left)  # capped: served stale only that long
    assert len(strict) == 0
    fresh_redis_server.restart()
    assert wait_until(lambda: a._stats().l2.coherent, timeout=10)
    assert not a._store.contains(a._prefix, "k0")  # flushed once coherence is back


async def test_what_l1_holds_expires_after_stale_if_error(
    tiered: Callable[..., Any], fresh_redis_server: RedisServer, wait_until: Callable[..., bool]
) -> None:
    a = tiered(fresh_redis_server.url, redis_options=FAST, stale_if_error=0.2)
    assert wait_until(lambda: a._stats().l2.coherent)
    await call(a.set("k", "v"))
    fresh_redis_server.kill()
    assert wait_until(lambda: not a._stats().l2.coherent, timeout=5)
    deadline = time.monotonic() + 5
    while a._store.contains(a._prefix, "k") and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    assert await call(a.get("k")) is None


@pytest.mark.parametrize("bad", [-1, float("nan")])
def test_stale_if_error_is_validated(cache_cls: type[Any], bad: float) -> None:
    with pytest.raises(ValueError, match="stale_if_error"):
        cache_cls(redis="redis://127.0.0.1:1", stale_if_error=bad)


def test_stale_if_error_needs_a_tier(cache_cls: type[Any]) -> None:
    with pytest.raises(ConfigError, match="stale_if_error"):
        cache_cls(stale_if_error=5)
    assert stratacache.Cache().stats().l2 is None
