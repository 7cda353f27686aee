"""Fixtures of the backup tests: caches on the real servers of tests_py/conftest.py."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import redis


@pytest.fixture
async def tiered(cache_cls: type[Any]) -> AsyncIterator[Callable[..., Any]]:
    """Factory of caches (the parametrised class) with a Redis tier; all closed after."""
    made: list[Any] = []

    def make(url: str, **kwargs: Any) -> Any:
        kwargs.setdefault("default_ttl", 60)
        cache = cache_cls(redis=url, **kwargs)
        made.append(cache)
        return cache

    yield make
    for cache in made:
        result = cache.close()
        if inspect.isawaitable(result):
            await result


def raw(url: str) -> redis.Redis:
    """A plain redis-py client of `url` (the test closes it)."""
    return redis.Redis.from_url(url)


def keys_of(url: str) -> set[bytes]:
    """Every key on the server (SCAN over a small keyspace), but the probe key a new cache's
    connect-time check writes and deletes (an AsyncCache's check runs in the background)."""
    client = raw(url)
    try:
        return {k for k in client.scan_iter(count=1000) if not k.endswith(b"probe")}
    finally:
        client.close()
