"""``@cache(..., condition=fn)``: only results `fn` accepts are stored (issue 15).

Run on L1-only caches and on a Redis tier, sync and async; on Redis a refused result must
leave no lease behind in its key.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import redis

import stratacache
from stratacache.tiers.redis.plan import LEASE_PREFIX

from .conftest import call


def counted(is_async: bool, results: list[Any]) -> tuple[Callable[..., Any], list[int]]:
    """A function returning results[n] on its n-th call, recording its calls."""
    calls: list[int] = []
    if is_async:

        async def load_async(x: int) -> Any:
            calls.append(x)
            await asyncio.sleep(0)
            return results[len(calls) - 1]

        return load_async, calls

    def load(x: int) -> Any:
        calls.append(x)
        return results[len(calls) - 1]

    return load, calls


@pytest.fixture(params=["l1", "redis"])
async def cache(request: pytest.FixtureRequest, cache_cls: type[Any]) -> AsyncIterator[Any]:
    """A cache of the parametrised class, L1-only or on the (emptied) Redis server."""
    kwargs: dict[str, Any] = {"default_ttl": 60}
    if request.param == "redis":
        kwargs["redis"] = request.getfixturevalue("redis_clean_url")
    made = cache_cls(**kwargs)
    yield made
    closed = made.close()
    if inspect.isawaitable(closed):
        await closed


def is_async(cache: Any) -> bool:
    return isinstance(cache, stratacache.AsyncCache)


async def test_a_false_condition_returns_the_result_uncached(cache: Any) -> None:
    fn, calls = counted(is_async(cache), [None, None, 7, 8])
    f = cache.cache(condition=lambda r: r is not None)(fn)
    assert await call(f(1)) is None
    assert await call(f(1)) is None  # not stored: the function ran again
    assert await call(f(1)) == 7
    assert await call(f(1)) == 7  # stored
    assert calls == [1, 1, 1]
    assert f.cache_info().hits == 1


async def test_condition_and_unless_both_filter(cache: Any) -> None:
    fn, calls = counted(is_async(cache), [-1, 1000, 5, 6])
    f = cache.cache(unless=lambda r: r > 100, condition=lambda r: r >= 0)(fn)
    assert [await call(f(1)) for _ in range(4)] == [-1, 1000, 5, 5]
    assert len(calls) == 3


async def test_a_raising_condition_propagates_and_stores_nothing(cache: Any) -> None:
    fn, calls = counted(is_async(cache), [1, 2])

    def condition(result: Any) -> bool:
        if result == 1:
            raise LookupError(result)
        return True

    f = cache.cache(condition=condition)(fn)
    with pytest.raises(LookupError):
        await call(f(3))
    assert await call(f(3)) == 2  # nothing was stored by the failed call
    assert await call(f(3)) == 2
    assert calls == [3, 3]


async def test_a_refused_result_leaves_no_lease_in_redis(
    cache_cls: type[Any], redis_clean_url: str
) -> None:
    c = cache_cls(redis=redis_clean_url, default_ttl=60)
    client = redis.Redis.from_url(redis_clean_url)
    try:
        fn, _ = counted(is_async(c), [None, None, 3])
        f = c.cache(condition=lambda r: r is not None)(fn)
        assert await call(f(1)) is None
        keys = client.keys("*")
        assert [k for k in keys if (client.get(k) or b"").startswith(LEASE_PREFIX)] == []
        assert keys == []  # nothing at all: the lease was the only thing written
        assert await call(f(1)) is None
        assert await call(f(1)) == 3
        assert len(client.keys("*")) == 1  # an accepted result is stored as before
    finally:
        client.close()
        await call(c.close())


async def test_a_raising_condition_releases_the_lease(
    cache_cls: type[Any], redis_clean_url: str
) -> None:
    c = cache_cls(redis=redis_clean_url, default_ttl=60)
    client = redis.Redis.from_url(redis_clean_url)
    try:
        fn, _ = counted(is_async(c), [1])
        f = c.cache(condition=lambda r: 1 / 0)(fn)
        with pytest.raises(ZeroDivisionError):
            await call(f(1))
        assert client.keys("*") == []
    finally:
        client.close()
        await call(c.close())


@pytest.mark.parametrize("bad", [1, "yes", True])
def test_condition_must_be_callable(bad: Any) -> None:
    c = stratacache.Cache()
    with pytest.raises(TypeError, match="condition must be a callable"):
        c.cache(condition=bad)
    with pytest.raises(TypeError, match="condition must be a callable"):
        stratacache.cache(condition=bad)
