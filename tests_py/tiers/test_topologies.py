"""One configuration for every topology: TLS with ACL users, Sentinel, Cluster, tracking,
and the URL and option validation."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
import redis

import stratacache
from stratacache import ConfigError, RedisAuthError, RedisOptions, RedisTLSError
from stratacache.testing.redis_servers import (
    RedisClusterGroup,
    RedisSentinelGroup,
    RedisServer,
    RedisTLSServer,
)

from ..conftest import call


def tls_url(server: RedisTLSServer, user: str, password: str | None = None) -> str:
    url = server.url_for(user)
    if password is not None:
        url = url.replace(server.password_for(user), password)
    return f"{url}?ssl_ca_certs={server.ca_file}"


async def test_tls_with_the_writer_user(
    tiered: Callable[..., Any], redis_tls_clean: RedisTLSServer
) -> None:
    a, b = tiered(tls_url(redis_tls_clean, "writer")), tiered(tls_url(redis_tls_clean, "writer"))
    await call(a.set("k", {"secure": True}))
    assert await call(b.get("k")) == {"secure": True}


def test_a_wrong_password_fails_at_connect_time(
    cache_cls: type[Any], redis_tls: RedisTLSServer
) -> None:
    with pytest.raises(RedisAuthError, match=r"(?i)password|auth"):
        cache_cls(redis=tls_url(redis_tls, "writer", "wrong-password"))


async def test_sentinel_url(
    tiered: Callable[..., Any], redis_sentinel_clean: RedisSentinelGroup
) -> None:
    a, b = tiered(redis_sentinel_clean.url), tiered(redis_sentinel_clean.url)
    await call(a.set("k", [1, 2, 3]))
    assert await call(b.get("k")) == [1, 2, 3]


async def test_cluster_spreads_keys_and_runs_every_multi_key_call(
    tiered: Callable[..., Any], redis_cluster_clean: RedisClusterGroup, settle: Callable[..., None]
) -> None:
    a, b = tiered(redis_cluster_clean.url), tiered(redis_cluster_clean.url)
    node_url = redis_cluster_clean.primaries[0].url  # PUBLISH reaches the whole cluster
    items = {f"user:{i}": i for i in range(60)}
    await call(a.set_many(items))
    assert await call(b.get_many(list(items))) == items
    await call(a.set("t1", "tagged", tags=["t"]))
    await call(a.invalidate_tags("t"))
    assert await call(b.get("t1")) is None
    assert await call(a.invalidate_pattern("user:1*")) == 11
    settle(node_url, b)
    assert len(await call(b.get_many(list(items)))) == 49
    await call(a.clear())
    settle(node_url, b)
    assert await call(b.get_many(list(items))) == {}
    assert sum(node.command("DBSIZE") for node in redis_cluster_clean.primaries) == 0


async def test_tracking_catches_writes_by_other_clients(
    tiered: Callable[..., Any], redis_clean_url: str, wait_until: Callable[..., bool]
) -> None:
    b = tiered(redis_clean_url, redis_options=RedisOptions(coherence="tracking"))
    await call(b.set("k", "ours"))
    assert await call(b.get("k")) == "ours"
    assert wait_until(lambda: b._stats().l2.coherent)
    # Our own write's invalidation may still be in flight: let it land, then refill L1.
    await asyncio.sleep(0.05)
    assert await call(b.get("k")) == "ours"
    redis.Redis.from_url(redis_clean_url).delete(b"sc:\x1fk")  # a client without stratacache
    assert wait_until(lambda: not b._store.contains(b._prefix, "k"))
    assert await call(b.get("k")) is None


@pytest.mark.parametrize(
    ("url", "error", "match"),
    [
        ("http://localhost:6379", ConfigError, "scheme"),
        ("redis+cluster://", ConfigError, "no host"),
        ("unix://", ConfigError, "path"),
        ("redis://127.0.0.1:6379?decode_responses=true", ConfigError, "bytes"),
        ("redis://127.0.0.1:6379?db=x", ConfigError, "malformed"),
        ("redis://127.0.0.1:6379?protocol=3&coherence=tracking", ConfigError, "protocol=2"),
        ("redis://127.0.0.1:notaport", ConfigError, "port"),
        ("redis://127.0.0.1:6379/x", ConfigError, "database"),
        ("redis+sentinel://127.0.0.1:26379", ConfigError, "service name"),
        ("redis+cluster://127.0.0.1:7000/1", ConfigError, "database"),
        ("redis://127.0.0.1:6379?socket_timeout=abc", ConfigError, "socket_timeout"),
        ("redis://127.0.0.1:6379?bogus=1", ConfigError, "bogus"),
        ("redis+cluster://127.0.0.1:7000?coherence=tracking", ConfigError, "Cluster"),
    ],
)
def test_bad_urls_name_the_problem(
    cache_cls: type[Any], url: str, error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        cache_cls(redis=url)


async def test_bad_options_name_the_problem(cache_cls: type[Any], redis_url: str) -> None:
    with pytest.raises(TypeError, match="redis_options"):
        cache_cls(redis=redis_url, redis_options={"socket_timeout": 1})
    with pytest.raises(ConfigError, match="socket_timeout"):
        RedisOptions(socket_timeout=0)
    with pytest.raises(ConfigError, match="coherence"):
        RedisOptions(coherence="gossip")
    with pytest.raises(TypeError, match="codec"):
        cache_cls(redis=redis_url, codec="msgpack")
    with pytest.raises(TypeError, match="redis"):
        cache_cls(redis=42)
    with pytest.raises(ConfigError, match="l1=False"):
        cache_cls(l1=False)
    with pytest.raises(ConfigError, match="codec"):
        cache_cls(codec=stratacache.Codec())
    cache = cache_cls(redis=redis_url)
    try:
        with pytest.raises(ConfigError, match="tag"):
            await call(cache.set("k", 1, tags=["bad\x1ftag"]))
    finally:
        await call(cache.close())


def test_a_password_never_shows_in_errors_or_reprs(
    cache_cls: type[Any], fresh_redis_server: RedisServer
) -> None:
    url = fresh_redis_server.url.replace("redis://", "redis://user:s3cret-pw@")
    with pytest.raises(RedisAuthError) as info:
        cache_cls(redis=url)
    assert "s3cret-pw" not in str(info.value)


def test_tls_verifies_the_host_name_by_default(redis_tls: RedisTLSServer) -> None:
    # issue 11 item 13: hostname verification was off; the session server's certificate names
    # 127.0.0.1, so verification passes there, and a certificate for another name must not.
    cache = stratacache.Cache(redis=tls_url(redis_tls, "writer"))
    try:
        assert cache._parts.options.ssl_check_hostname
        cache.set("k", 1)
        assert cache.get("k") == 1
    finally:
        cache.close()


@pytest.mark.parametrize("fail_open", [True, False])
def test_a_certificate_for_another_host_is_refused_at_construction(
    cache_cls: type[Any], fail_open: bool
) -> None:
    with RedisTLSServer(server_names=("DNS:wrong.example",)) as server:
        url = f"{tls_url(server, 'writer')}&fail_open={'true' if fail_open else 'false'}"
        with pytest.raises(RedisTLSError, match=r"(?i)hostname|certificate"):
            cache_cls(redis=url)
        cache = stratacache.Cache(redis=f"{tls_url(server, 'writer')}&ssl_check_hostname=false")
        try:  # an explicit opt-out still connects
            cache.set("k", 1)
            assert cache.get("k") == 1
        finally:
            cache.close()


def test_a_certificate_from_an_unknown_ca_is_refused_at_construction(
    redis_tls: RedisTLSServer,
) -> None:
    with pytest.raises(RedisTLSError):
        stratacache.Cache(redis=redis_tls.url_for("writer"))  # no ssl_ca_certs: system CAs


@pytest.mark.parametrize(
    "form",
    ["redis://localhost:{port}/3", "redis://localhost:{port}?db=3", "redis://:@localhost:{port}/3"],
)
async def test_standalone_urls_are_read_as_redis_py_reads_them(
    tiered: Callable[..., Any], fresh_redis_server: RedisServer, form: str
) -> None:
    # issue 12: redis-py's from_url forms (a host name, db as path or query) are accepted.
    url = form.format(port=fresh_redis_server.port) + "&client_name=web"
    url = url.replace("&", "?", 1) if "?" not in url else url
    cache = tiered(url)
    await call(cache.set("k", 1))
    admin = fresh_redis_server.client()
    try:
        admin.select(3)
        assert admin.exists("sc:\x1fk") == 1
        assert "name=web" in admin.execute_command("CLIENT", "LIST")
    finally:
        admin.close()


async def test_a_unix_socket_url(tiered: Callable[..., Any], tmp_path: Any) -> None:
    socket_path = tmp_path / "redis.sock"
    with RedisServer(config=[f"unixsocket {socket_path}", "unixsocketperm 700"]) as server:
        a, b = tiered(f"unix://{socket_path}?db=2"), tiered(f"unix://{socket_path}?db=2")
        await call(a.set("k", "over a socket"))
        assert await call(b.get("k")) == "over a socket"
        client = server.client()
        try:
            client.select(2)
            assert client.exists("sc:\x1fk") == 1
        finally:
            client.close()


async def test_protocol_3_from_the_url(
    tiered: Callable[..., Any], fresh_redis_server: RedisServer, settle: Callable[..., None]
) -> None:
    url = f"{fresh_redis_server.url}?protocol=3"
    a, b = tiered(url), tiered(url)
    await call(a.set("k", "v1"))
    assert await call(b.get("k")) == "v1"
    await call(a.set("k", "v2"))
    settle(fresh_redis_server.url, b)
    assert await call(b.get("k")) == "v2"
    assert b._stats().l2.coherent


async def test_cluster_deletes_keys_of_many_slots_in_one_call(
    tiered: Callable[..., Any], redis_cluster_clean: RedisClusterGroup
) -> None:
    a = tiered(redis_cluster_clean.url)
    keys = [f"item:{i}" for i in range(20)]  # spread over the three primaries
    await call(a.set_many(dict.fromkeys(keys, 1)))
    assert await call(a.delete_many(keys)) == 20
    assert a.stats().l2.errors == 0
    assert a.stats().l2.deletes == 20  # in Redis, not only L1 (a cross-slot DEL is refused)
    assert sum(node.command("DBSIZE") for node in redis_cluster_clean.primaries) == 0


async def test_an_async_cluster_cache_closed_after_a_timeout_closes_every_connection(
    redis_cluster_clean: RedisClusterGroup,
) -> None:
    # A timeout makes redis.asyncio's RedisCluster flag itself for a topology refresh, and
    # while flagged its aclose() closes nothing: the sockets to the live nodes leaked.
    options = RedisOptions(
        socket_timeout=0.2, connect_timeout=0.2, call_timeout=0.3, retries=0, coherence=None
    )  # no retry of ours or redis-py's: the refresh never runs
    cache = stratacache.AsyncCache(redis=redis_cluster_clean.url, redis_options=options, l1=False)
    client = cache._driver.redis.client
    keys = [f"k{i}" for i in range(30)]
    await cache.set_many(dict.fromkeys(keys, 1))  # a connection to every primary
    node = redis_cluster_clean.primaries[0]
    key = next(k for k in keys if client.get_node_from_key(f"sc:\x1f{k}").port == node.port)
    node.pause()  # shorter than the node timeout: no failover
    try:
        await cache.set(key, 2)  # one SET, timed out: a skipped write
    finally:
        node.resume()
    assert cache.stats().l2.skipped_writes == 1
    assert client._initialize  # the state in which aclose() alone closes nothing
    await cache.close()
    manager = client.nodes_manager
    nodes = [*manager.nodes_cache.values(), *manager.startup_nodes.values()]
    assert len(nodes) >= 3
    assert [n.name for n in nodes for c in n._connections if c.is_connected] == []
