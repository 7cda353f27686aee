"""Where the write paths and sessions run: Sentinel works; Cluster is refused clearly."""

from __future__ import annotations

import os

import pytest

import stratacache
from stratacache.errors import ConfigError
from stratacache.patterns import WriteBehind
from stratacache.sessions import AsyncSessionStore, SessionStore
from stratacache.testing.redis_servers import RedisClusterGroup, RedisSentinelGroup

from .conftest import RedisStore

CODEC = stratacache.Codec(encryption_keys=os.urandom(32))


@pytest.mark.failover
def test_sessions_and_write_behind_on_sentinel(
    redis_sentinel_clean: RedisSentinelGroup, record_store: RedisStore
) -> None:
    url = redis_sentinel_clean.url
    store = SessionStore(url, codec=CODEC, max_per_user=2)
    s = store.create("alice", {"n": 1})
    assert store.get(s.id) is not None
    store.close()
    wb = WriteBehind(url, record_store)
    wb.set("k", 1)
    wb.flush(timeout=20)
    assert record_store.values() == {"k": "1"}
    wb.close()


def test_cluster_is_refused(redis_cluster: RedisClusterGroup, record_store: RedisStore) -> None:
    with pytest.raises(ConfigError, match="not on a Cluster"):
        SessionStore(redis_cluster.url, codec=CODEC)
    with pytest.raises(ConfigError, match="not on a Cluster"):
        AsyncSessionStore(redis_cluster.url, codec=CODEC)
    with pytest.raises(ConfigError, match="not on a Cluster"):
        WriteBehind(redis_cluster.url, record_store)
