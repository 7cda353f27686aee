"""Failovers under load on real Sentinel and Cluster groups: no exception reaches the caller
(fail-open), no wrong value is ever read, and writes resume on the new primary.

Each load runs in a thread, bounded by a deadline and a count; every value encodes its key,
so a wrong value cannot go unnoticed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

import stratacache
from stratacache import BreakerConfig, RedisOptions
from stratacache.testing.redis_servers import RedisClusterGroup, RedisSentinelGroup

pytestmark = pytest.mark.failover

OPTIONS = RedisOptions(
    socket_timeout=0.2,
    connect_timeout=0.2,
    breaker=BreakerConfig(failure_threshold=3, recovery_time=0.2),
)


@dataclass
class Load:
    """A thread writing then reading keys through a cache until stopped."""

    cache: stratacache.Cache
    keys: list[str]
    errors: list[BaseException] = field(default_factory=list)
    wrong: list[tuple[str, Any]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    ops: int = 0

    def run(self, deadline: float) -> None:
        i = 0
        while not self.stop.is_set() and time.monotonic() < deadline and self.ops < 1_000_000:
            key = self.keys[i % len(self.keys)]
            i += 1
            try:
                self.cache.set(key, f"value-of-{key}")
                got = self.cache.get(key)
                if got is not None and got != f"value-of-{key}":
                    self.wrong.append((key, got))
            except BaseException as exc:  # noqa: BLE001 - any exception is a failure here
                self.errors.append(exc)
            self.ops += 1

    def start(self, seconds: float) -> threading.Thread:
        thread = threading.Thread(target=self.run, args=(time.monotonic() + seconds,))
        thread.start()
        return thread


def writes_resume(cache: stratacache.Cache, probe: Callable[[], bool], timeout: float) -> float:
    """Seconds until a write through `cache` is visible in Redis again (`probe`)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        cache.set("probe", "after-failover")
        if probe():
            return time.monotonic() - started
        time.sleep(0.05)
    pytest.fail(f"writes did not resume within {timeout} s")


def test_sentinel_failover_under_load(redis_sentinel_clean: RedisSentinelGroup) -> None:
    group = redis_sentinel_clean
    cache = stratacache.Cache(redis=group.url, redis_options=OPTIONS, l1=False)
    load = Load(cache, [f"k{i}" for i in range(50)])
    thread = load.start(seconds=30)
    try:
        time.sleep(0.3)
        group.kill_primary()
        group.wait_for_failover(timeout=20)
        took = writes_resume(
            cache, lambda: group.primary.command("EXISTS", "sc:\x1fprobe") == 1, 20
        )
        assert took < 20
    finally:
        load.stop.set()
        thread.join(10)
        cache.close()
    assert load.errors == []
    assert load.wrong == []
    assert cache._stats().l2.skipped_writes > 0  # the outage was real


def test_cluster_primary_failover_under_load(redis_cluster_clean: RedisClusterGroup) -> None:
    cluster = redis_cluster_clean
    cache = stratacache.Cache(redis=cluster.url, redis_options=OPTIONS, l1=False)
    load = Load(cache, [f"user:{i}" for i in range(200)])
    thread = load.start(seconds=40)
    try:
        time.sleep(0.3)
        cluster.kill_primary_of("sc:\x1fuser:1")
        cluster.wait_cluster_ok(timeout=30)
        raw = cache._driver.redis.client
        took = writes_resume(cache, lambda: raw.get(b"sc:\x1fprobe") is not None, 30)
        assert took < 30
    finally:
        load.stop.set()
        thread.join(10)
        cache.close()
    assert load.errors == []
    assert load.wrong == []


def test_cluster_slot_migration_under_load(redis_cluster_clean: RedisClusterGroup) -> None:
    cluster = redis_cluster_clean
    cache = stratacache.Cache(redis=cluster.url, redis_options=OPTIONS, l1=False)
    # Many keys in one slot (a hash tag keeps them together), so MIGRATE takes batches.
    keys = [f"{{user:42}}:{i}" for i in range(300)]
    cache.set_many({k: f"value-of-{k}" for k in keys})
    source = cluster.primary_of_slot(cluster.key_slot(f"sc:\x1f{keys[0]}"))
    target = next(n for n in cluster.primaries if n is not source)
    load = Load(cache, keys)
    thread = load.start(seconds=30)
    try:
        time.sleep(0.2)
        cluster.migrate_slot(
            cluster.key_slot(f"sc:\x1f{keys[0]}"),
            target,
            keys_per_batch=20,
            after_batch=lambda _moved: time.sleep(0.01),
        )
        time.sleep(0.3)
    finally:
        load.stop.set()
        thread.join(10)
    try:
        assert load.errors == []
        assert load.wrong == []
        assert cache.get_many(keys) == {k: f"value-of-{k}" for k in keys}
    finally:
        cache.close()
