"""Fixtures of the Redis tier tests: caches on the real servers of tests_py/conftest.py."""

from __future__ import annotations

import asyncio
import inspect
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import redis

from stratacache.tiers.redis.plan import Message


@pytest.fixture
async def tiered(cache_cls: type[Any]) -> AsyncIterator[Callable[..., Any]]:
    """Factory of caches (the parametrised class) with a Redis tier; all closed after the test.

    Each cache stands for one process: its own L1, its own subscriber.
    """
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


@pytest.fixture
def wait_until() -> Callable[..., bool]:
    """Polls a predicate until it holds or the timeout passes; returns its last value."""

    def wait(predicate: Callable[[], bool], timeout: float = 3.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.005)
        return predicate()

    return wait


@pytest.fixture
def eventually() -> Callable[..., Any]:
    """Async polling: lets the event loop (and background threads) run between checks."""

    async def wait(predicate: Callable[[], bool], timeout: float = 3.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            await asyncio.sleep(0.005)
        return predicate()

    return wait


@pytest.fixture
def settle(wait_until: Callable[..., bool]) -> Callable[..., None]:
    """Waits until every given cache has applied the invalidations published so far.

    Publishes a no-op message after them; Redis delivers one channel's messages in order, so
    once a cache has applied the marker it has applied everything before it.
    """

    def run(url: str, *caches: Any) -> None:
        marker = uuid.uuid4().hex
        client = redis.Redis.from_url(url)
        try:
            client.publish(caches[0]._tier.channel, Message(marker, "k", "", ()).encode())
        finally:
            client.close()
        for cache in caches:
            # 10 s: an AsyncCache subscribes in the background, later on a busy machine.
            assert wait_until(lambda t=cache._tier: t.last_origin == marker, 10.0)

    return run


async def until(predicate: Callable[[], Any], timeout: float = 10.0) -> bool:
    """Polls `predicate` (sync or async), letting the loop and threads run between calls."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return True
        await asyncio.sleep(0.02)
    return False
