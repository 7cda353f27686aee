"""The L1 + disk chain through the public API, sync and async: reads, backfill with the TTL
left, writes and every invalidation reaching the disk, the decorator, stats and validation."""

from __future__ import annotations

import asyncio
import math
import os
from pathlib import Path
from typing import Any

import pytest

import stratacache
from stratacache import AsyncCache, Cache, ConfigError, DiskOptions


async def call(result: Any) -> Any:
    """Awaits an AsyncCache's coroutine; returns a Cache's value as it is."""
    return await result if asyncio.iscoroutine(result) else result


@pytest.fixture(params=["sync", "async"])
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    kind = Cache if request.param == "sync" else AsyncCache

    def build(**kwargs: Any) -> Any:
        kwargs.setdefault("disk", DiskOptions(tmp_path / "disk", max_bytes=1 << 22))
        return kind(**kwargs)

    return build


async def test_disk_serves_what_l1_lost(make: Any, tmp_path: Path) -> None:
    first = make()
    await call(first.set("k", {"v": [1, 2, 3]}, ttl=60))
    second = make()  # another cache on the same directory: its L1 is empty
    assert await call(second.get("k")) == {"v": [1, 2, 3]}
    left = second._store.ttl(second._prefix, "k")  # backfilled with what was left, not 60 anew
    assert left is not None
    assert 0 < left <= 60
    assert second.stats().disk.hits == 1


async def test_a_value_without_ttl_never_expires_on_disk(make: Any) -> None:
    first = make()
    await call(first.set("k", "v"))
    assert await call(make().ttl("k")) == math.inf


async def test_expired_entries_are_not_served(make: Any) -> None:
    first = make()
    await call(first.set("k", "v", ttl=0.2))
    await asyncio.sleep(0.3)
    second = make()
    assert await call(second.get("k", "missing")) == "missing"
    assert second.stats().disk.expired >= 1


async def test_every_invalidation_reaches_the_disk(make: Any) -> None:
    writer = make()
    await call(writer.set_many({"user:1": 1, "user:2": 2, "item:1": 3, "gone": 4}))
    await call(writer.delete("gone"))
    assert await call(writer.invalidate_pattern("user:*")) >= 2
    reader = make()
    assert await call(reader.get_many(["user:1", "user:2", "item:1", "gone"])) == {"item:1": 3}
    await call(writer.clear())
    assert await call(make().get("item:1")) is None


async def test_namespace_clear_leaves_other_namespaces(make: Any) -> None:
    a, b = make(namespace="a"), make(namespace="b")
    await call(a.set("k", "in a"))
    await call(b.set("k", "in b"))
    await call(a.clear(namespace="a"))
    assert await call(make(namespace="a").get("k")) is None
    assert await call(make(namespace="b").get("k")) == "in b"


def test_decorator_reads_and_fills_the_disk(tmp_path: Path) -> None:
    calls: list[int] = []
    opts = DiskOptions(tmp_path / "d", max_bytes=1 << 22)
    first, second = Cache(disk=opts), Cache(disk=opts)

    def compute(x: int) -> int:
        calls.append(x)
        return x * 2

    f1 = first.cache(ttl=60)(compute)
    f2 = second.cache(ttl=60)(compute)
    assert f1(21) == 42
    assert f2(21) == 42  # second's L1 is empty: served from the disk
    assert calls == [21]
    assert second.stats().disk.hits == 1  # type: ignore[union-attr]


async def test_async_decorator_through_the_disk(tmp_path: Path) -> None:
    opts = DiskOptions(tmp_path / "d", max_bytes=1 << 22)
    calls: list[int] = []

    async def compute(x: int) -> int:
        calls.append(x)
        return x + 1

    f1 = AsyncCache(disk=opts).cache(ttl=60)(compute)
    f2 = AsyncCache(disk=opts).cache(ttl=60)(compute)
    assert await f1(1) == 2
    assert await f2(1) == 2
    assert calls == [1]


async def test_corrupt_envelope_is_a_counted_miss(make: Any) -> None:
    cache = make()
    cache._disk.store.set("\x1fk", b"\xff not an envelope", 60.0)
    assert await call(make().get("k", "default")) == "default"
    reader = make()
    await call(reader.get("k"))
    assert reader.stats().disk.corrupt == 1


async def test_an_envelope_moved_to_another_key_does_not_decode(tmp_path: Path) -> None:
    codec = stratacache.Codec(signing_key=b"k" * 32)
    opts = DiskOptions(tmp_path / "d", max_bytes=1 << 22)
    cache = Cache(disk=opts, codec=codec)
    cache.set("a", "secret")
    hit = cache._disk.store.get("\x1fa")
    cache._disk.store.set("\x1fb", hit[0], 60.0)
    reader = Cache(disk=opts, codec=codec)
    assert reader.get("b") is None
    assert reader.stats().disk.corrupt == 1  # type: ignore[union-attr]


async def test_tags_keep_the_l1_rule(make: Any) -> None:
    with pytest.raises(ConfigError, match="tags need a Redis tier"):
        await call(make().set("k", 1, tags=["t"]))


def test_disk_with_redis_needs_l1(tmp_path: Path) -> None:
    # The chain L1 -> disk -> Redis itself is tested in test_disk_chain.py.
    with pytest.raises(ConfigError, match="needs l1=True"):
        Cache(disk=tmp_path / "d", redis="redis://127.0.0.1:1", l1=False)


def test_a_value_heavier_than_the_bound_stays_in_l1(tmp_path: Path) -> None:
    cache = Cache(disk=DiskOptions(tmp_path / "d", max_bytes=1 << 16))
    big = os.urandom(1 << 16)  # incompressible: the envelope stays heavier than the bound
    cache.set("big", big)
    assert cache.get("big") == big  # L1
    assert cache.stats().disk.rejected == 1  # type: ignore[union-attr]


def test_a_refused_value_does_not_leave_the_older_one_on_disk(tmp_path: Path) -> None:
    cache = Cache(disk=DiskOptions(tmp_path / "d", max_bytes=1 << 16))
    cache.set("k", "old")
    cache.set("k", os.urandom(1 << 16))  # refused by the disk, kept in L1
    cache._store.clear("")  # L1 evicts it
    assert cache.get("k") is None  # a miss, not the value it replaced


def test_disk_options_validation(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match=r"str or os\.PathLike"):
        DiskOptions(42)  # type: ignore[arg-type]
    file = tmp_path / "file"
    file.write_text("x")
    with pytest.raises(ConfigError, match="not a directory"):
        DiskOptions(file)
    other = tmp_path / "other"
    other.mkdir()
    (other / "app.db").write_text("someone else's")
    with pytest.raises(ConfigError, match="did not write"):
        DiskOptions(other)
    with pytest.raises(ConfigError, match="durability"):
        DiskOptions(tmp_path / "d", durability="always")
    with pytest.raises(ConfigError, match="max_bytes"):
        DiskOptions(tmp_path / "d", max_bytes=10)
    with pytest.raises(TypeError, match="max_bytes"):
        DiskOptions(tmp_path / "d", max_bytes=1.5)  # type: ignore[arg-type]
    ours = DiskOptions(tmp_path / "d")
    Cache(disk=ours).set("k", 1)
    (ours.path / "intruder.txt").write_text("x")
    with pytest.raises(ConfigError, match="another program"):
        DiskOptions(ours.path)


def test_a_path_string_is_accepted(tmp_path: Path) -> None:
    cache = Cache(disk=str(tmp_path / "d"))
    cache.set("k", 1)
    assert Cache(disk=str(tmp_path / "d")).get("k") == 1
