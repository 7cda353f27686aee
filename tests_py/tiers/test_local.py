"""The L1-only driver (tiers/local.py): what a cache without lower tiers does on each call."""

from __future__ import annotations

from typing import Any

import pytest

import stratacache
from stratacache.tiers.local import LocalDriver

from ..conftest import call


async def test_every_method_works_without_a_tier(cache_cls: type[Any]) -> None:
    cache = cache_cls(max_entries=100)
    await call(cache.set("a", 1))
    await call(cache.set_many({"b": 2, "c": 3}))
    assert await call(cache.get_many(["a", "b", "z"])) == {"a": 1, "b": 2}
    assert await call(cache.get("z", "default")) == "default"
    assert await call(cache.contains("c"))
    assert not await call(cache.contains("z"))
    assert await call(cache.ttl("z")) is None
    assert await call(cache.delete("a"))
    assert not await call(cache.delete("a"))
    assert await call(cache.delete_many(["b", "z"])) == 1
    assert await call(cache.invalidate_pattern("c*")) == 1
    await call(cache.set("d", 4))
    assert await call(cache.clear()) == 1
    assert cache.stats().l2 is None
    await call(cache.close())


async def test_tags_refused_without_a_tier(cache_cls: type[Any]) -> None:
    cache = cache_cls()
    with pytest.raises(stratacache.ConfigError, match="tags need a Redis tier"):
        await call(cache.set("k", 1, tags=["t"]))
    with pytest.raises(stratacache.ConfigError, match="tags need a Redis tier"):
        await call(cache.invalidate_tags("t"))
    assert len(cache) == 0


async def test_set_through_the_class_refuses_tags(cache_cls: type[Any]) -> None:
    cache = cache_cls(max_bytes=10_000)  # the weighing setter, not the C one
    with pytest.raises(stratacache.ConfigError, match="tags need a Redis tier"):
        await call(cache_cls.set(cache, "k", 1, tags=["t"]))
    await call(cache_cls.set(cache, "k", 1))
    assert await call(cache.get("k")) == 1


def test_driver_clears_one_namespace() -> None:
    cache = stratacache.Cache(namespace="a")
    driver = LocalDriver(cache._store, None, None)
    driver.write("a", "k", 1, None)
    driver.write("b", "k", 2, None)
    assert driver.clear("b") == 1
    assert cache.get("k") == 1
    assert driver.delete("a", ["k", "missing"]) == 1


def test_weighing_driver_weighs_key_and_value() -> None:
    cache = stratacache.Cache(max_bytes=1000)
    driver = LocalDriver(cache._store, None, lambda _value: 100)
    driver.write("", "key", "v", None)
    assert cache.stats().bytes == len("key") + 100
