"""Type-checks clean: @Cache.cache keeps the decorated function's signature."""

from __future__ import annotations

import stratacache

c = stratacache.Cache(max_entries=10)


@c.cache
def add(a: int, b: int = 1) -> int:
    return a + b


@c.cache(ttl=5, namespace="x")
def name(user_id: int) -> str:
    return str(user_id)


total: int = add(1, b=2)
label: str = name(3)
add.invalidate(1)
hits: int = add.cache_info().hits
