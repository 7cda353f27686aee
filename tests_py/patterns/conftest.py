"""Fixtures of the write-path pattern tests: a store of record on a real Redis server."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from stratacache.testing import redis_servers


class RedisStore:
    """A system of record on its own Redis server: a hash of values and a log of every apply
    (the log tells duplicates and order). Usable as WriteBehind's store=."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.name = uuid.uuid4().hex[:8]
        self.client = redis.Redis.from_url(url, socket_timeout=5)
        self.fail_keys: set[str] = set()
        self.fail_times = 0
        self._lock = threading.Lock()

    def __call__(self, items: dict[str, Any]) -> None:
        with self._lock:
            if self.fail_times > 0:
                self.fail_times -= 1
                msg = "store refused the batch"
                raise RuntimeError(msg)
        bad = self.fail_keys & set(items)
        if bad:
            msg = f"store refused {len(bad)} key(s)"
            raise ValueError(msg)
        pipe = self.client.pipeline(transaction=True)
        for key, value in items.items():
            pipe.hset(f"{self.name}:values", key, repr(value))
            pipe.rpush(f"{self.name}:log", f"{key}={value!r}")
        pipe.execute()

    def values(self) -> dict[str, str]:
        raw = self.client.hgetall(f"{self.name}:values")
        return {k.decode(): v.decode() for k, v in raw.items()}

    def log(self) -> list[str]:
        return [x.decode() for x in self.client.lrange(f"{self.name}:log", 0, -1)]


@pytest.fixture(scope="session")
def store_server() -> Iterator[redis_servers.RedisServer]:
    """A Redis server standing for the database behind the cache (never faulted)."""
    with redis_servers.RedisServer() as server:
        yield server


@pytest.fixture
def record_store(store_server: redis_servers.RedisServer) -> Iterator[RedisStore]:
    """A fresh RedisStore on the store server."""
    store = RedisStore(store_server.url)
    yield store
    store.client.close()
