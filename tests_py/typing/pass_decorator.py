"""Must type-check clean: a decorated function keeps its signature and gains cache controls."""

from __future__ import annotations

from collections.abc import Awaitable

from typing_extensions import assert_type

import stratacache
from stratacache.decorators import CacheInfo


@stratacache.cache
def load(user_id: int, *, fresh: bool = False) -> dict[str, int]:
    return {"id": user_id}


@stratacache.cache(ttl=60, namespace="users", unless=lambda r: r is None)
async def aload(user_id: int) -> str | None:
    return str(user_id)


@stratacache.cache(condition=bool, depends_on=lambda uid: [f"user:{uid}"])
def profile(uid: int) -> list[str]:
    return [str(uid)]


assert_type(profile(1), list[str])
assert_type(load(1), dict[str, int])
assert_type(load(1, fresh=True), dict[str, int])
assert_type(load.invalidate(1), bool)
assert_type(load.cache_info(), CacheInfo)
assert_type(load.cache_info().hits, int)


async def use_async() -> None:
    assert_type(await aload(1), str | None)
    assert_type(aload.invalidate(1), Awaitable[bool])


class Catalog:
    @stratacache.cache
    def price(self, item: int) -> float:
        return float(item)

    @staticmethod
    @stratacache.cache(ttl=5)
    def tax(amount: float) -> float:
        return amount * 0.2


catalog = Catalog()
assert_type(catalog.price(3), float)
assert_type(catalog.price.invalidate(3), bool)
assert_type(Catalog.tax(2.0), float)
