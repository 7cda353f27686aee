"""WriteBehind on a real redis-server: durable appends, batches, coalescing, order per key,
retries, dead letters, flush and stats."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import redis

import stratacache
from stratacache.errors import ConfigError
from stratacache.patterns import AsyncWriteBehind, WriteBehind

from .conftest import RedisStore


def test_set_is_durable_before_any_worker_runs(
    redis_clean_url: str, record_store: RedisStore
) -> None:
    with stratacache.Cache(redis=redis_clean_url) as cache, WriteBehind(cache, record_store) as wb:
        for i in range(50):
            wb.set(f"k{i}", i)
        stats = wb.stats()
        assert (stats.backlog, stats.lag, stats.pending, stats.applied) == (50, 50, 0, 0)
        assert cache.get("k7") == 7  # the cache serves the write at once
        assert record_store.values() == {}
        wb.flush(timeout=20)
        assert record_store.values() == {f"k{i}": repr(i) for i in range(50)}
        assert wb.stats().backlog == 0


def test_repeated_writes_of_a_key_coalesce(redis_clean_url: str, record_store: RedisStore) -> None:
    with stratacache.Cache(redis=redis_clean_url) as cache:
        wb = WriteBehind(cache, record_store, batch=500, partitions=1)
        for i in range(300):
            wb.set(f"k{i % 10}", i)
        wb.flush(timeout=20)
        stats = wb.stats()
        assert stats.applied == 10
        assert stats.coalesced == 290
        assert record_store.values() == {f"k{j}": repr(290 + j) for j in range(10)}
        wb.close()


def test_order_per_key_with_several_workers(redis_clean_url: str, record_store: RedisStore) -> None:
    with stratacache.Cache(redis=redis_clean_url) as cache:
        wb = WriteBehind(cache, record_store, batch=7, partitions=3, lease=1.0)
        wb.start(threads=3)
        for i in range(600):
            wb.set(f"k{i % 13}", i)
        wb.flush(timeout=30)
        wb.close()
    per_key: dict[str, list[int]] = {}
    for line in record_store.log():
        key, _, value = line.partition("=")
        per_key.setdefault(key, []).append(int(value))
    assert len(per_key) == 13
    for key, seq in per_key.items():
        assert seq == sorted(seq), key
        assert seq[-1] == max(i for i in range(600) if f"k{i % 13}" == key)


def test_failing_writes_are_retried_then_dead_lettered(
    redis_clean_url: str, record_store: RedisStore
) -> None:
    record_store.fail_keys = {"poison"}
    wb = WriteBehind(redis_clean_url, record_store, retries=2, partitions=1)
    wb.set("good", 1)
    wb.set("poison", 2)
    wb.set("good2", 3)
    wb.flush(timeout=20)
    stats = wb.stats()
    assert stats.dead_lettered == 1
    assert stats.dead_letter_length == 1
    assert stats.retried == 3  # the first failure and two retries
    assert record_store.values() == {"good": "1", "good2": "3"}
    (dead,) = wb.dead_letters()
    assert dead["k"] == "poison"
    assert dead["attempts"] == "3"
    assert "ValueError: store refused 1 key(s)" in dead["error"]
    wb.close()


def test_a_transient_failure_is_retried_not_dead_lettered(
    redis_clean_url: str, record_store: RedisStore
) -> None:
    record_store.fail_times = 2
    wb = WriteBehind(redis_clean_url, record_store, retries=3, partitions=1)
    wb.set("k", "v")
    wb.flush(timeout=20)
    stats = wb.stats()
    assert (stats.retried, stats.dead_lettered, stats.applied) == (2, 0, 1)
    assert record_store.values() == {"k": "'v'"}
    wb.close()


def test_foreign_and_corrupt_entries_do_not_stop_the_pipeline(
    redis_clean_url: str, record_store: RedisStore
) -> None:
    wb = WriteBehind(redis_clean_url, record_store, partitions=1)
    raw = redis.Redis.from_url(redis_clean_url)
    stream = "sc:wb:{default:0}"
    raw.xadd(stream, {"something": "else"})
    raw.xadd(stream, {"k": "bad", "v": b"\x00not an envelope", "w": "x"})
    wb.set("ok", 1)
    wb.flush(timeout=20)
    assert record_store.values() == {"ok": "1"}
    assert [d["k"] for d in wb.dead_letters()] == ["bad"]
    raw.close()
    wb.close()


def test_a_second_process_takes_over_pending_entries(
    redis_clean_url: str, record_store: RedisStore
) -> None:
    wb = WriteBehind(redis_clean_url, record_store, partitions=1, lease=0.2)
    for i in range(20):
        wb.set(f"k{i}", i)
    crashed = wb.worker()  # reads a batch, then "dies" before acknowledging it
    assert crashed.held() == [0]
    crashed.client.xreadgroup("workers", crashed.consumer, {"sc:wb:{default:0}": ">"}, count=5)
    assert wb.stats().pending == 5
    other = WriteBehind(redis_clean_url, record_store, partitions=1, lease=0.2)
    other.flush(timeout=20)  # waits out the lease, claims the 5 (XAUTOCLAIM), then the rest
    assert record_store.values() == {f"k{i}": repr(i) for i in range(20)}
    assert wb.stats().backlog == 0
    other.close()
    wb.close()


def test_arguments_are_checked(redis_clean_url: str, record_store: RedisStore) -> None:
    with pytest.raises(TypeError, match="store"):
        WriteBehind(redis_clean_url, store=3)  # type: ignore[arg-type]
    for bad in ({"batch": 0}, {"max_delay": -1}, {"retries": -1}, {"partitions": 0}):
        with pytest.raises(ConfigError):
            WriteBehind(redis_clean_url, record_store, **bad)
    with pytest.raises(ConfigError, match="name"):
        WriteBehind(redis_clean_url, record_store, name="a{b}")
    with pytest.raises(ConfigError, match="no Redis tier"):
        WriteBehind(stratacache.Cache(), record_store)
    with pytest.raises(TypeError, match=r"AsyncWriteBehind|AsyncCache"):
        WriteBehind(stratacache.AsyncCache(), record_store)
    wb = WriteBehind(redis_clean_url, record_store)
    with pytest.raises(TypeError, match="key"):
        wb.set(b"k", 1)  # type: ignore[arg-type]
    wb.close()


async def test_async_write_behind(redis_clean_url: str, record_store: RedisStore) -> None:
    cache = stratacache.AsyncCache(redis=redis_clean_url)
    wb = AsyncWriteBehind(cache, record_store, batch=20)
    try:
        for i in range(100):
            await wb.set(f"k{i % 25}", i)
        assert await cache.get("k3") == 78
        wb.start(threads=2)
        await wb.flush(timeout=20)
        stats = await wb.stats()
        assert stats.backlog == 0
        assert stats.applied + stats.coalesced == 100
        assert record_store.values() == {f"k{j}": repr(75 + j) for j in range(25)}
    finally:
        await wb.close()
        await cache.close()


def test_max_delay_fills_batches(redis_clean_url: str, record_store: RedisStore) -> None:
    calls: list[int] = []

    def store(items: dict[str, Any]) -> None:
        calls.append(len(items))
        record_store(items)

    wb = WriteBehind(redis_clean_url, store, batch=1000, max_delay=0.2, partitions=1)
    stop = threading.Event()
    worker = threading.Thread(target=wb.work, args=(stop,))
    worker.start()
    try:
        for i in range(200):
            wb.set(f"k{i}", i)
        wb.flush(timeout=20)
    finally:
        stop.set()
        worker.join(timeout=10)
    assert sum(calls) == 200
    assert len(calls) < 200  # batched, not one call per write
    wb.close()


def test_set_many_is_durable_in_one_step(redis_clean_url: str, record_store: RedisStore) -> None:
    with stratacache.Cache(redis=redis_clean_url) as cache, WriteBehind(cache, record_store) as wb:
        wb.set_many({f"k{i}": i for i in range(250)})
        wb.set_many({})
        assert wb.stats().backlog == 250
        assert cache.get("k249") == 249
        wb.flush(timeout=20)
        assert record_store.values() == {f"k{i}": repr(i) for i in range(250)}
        with pytest.raises(TypeError, match="key"):
            wb.set_many({1: 2})  # type: ignore[dict-item]


async def test_async_set_many(redis_clean_url: str, record_store: RedisStore) -> None:
    wb = AsyncWriteBehind(redis_clean_url, record_store)
    try:
        await wb.set_many({f"k{i}": i for i in range(30)})
        await wb.flush(timeout=20)
        assert len(record_store.values()) == 30
    finally:
        await wb.close()


def test_a_worker_that_lost_its_lease_applies_nothing(
    redis_clean_url: str, record_store: RedisStore
) -> None:
    wb = WriteBehind(redis_clean_url, record_store, partitions=1, lease=0.2)
    for i in range(10):
        wb.set(f"k{i}", i)
    slow = wb.worker()
    assert slow.held() == [0]
    raw = redis.Redis.from_url(redis_clean_url)
    got = raw.xreadgroup("workers", slow.consumer, {"sc:wb:{default:0}": ">"}, count=10)
    entries = got[0][1]
    # The slow worker stalls past its lease; another takes the partition meanwhile.
    raw.set("sc:wb:{default:0}:lease", "someone-else", px=10_000)
    slow.lease_until[0] = 0.0  # what the clock would say after the stall
    assert slow._handle(0, entries) == 0
    assert record_store.values() == {}
    raw.delete("sc:wb:{default:0}:lease")
    wb.flush(timeout=20)  # the pending entries are claimed and applied by the next holder
    assert len(record_store.values()) == 10
    raw.close()
    wb.close()
