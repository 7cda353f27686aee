"""Issue 14: with coherence="tracking", Redis reports every change of a key, this process's
own writes included, and names no writer: a disk copy this process wrote stays while Redis
still holds its bytes (`DiskLink.drop_changed`), and any other change drops it. Real servers,
sync and async."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import redis

from stratacache import RedisOptions

from ..conftest import call

TRACKING = RedisOptions(coherence="tracking")


@pytest.fixture
async def make(
    cache_cls: type[Any], tmp_path: Path, wait_until: Callable[..., bool]
) -> AsyncIterator[Callable[..., Any]]:
    made: list[Any] = []

    def build(url: str, directory: str) -> Any:
        cache = cache_cls(
            redis=url, disk=tmp_path / directory, default_ttl=60, redis_options=TRACKING
        )
        made.append(cache)
        assert wait_until(lambda: cache._stats().l2.coherent, timeout=10)
        return cache

    yield build
    for cache in made:
        await call(cache.close())


def on_disk(cache: Any, key: str) -> bool:
    return cache._disk.remaining(cache.namespace, key) is not None


def reports(cache: Any) -> int:
    return int(cache._stats().l2.invalidations_received)


async def set_reported(c: Any, key: str, value: Any, wait_until: Callable[..., bool]) -> None:
    """Sets `key` and waits for Redis's report of that write to be applied."""
    before = reports(c)
    await call(c.set(key, value))
    assert wait_until(lambda: reports(c) > before, timeout=10)


async def test_our_own_write_keeps_its_disk_copy(
    make: Callable[..., Any], redis_clean_url: str, wait_until: Callable[..., bool]
) -> None:
    c = make(redis_clean_url, "d")
    for i in range(5):
        await set_reported(c, f"k{i}", f"ours {i}", wait_until)
        assert on_disk(c, f"k{i}")
    assert not c._store.contains(c._prefix, "k0")  # the report dropped L1's copy ...
    disk_hits, redis_hits = c._stats().disk.hits, c._stats().l2.hits
    assert await call(c.get("k0")) == "ours 0"  # ... and the disk serves it, not Redis
    assert c._stats().disk.hits == disk_hits + 1
    assert c._stats().l2.hits == redis_hits


async def test_a_change_by_anyone_else_drops_the_copy(
    make: Callable[..., Any], redis_clean_url: str, wait_until: Callable[..., bool]
) -> None:
    c = make(redis_clean_url, "d")
    other = make(redis_clean_url, "elsewhere")  # another host
    raw = redis.Redis.from_url(redis_clean_url)  # a client without stratacache
    for key in ("theirs", "raw", "gone"):
        await set_reported(c, key, "ours", wait_until)
    assert all(on_disk(c, k) for k in ("theirs", "raw", "gone"))
    await call(other.set("theirs", "theirs"))
    raw.set(b"sc:\x1fraw", raw.get(b"sc:\x1ftheirs") or b"")  # other bytes than ours
    raw.delete(b"sc:\x1fgone")
    assert wait_until(lambda: not any(on_disk(c, k) for k in ("theirs", "raw", "gone")), 10)
    assert await call(c.get("theirs")) == "theirs"
    assert await call(c.get("raw")) == "theirs"
    assert await call(c.get("gone")) is None


async def test_a_copy_redis_no_longer_holds_goes_even_if_we_wrote_it(
    make: Callable[..., Any], redis_clean_url: str, wait_until: Callable[..., bool]
) -> None:
    c = make(redis_clean_url, "d")
    raw = redis.Redis.from_url(redis_clean_url)
    await call(c.set("k", "ours"))
    raw.delete(b"sc:\x1fk")  # right behind our write: its report may be checked after this
    assert wait_until(lambda: not on_disk(c, "k"), timeout=10)
    assert await call(c.get("k")) is None
