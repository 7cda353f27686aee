"""Cached functions on a Redis tier: what the decorator's controls promise across processes."""

from __future__ import annotations

import asyncio
import datetime as dt
import inspect
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import stratacache
from stratacache import _default

pytestmark = pytest.mark.usefixtures("redis_clean_url")


def counted(is_async: bool) -> tuple[Callable[..., Any], list[int]]:
    """A function (sync or async) recording its calls; returns 10 * x + the call number."""
    calls: list[int] = []
    if is_async:

        async def load_async(x: int) -> int:
            calls.append(x)
            await asyncio.sleep(0)
            return x * 10 + len(calls) - 1

        return load_async, calls

    def load(x: int) -> int:
        calls.append(x)
        return x * 10 + len(calls) - 1

    return load, calls


async def run(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    result = fn(*args, **kwargs)
    return await result if inspect.isawaitable(result) else result


def is_async(cache: Any) -> bool:
    return isinstance(cache, stratacache.AsyncCache)


async def test_invalidate_reaches_redis_and_every_process(
    tiered: Callable[..., Any], redis_url: str, settle: Callable[..., None]
) -> None:
    a, b = tiered(redis_url), tiered(redis_url)  # two processes
    fn, calls = counted(is_async(a))
    fa, fb = a.cache(ttl=30)(fn), b.cache(ttl=30)(fn)
    assert await run(fa, 1) == 10
    assert await run(fb, 1) == 10  # from Redis, now in b's L1 too
    assert await run(fa.invalidate, 1) is True
    settle(redis_url, a, b)
    assert await run(fb, 1) == 11  # neither b's L1 nor Redis kept the old value
    assert await run(fa, 1) == 11  # the caller reads the new one, not the old from Redis
    assert calls == [1, 1]
    assert await run(fa.invalidate, 1) is True
    assert await run(fa.invalidate, 1) is False


async def test_an_async_functions_invalidate_clears_l1_before_it_is_awaited(
    redis_url: str,
) -> None:
    cache = stratacache.AsyncCache(redis=redis_url)
    try:
        fn, _calls = counted(True)
        f = cache.cache(ttl=30)(fn)
        await f(2)
        pending = f.invalidate(2)
        assert len(cache) == 0  # L1 is already clear
        assert await pending is True
        assert await cache.get(f"{f.__stratacache_site__.keys.head}2") is None
    finally:
        await cache.close()


async def test_one_ttl_range_for_l1_and_redis(tiered: Callable[..., Any], redis_url: str) -> None:
    a, b = tiered(redis_url), tiered(redis_url)
    with pytest.raises(stratacache.InvalidTTLError, match=r"<= 1e\+15 seconds"):
        await run(a.set, "k", "v", ttl=1e16)  # used to land in L1 only, Redis refusing its PX
    with pytest.raises(stratacache.InvalidTTLError, match=r"<= 1e\+15 seconds"):
        await run(a.set_many, {"k": "v"}, ttl=1e17)  # used to be a bare ValueError
    assert len(a) == 0
    await run(a.set, "k", "longest", ttl=1e15)
    assert await run(b.get, "k") == "longest"  # the longest TTL reaches Redis
    assert await run(b.ttl, "k") > 1e14


class Secretive:
    """A result no codec can encode."""


async def test_a_result_redis_cannot_encode_is_kept_in_l1_and_counted(
    tiered: Callable[..., Any], redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    a, b = tiered(redis_url), tiered(redis_url)
    calls: list[int] = []

    def body(x: int) -> Secretive:
        calls.append(x)
        return Secretive()

    if is_async(a):

        async def load_async(x: int) -> Secretive:
            return body(x)

        fa, fb = a.cache(ttl=30)(load_async), b.cache(ttl=30)(load_async)
    else:
        fa, fb = a.cache(ttl=30)(body), b.cache(ttl=30)(body)
    with caplog.at_level("WARNING", logger="stratacache"):
        first = await run(fa, 1)
        assert await run(fa, 1) is first  # from L1: the function ran once
    assert calls == [1]
    assert fa.cache_info().unencodable == 1
    assert "cannot encode" in caplog.text
    assert "kept in L1 only" in caplog.text
    assert "Secretive" not in caplog.text  # no value, no type of it, in the log
    assert await run(fb, 1) is not first  # another process: not in Redis, computed again
    assert calls == [1, 1]


@pytest.mark.parametrize("l1", [True, False])
async def test_a_lone_surrogate_key_is_a_value_error_on_the_tier_too(
    tiered: Callable[..., Any], redis_url: str, l1: bool
) -> None:
    c = tiered(redis_url, l1=l1)
    for op, args in [(c.set, ("k\udc80", 1)), (c.get, ("k\udc80",)), (c.delete, ("k\udc80",))]:
        with pytest.raises(ValueError, match="lone surrogate at index 1") as info:
            await run(op, *args)
        assert not isinstance(info.value, UnicodeError)


async def test_a_timedelta_ttl_reaches_redis(tiered: Callable[..., Any], redis_url: str) -> None:
    a, b = tiered(redis_url, lock_timeout=dt.timedelta(seconds=1)), tiered(redis_url)
    await run(a.set, "k", "v", ttl=dt.timedelta(minutes=2))
    assert 100 < await run(b.ttl, "k") <= 120  # Redis's PX, seen from another cache
    fn, _calls = counted(is_async(a))
    f = a.cache(ttl=dt.timedelta(seconds=30))(fn)
    await run(f, 3)
    assert 20 < await run(b.ttl, f"{f.__stratacache_site__.keys.head}3") <= 30


async def test_cache_clear_reaches_redis_and_every_process(
    tiered: Callable[..., Any], redis_url: str, settle: Callable[..., None]
) -> None:
    a, b = tiered(redis_url), tiered(redis_url)
    fn, calls = counted(is_async(a))
    fa, fb = a.cache(ttl=30)(fn), b.cache(ttl=30)(fn)
    for x in (1, 2):
        assert await run(fa, x) == x * 10 + len(calls) - 1
        await run(fb, x)  # from Redis, into b's L1
    await run(a.set, "unrelated", "kept")
    assert calls == [1, 2]
    await run(fa.cache_clear)
    settle(redis_url, a, b)
    assert fb.cache_info().currsize == 0
    assert await run(fb, 1) == 12  # neither b's L1 nor Redis kept it
    assert await run(fa, 2) == 23
    assert calls == [1, 2, 1, 2]
    assert await run(b.get, "unrelated") == "kept"


@pytest.fixture
def default_from_env(monkeypatch: pytest.MonkeyPatch, redis_url: str) -> Iterator[None]:
    """STRATACACHE_URL set to the test server; the default caches rebuilt from it."""
    monkeypatch.setenv("STRATACACHE_URL", redis_url)
    _default.reset()
    yield
    _default.get().close()
    monkeypatch.delenv("STRATACACHE_URL")
    stratacache.configure()  # later tests get an L1-only default again


@pytest.mark.usefixtures("default_from_env")
async def test_the_default_cache_serves_async_functions_with_a_url(redis_url: str) -> None:
    sync_fn, sync_calls = counted(False)
    async_fn, async_calls = counted(True)
    f, af = stratacache.cache(ttl=30)(sync_fn), stratacache.cache(ttl=30)(async_fn)
    assert f(1) == 10
    assert await af(2) == 20  # used to raise ConfigError
    assert await af(2) == 20
    assert (sync_calls, async_calls) == ([1], [2])
    twin = _default.get_async()
    assert isinstance(twin, stratacache.AsyncCache)
    assert twin._tier is not None
    assert await twin.get(f"{af.__stratacache_site__.keys.head}2") == 20  # in Redis
    assert await af.invalidate(2) is True
    assert await af(2) == 21
    await twin.close()


async def test_configure_with_a_url_gives_async_functions_a_twin(redis_url: str) -> None:
    async_fn, _calls = counted(True)
    af = stratacache.cache(async_fn)
    try:
        sync_default = stratacache.configure(redis=redis_url)
        assert await af(3) == 30
        assert await run(sync_default.get, f"{af.__stratacache_site__.keys.head}3") == 30
        await _default.get_async().close()
        sync_default.close()
    finally:
        stratacache.configure()
    assert await af(3) == 31  # back on an L1-only default: a new, empty cache
