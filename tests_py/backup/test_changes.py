"""The change log: incremental backups and point-in-time restores."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import stratacache
from stratacache.backup import BackupError
from stratacache.backup.redis_tier import server_ms

from ..conftest import call
from .conftest import keys_of, raw

LOGGED = stratacache.RedisOptions(change_log=True)


async def _tick(url: str) -> int:
    """Redis time now, after a few milliseconds (so later changes get later stream ids)."""
    await asyncio.sleep(0.01)
    client = raw(url)
    try:
        now = server_ms(client)
    finally:
        client.close()
    await asyncio.sleep(0.01)
    return now


async def test_incremental_holds_only_the_changes(
    tiered: Callable[..., Any], redis_clean_url: str, tmp_path: Path
) -> None:
    cache = tiered(redis_clean_url, redis_options=LOGGED)
    for i in range(200):
        await call(cache.set(f"k{i}", i))
    await call(cache.invalidate_tags("grp"))
    await call(cache.set("tagged", "old", tags=["grp"]))
    await call(cache.backup(tmp_path / "full.scb"))

    await call(cache.set("k1", "changed"))
    await call(cache.set_many({"new1": 1, "new2": 2}))
    await call(cache.delete("k2"))
    await call(cache.invalidate_tags("grp"))
    await call(cache.invalidate_pattern("k1?"))  # k10..k19
    info = await call(cache.backup(tmp_path / "inc.scb", incremental_from=tmp_path / "full.scb"))
    assert info.incremental
    assert info.values == 0
    assert info.changes >= 6
    live = keys_of(redis_clean_url)
    raw(redis_clean_url).flushall()

    await call(cache.restore(tmp_path / "inc.scb"))  # finds full.scb next to it
    assert keys_of(redis_clean_url) == live - {b"stratacache-log:sc:"}
    fresh = tiered(redis_clean_url)
    assert await call(fresh.get("k1")) == "changed"
    assert await call(fresh.get("new2")) == 2
    assert await call(fresh.get("k2")) is None
    assert await call(fresh.get("k15")) is None
    assert await call(fresh.get("k150")) == 150
    assert await call(fresh.get("tagged")) is None  # its tag moved on after it was written


async def test_point_in_time(
    tiered: Callable[..., Any], redis_clean_url: str, tmp_path: Path
) -> None:
    cache = tiered(redis_clean_url, redis_options=LOGGED)
    await call(cache.set("a", 0))
    await call(cache.backup(tmp_path / "full.scb"))
    await _tick(redis_clean_url)
    await call(cache.set("a", 1))
    await call(cache.set("b", "b1"))
    first = await _tick(redis_clean_url)
    await call(cache.set("a", 2))
    await call(cache.delete("b"))
    second = await _tick(redis_clean_url)
    await call(cache.clear())
    await call(cache.set("c", 3))
    await call(cache.backup(tmp_path / "inc.scb", incremental_from=tmp_path / "full.scb"))

    expected = [(first, {"a": 1, "b": "b1", "c": None}), (second, {"a": 2, "b": None})]
    expected.append((None, {"a": None, "b": None, "c": 3}))
    for at, values in expected:
        raw(redis_clean_url).flushall()
        await call(cache.restore(tmp_path / "inc.scb", None if at is None else at / 1000))
        fresh = tiered(redis_clean_url)
        for key, value in values.items():
            assert await call(fresh.get(key)) == value, (at, key)


async def test_at_outside_the_backups(
    tiered: Callable[..., Any], redis_clean_url: str, tmp_path: Path
) -> None:
    cache = tiered(redis_clean_url, redis_options=LOGGED)
    await call(cache.set("a", 0))
    info = await call(cache.backup(tmp_path / "full.scb"))
    with pytest.raises(ValueError, match="before the full backup"):
        await call(cache.restore(tmp_path / "full.scb", (info.point_ms - 60_000) / 1000))
    with pytest.raises(ValueError, match="after the newest"):
        await call(cache.restore(tmp_path / "full.scb", (info.point_ms + 60_000) / 1000))


async def test_incremental_needs_the_change_log(
    tiered: Callable[..., Any], redis_clean_url: str, tmp_path: Path
) -> None:
    cache = tiered(redis_clean_url)
    await call(cache.set("a", 1))
    await call(cache.backup(tmp_path / "full.scb"))
    with pytest.raises(BackupError, match="change_log=True"):
        await call(cache.backup(tmp_path / "inc.scb", incremental_from=tmp_path / "full.scb"))
    assert not (tmp_path / "inc.scb").exists()


async def test_trimmed_log_refused(
    tiered: Callable[..., Any], redis_clean_url: str, tmp_path: Path
) -> None:
    options = stratacache.RedisOptions(change_log=True, change_log_max=10)
    cache = tiered(redis_clean_url, redis_options=options)
    await call(cache.set("a", 1))
    await call(cache.backup(tmp_path / "full.scb"))
    for i in range(600):  # MAXLEN ~ trims whole stream nodes (100 entries): well past 10
        await call(cache.set(f"k{i}", i))
    with pytest.raises(BackupError, match="trimmed"):
        await call(cache.backup(tmp_path / "inc.scb", incremental_from=tmp_path / "full.scb"))


async def test_missing_base_refused(
    tiered: Callable[..., Any], redis_clean_url: str, tmp_path: Path
) -> None:
    cache = tiered(redis_clean_url, redis_options=LOGGED)
    await call(cache.set("a", 1))
    await call(cache.backup(tmp_path / "full.scb"))
    await call(cache.set("a", 2))
    await call(cache.backup(tmp_path / "inc.scb", incremental_from=tmp_path / "full.scb"))
    (tmp_path / "full.scb").unlink()
    raw(redis_clean_url).flushall()
    with pytest.raises(BackupError, match="found neither"):
        await call(cache.restore(tmp_path / "inc.scb"))
    assert keys_of(redis_clean_url) == set()


def test_cluster_incremental(
    redis_cluster_clean: stratacache.testing.redis_servers.RedisClusterGroup, tmp_path: Path
) -> None:
    url = redis_cluster_clean.url
    with stratacache.Cache(redis=url, default_ttl=60, redis_options=LOGGED) as cache:
        cache.set_many({f"key-{i}": i for i in range(300)})
        cache.backup(tmp_path / "full.scb")
        cache.set_many({f"key-{i}": -i for i in range(100)})
        cache.delete("key-299")
        cache.invalidate_pattern("key-2?")  # key-20..key-29, spread over the nodes
        info = cache.backup(tmp_path / "inc.scb", incremental_from=tmp_path / "full.scb")
        assert info.changes == 102
        redis_cluster_clean.flushall()
        cache.restore(tmp_path / "inc.scb")
    expected = {f"key-{i}": (-i if i < 100 else i) for i in range(299) if not 20 <= i <= 29}
    with stratacache.Cache(redis=url) as fresh:
        assert fresh.get_many([f"key-{i}" for i in range(300)]) == expected
