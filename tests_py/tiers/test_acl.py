"""ACL users on real servers: a read-only user, and permissions or passwords changed at runtime."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from typing import Any

import pytest

import stratacache
from stratacache import RedisAuthError, RedisOptions, TierUnavailableError
from stratacache.testing.redis_servers import RedisServer, RedisTLSServer

from ..conftest import call

OPTIONS = RedisOptions(socket_timeout=0.2, connect_timeout=0.2, retries=0)


@pytest.fixture
def acl_user(fresh_redis_server: RedisServer) -> tuple[str, str]:
    """(name, password) of a user with every permission a cache needs, on a server of its own."""
    name, password = "cacheuser", secrets.token_hex(8)
    fresh_redis_server.command("ACL", "SETUSER", name, "on", f">{password}", "~*", "&*", "+@all")
    return name, password


def user_url(server: RedisServer, name: str, password: str) -> str:
    return server.url.replace("redis://", f"redis://{name}:{password}@")


def tls_url(server: RedisTLSServer, user: str) -> str:
    return f"{server.url_for(user)}?ssl_ca_certs={server.ca_file}"


async def test_a_read_only_user_builds_a_cache_that_serves_reads_and_skips_writes(
    tiered: Callable[..., Any], redis_tls_clean: RedisTLSServer, caplog: pytest.LogCaptureFixture
) -> None:
    # issue 11 item 10: the startup probe needed SET, so a reader could not build a cache.
    writer = tiered(tls_url(redis_tls_clean, "writer"))
    await call(writer.set("k", "written"))
    with caplog.at_level(logging.WARNING, logger="stratacache"):
        reader = tiered(tls_url(redis_tls_clean, "reader"), l1=False)
        assert await call(reader.get("k")) == "written"  # an AsyncCache checks off the loop
    assert any("read-only" in r.getMessage() for r in caplog.records)
    await call(reader.set("k", "mine"))  # refused by the server: skipped, counted
    await call(reader.delete("k"))
    assert await call(writer.get("k")) == "written"
    stats = reader._stats().l2
    assert stats.skipped_writes >= 1
    assert stats.hits == 1


async def test_permissions_revoked_at_runtime_follow_fail_open(
    tiered: Callable[..., Any], fresh_redis_server: RedisServer, acl_user: tuple[str, str]
) -> None:
    # issue 11 item 10: a NOPERM at runtime raised RedisAuthError from get/set despite fail-open.
    cache = tiered(user_url(fresh_redis_server, *acl_user), redis_options=OPTIONS, l1=False)
    await call(cache.set("k", 1))
    fresh_redis_server.command("ACL", "SETUSER", acl_user[0], "-set", "-get", "-mget")
    assert await call(cache.get("k")) is None  # a counted miss
    await call(cache.set("k", 2))  # a counted skipped write
    stats = cache._stats().l2
    assert stats.skipped_reads >= 1
    assert stats.skipped_writes >= 1
    assert stats.breaker == "closed"  # the server answers: not an outage
    fresh_redis_server.command("ACL", "SETUSER", acl_user[0], "+@all")
    await call(cache.set("k", 3))
    assert await call(cache.get("k")) == 3


async def test_a_password_rotated_at_runtime_follows_fail_open(
    tiered: Callable[..., Any], fresh_redis_server: RedisServer, acl_user: tuple[str, str]
) -> None:
    name, _ = acl_user
    cache = tiered(user_url(fresh_redis_server, *acl_user), redis_options=OPTIONS, l1=False)
    await call(cache.set("k", 1))
    fresh_redis_server.command("ACL", "SETUSER", name, "resetpass", f">{secrets.token_hex(8)}")
    fresh_redis_server.command("CLIENT", "KILL", "USER", name)  # every connection logs in again
    assert await call(cache.get("k")) is None
    await call(cache.set("k", 2))
    stats = cache._stats().l2
    assert stats.skipped_reads >= 1
    assert stats.skipped_writes >= 1


async def test_a_runtime_refusal_raises_when_failing_closed(
    tiered: Callable[..., Any], fresh_redis_server: RedisServer, acl_user: tuple[str, str]
) -> None:
    options = OPTIONS.replace(fail_open=False)
    cache = tiered(user_url(fresh_redis_server, *acl_user), redis_options=options, l1=False)
    await call(cache.set("k", 1))
    fresh_redis_server.command("ACL", "SETUSER", acl_user[0], "-set", "-get", "-mget")
    with pytest.raises(TierUnavailableError, match="NoPermissionError"):
        await call(cache.get("k"))
    with pytest.raises(TierUnavailableError, match="NoPermissionError"):
        await call(cache.set("k", 2))


def test_a_wrong_password_at_construction_still_raises(
    cache_cls: type[Any], fresh_redis_server: RedisServer, acl_user: tuple[str, str]
) -> None:
    with pytest.raises(RedisAuthError):
        cache_cls(redis=user_url(fresh_redis_server, acl_user[0], "not-the-password"))


def test_a_user_that_may_not_read_still_raises_at_construction(
    cache_cls: type[Any], fresh_redis_server: RedisServer, acl_user: tuple[str, str]
) -> None:
    fresh_redis_server.command("ACL", "SETUSER", acl_user[0], "-get")
    with pytest.raises(RedisAuthError, match="read"):
        cache_cls(redis=user_url(fresh_redis_server, *acl_user))


async def test_an_async_cache_built_in_a_running_loop_raises_at_its_first_call(
    fresh_redis_server: RedisServer, acl_user: tuple[str, str]
) -> None:
    # Its connect check runs off the loop, so a wrong password surfaces on the first await.
    url = user_url(fresh_redis_server, acl_user[0], "not-the-password")
    cache = stratacache.AsyncCache(redis=url, redis_options=OPTIONS)
    try:
        with pytest.raises(RedisAuthError):
            await cache.get("k")
        with pytest.raises(RedisAuthError):
            await cache.set("k", 1)
    finally:
        await cache.close()


async def test_a_publish_refused_with_a_set_leaves_the_connections_in_step(
    tiered: Callable[..., Any], fresh_redis_server: RedisServer, acl_user: tuple[str, str]
) -> None:
    # The SET and its PUBLISH leave as two commands on one connection (executor `_pair`): the
    # PUBLISH's error reply must not stay unread for the next command on that connection.
    # Another process listens on the channel, so every set owes it a PUBLISH (a process alone
    # sends none: executor `_announced`).
    listener = fresh_redis_server.client().pubsub()
    cache = tiered(user_url(fresh_redis_server, *acl_user), redis_options=OPTIONS, l1=False)
    try:
        listener.subscribe(cache._tier.channel)
        await call(cache.set("k", 1))
        fresh_redis_server.command("ACL", "SETUSER", acl_user[0], "-publish")
        await call(cache.set("k", 2))  # the SET lands, the PUBLISH is refused: a skipped write
    finally:
        listener.close()
    assert cache._stats().l2.skipped_writes >= 1
    fresh_redis_server.command("ACL", "SETUSER", acl_user[0], "+@all")
    for i in range(3, 8):  # every pooled connection answers its own command
        await call(cache.set("k", i))
        assert await call(cache.get("k")) == i
