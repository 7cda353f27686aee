"""Fixtures shared by the Python suite: caches parametrised over sync/async and policy, and
real Redis servers on loopback (standalone, TLS, Sentinel, Cluster)."""

from __future__ import annotations

import datetime as dt
import inspect
import math
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest

import stratacache
from stratacache.testing import redis_servers


@pytest.fixture(params=["sync", "async"])
def cache_cls(request: pytest.FixtureRequest) -> type[Any]:
    """Cache or AsyncCache."""
    return stratacache.Cache if request.param == "sync" else stratacache.AsyncCache


@pytest.fixture(params=stratacache.POLICIES)
def policy(request: pytest.FixtureRequest) -> str:
    """Every eviction policy the package ships."""
    return str(request.param)


@pytest.fixture
def make_cache(cache_cls: type[Any], policy: str) -> Callable[..., Any]:
    """Factory of caches of the parametrised class and policy."""

    def make(**kwargs: Any) -> Any:
        kwargs.setdefault("policy", policy)
        return cache_cls(**kwargs)

    return make


async def call(result: Any) -> Any:
    """Awaits `result` if the cache is async; the same test body drives both classes."""
    return await result if inspect.isawaitable(result) else result


# -- Redis: session-scoped servers are shared; the *_clean fixtures empty them for one test.
# A missing redis-server fails these fixtures with a ServerError saying what to install.


@pytest.fixture(scope="session")
def redis_server() -> Iterator[redis_servers.RedisServer]:
    """One standalone redis-server for the whole run; never kill or pause it."""
    with redis_servers.RedisServer() as server:
        yield server


@pytest.fixture(scope="session")
def redis_url(redis_server: redis_servers.RedisServer) -> str:
    """redis://127.0.0.1:PORT/0 of the session server (data left by other tests included)."""
    return redis_server.url


@pytest.fixture
def redis_clean_url(redis_server: redis_servers.RedisServer) -> str:
    """The session server's URL, FLUSHALLed for this test."""
    redis_server.flushall()
    return redis_server.url


@pytest.fixture
def fresh_redis_server() -> Iterator[redis_servers.RedisServer]:
    """A server of this test's own, free to kill, restart or pause."""
    with redis_servers.RedisServer() as server:
        yield server


@pytest.fixture(scope="session")
def redis_tls() -> Iterator[redis_servers.RedisTLSServer]:
    """A TLS-only server with ACL users reader and writer (`.url` is writer's, `.ca_file`)."""
    with redis_servers.RedisTLSServer() as server:
        yield server


@pytest.fixture
def redis_tls_clean(redis_tls: redis_servers.RedisTLSServer) -> redis_servers.RedisTLSServer:
    """The session TLS server, FLUSHALLed for this test."""
    redis_tls.flushall()
    return redis_tls


@pytest.fixture(scope="session")
def redis_sentinel() -> Iterator[redis_servers.RedisSentinelGroup]:
    """1 primary + 2 replicas + 3 sentinels; a test that kills a server calls heal() after."""
    with redis_servers.RedisSentinelGroup() as group:
        yield group


@pytest.fixture
def redis_sentinel_clean(
    redis_sentinel: redis_servers.RedisSentinelGroup,
) -> redis_servers.RedisSentinelGroup:
    """The session Sentinel group, healed from earlier faults and FLUSHALLed."""
    redis_sentinel.heal()
    redis_sentinel.flushall()
    return redis_sentinel


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[redis_servers.RedisClusterGroup]:
    """3 primaries + 3 replicas; a test that kills a node calls heal() after."""
    with redis_servers.RedisClusterGroup() as cluster:
        yield cluster


@pytest.fixture
def redis_cluster_clean(
    redis_cluster: redis_servers.RedisClusterGroup,
) -> redis_servers.RedisClusterGroup:
    """The session cluster, healed from earlier faults and FLUSHALLed."""
    redis_cluster.heal()
    redis_cluster.flushall()
    return redis_cluster


def _same_value(a: Any, b: Any) -> bool:
    """Equal with identical types at every level; nan equals nan, and signs of zero count."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (
            a == b and math.copysign(1, a) == math.copysign(1, b)
        )
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same_value(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same_value(a[k], b[k]) for k in a)
    if isinstance(a, Decimal):  # Decimal('1.10') == Decimal('1.1'), and NaN != NaN
        return str(a) == str(b)
    if isinstance(a, (dt.datetime, dt.time)):  # equal instants may differ in fold or zone
        return a == b and a.fold == b.fold and repr(a.tzinfo) == repr(b.tzinfo)
    return bool(a == b)


@pytest.fixture(scope="session")
def same_value() -> Callable[[Any, Any], bool]:
    """Exact equality for codec round trips (see _same_value)."""
    return _same_value
