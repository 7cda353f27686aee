"""Must type-check clean: AsyncCache.stats() both ways, cache_clear, timedelta TTLs."""

from __future__ import annotations

import datetime
from collections.abc import Awaitable

from typing_extensions import assert_type

import stratacache
from stratacache import CacheStats

cache = stratacache.Cache(default_ttl=datetime.timedelta(minutes=5))
cache.set("k", 1, ttl=datetime.timedelta(seconds=30))
cache.set("profile:1", 1, depends_on=["user:1"])


@cache.cache(ttl=datetime.timedelta(hours=1))
def load(user_id: int) -> str:
    return str(user_id)


@stratacache.cache
async def aload(user_id: int) -> str:
    return str(user_id)


assert_type(load.cache_clear(), None)
assert_type(load.cache_info().currsize, int | None)
assert_type(load.cache_info().maxsize, int | None)


async def use_async() -> None:
    acache = stratacache.AsyncCache()
    assert_type(acache.stats().hits, int)
    stats = await acache.stats()
    assert_type(stats, CacheStats)
    assert_type(aload.cache_clear(), Awaitable[None])
    await aload.cache_clear()
