"""Issue 14: a disk copy changed in Redis while no process of its host was subscribed is not
served after the next start (`tiers/disk/gap.py`), on real redis-servers, sync and async.

Each cache stands for one process; caches sharing a disk directory are workers of one host.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import redis

from stratacache import RedisOptions
from stratacache.backup.changelog import stream_key
from stratacache.backup.disk_tier import DiskSource
from stratacache.tiers.disk.gap import FRESH, Heartbeat

from ..conftest import call

LOGGED = RedisOptions(change_log=True)


@pytest.fixture
async def host(
    cache_cls: type[Any], tmp_path: Path, wait_until: Callable[..., bool]
) -> AsyncIterator[tuple[Callable[..., Any], Callable[[Any], Any]]]:
    """(make, close): caches on a disk directory `tmp_path / directory`, each coherent once
    made; `close` ends one (a process exiting); the others are closed at teardown."""
    open_caches: list[Any] = []

    def make(url: str, directory: str, **kwargs: Any) -> Any:
        cache = cache_cls(redis=url, disk=tmp_path / directory, default_ttl=60, **kwargs)
        open_caches.append(cache)
        assert wait_until(lambda: cache._stats().l2.coherent, timeout=10)
        return cache

    async def close(cache: Any) -> None:
        open_caches.remove(cache)
        result = cache.close()
        if inspect.isawaitable(result):
            await result

    yield make, close
    while open_caches:
        await close(open_caches[-1])


def on_disk(cache: Any, key: str) -> bool:
    return cache._disk.remaining(cache.namespace, key) is not None


async def test_a_delete_while_no_worker_runs_is_not_served_after_a_start(
    host: tuple[Callable[..., Any], Callable[[Any], Any]], redis_clean_url: str
) -> None:
    make, close = host
    a = make(redis_clean_url, "d")
    await call(a.set("k", "old"))
    assert on_disk(a, "k")
    await close(a)  # the host's last worker exits
    other = make(redis_clean_url, "elsewhere")  # another host deletes k meanwhile
    assert await call(other.delete("k")) is True
    b = make(redis_clean_url, "d")  # the host restarts
    assert not on_disk(b, "k")  # no change log: the disk was cleared before it served
    assert await call(b.get("k")) is None


async def test_with_a_change_log_only_the_changed_keys_leave_the_disk(
    host: tuple[Callable[..., Any], Callable[[Any], Any]], redis_clean_url: str
) -> None:
    make, close = host
    a = make(redis_clean_url, "d", redis_options=LOGGED)
    await call(a.set_many({"k": "old", "keep": "warm", "over": "v1", "user:1": 1, "user:22": 2}))
    await close(a)
    other = make(redis_clean_url, "elsewhere", redis_options=LOGGED)
    assert await call(other.delete("k")) is True
    await call(other.set("over", "v2"))
    assert await call(other.invalidate_pattern("user:?")) == 1
    b = make(redis_clean_url, "d", redis_options=LOGGED)
    assert not on_disk(b, "k")
    assert not on_disk(b, "over")
    assert not on_disk(b, "user:1")
    assert on_disk(b, "user:22")
    assert await call(b.get("k")) is None
    assert await call(b.get("over")) == "v2"
    disk_hits, redis_hits = b._stats().disk.hits, b._stats().l2.hits
    assert await call(b.get("keep")) == "warm"  # the warm restart is kept: from disk
    assert b._stats().disk.hits == disk_hits + 1
    assert b._stats().l2.hits == redis_hits


async def test_a_rolling_restart_keeps_the_disk_warm_and_correct(
    host: tuple[Callable[..., Any], Callable[[Any], Any]],
    redis_clean_url: str,
    wait_until: Callable[..., bool],
) -> None:
    make, close = host
    stays = make(redis_clean_url, "d")
    restarts = make(redis_clean_url, "d")
    await call(restarts.set_many({"k": "old", "keep": "warm"}))
    await close(restarts)
    other = make(redis_clean_url, "elsewhere")
    assert await call(other.delete("k")) is True
    assert wait_until(lambda: not on_disk(stays, "k"))  # the live worker dropped it
    # The live worker's heartbeat is fresh (it beats from its subscriber loop).
    assert wait_until(lambda: live_heartbeat(stays), 10.0)
    back = make(redis_clean_url, "d")
    assert on_disk(back, "keep")  # not cleared: a live worker covered the time
    disk_hits = back._stats().disk.hits
    assert await call(back.get("keep")) == "warm"
    assert back._stats().disk.hits == disk_hits + 1
    assert await call(back.get("k")) is None


async def test_a_change_log_trimmed_past_the_last_heartbeat_clears_the_disk(
    host: tuple[Callable[..., Any], Callable[[Any], Any]], redis_clean_url: str
) -> None:
    make, close = host
    a = make(redis_clean_url, "d", redis_options=LOGGED)
    await call(a.set_many({"k": "old", "keep": "warm"}))
    await close(a)
    other = make(redis_clean_url, "elsewhere", redis_options=LOGGED)
    assert await call(other.delete("k")) is True
    await call(other.set("later", 1))
    client = redis.Redis.from_url(redis_clean_url)
    key = stream_key("sc:")
    assert client.xlen(key) >= 3
    client.xtrim(key, maxlen=1, approximate=False)  # the delete of k is gone from the log
    b = make(redis_clean_url, "d", redis_options=LOGGED)
    assert not on_disk(b, "keep")  # cleared: the log could not tell what was deleted
    assert await call(b.get("k")) is None
    assert await call(b.get("keep")) == "warm"  # from Redis


async def test_each_subscribed_worker_keeps_a_heartbeat_outside_the_cache_keys(
    host: tuple[Callable[..., Any], Callable[[Any], Any]],
    redis_clean_url: str,
    wait_until: Callable[..., bool],
) -> None:
    make, close = host
    a, b = make(redis_clean_url, "d"), make(redis_clean_url, "d")
    assert a._tier.on_first_up is None  # the check ran before the cache was coherent

    def hearts() -> list[bytes]:
        return list(a._disk.store.keys("\x1fstratacache\x1fbeat\x1f", 16))

    assert wait_until(lambda: len(hearts()) == 2)
    await call(a.clear())  # a user's clear does not reach the heartbeats
    assert len(hearts()) == 2
    await close(b)
    assert len(hearts()) == 2  # b's last record, marked ended


async def test_backups_of_the_disk_leave_the_heartbeats_out(
    host: tuple[Callable[..., Any], Callable[[Any], Any]],
    redis_clean_url: str,
    wait_until: Callable[..., bool],
) -> None:
    make, _ = host
    a = make(redis_clean_url, "d")
    source = DiskSource(a._disk.store)
    start = source.log_position()
    assert start is not None
    beats = a._disk.reserved_sets
    await call(a.set("k", 1))
    assert wait_until(lambda: a._disk.reserved_sets > beats)  # a beat after `start`
    full = [record[1] for record in source.snapshot(None)]
    changed = [record[1] for record in source.changes_since(start, None)]
    assert full == [b"sc:\x1fk"]  # the heartbeat is there, but not the user's
    assert changed == [b"sc:\x1fk"]
    assert a._stats().disk.entries == 1


async def test_with_a_change_log_a_killed_worker_leaves_no_stale_copy(
    host: tuple[Callable[..., Any], Callable[[Any], Any]], redis_clean_url: str
) -> None:
    make, close = host
    a = make(redis_clean_url, "d", redis_options=LOGGED)
    await call(a.set_many({"k": "old", "keep": "warm"}))
    a._subscriber._on_stop = None  # as a kill -9: no ended record, its last beat looks live
    await close(a)
    other = make(redis_clean_url, "elsewhere", redis_options=LOGGED)
    assert await call(other.delete("k")) is True
    b = make(redis_clean_url, "d", redis_options=LOGGED)  # within FRESH of a's last beat
    assert not on_disk(b, "k")  # replayed from a's last beat, live or not
    assert on_disk(b, "keep")
    assert await call(b.get("k")) is None


def live_heartbeat(cache: Any) -> bool:
    """A record of the host that is not ended and under FRESH seconds old."""
    records = Heartbeat(cache._disk).records()
    return any(not ended and time.time() - t < FRESH for t, ended in records)
