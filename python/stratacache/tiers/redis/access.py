"""The one door from a cache to its Redis tier, for the patterns built beside a cache.

`stratacache.patterns` (write-behind streams) and `stratacache.sessions` (Lua scripts) need
Redis commands the cache itself never issues. They reach the tier through `redis_access`
instead of private attributes, and get their own client on the same server: their commands
block longer (WAIT, XREADGROUP BLOCK) than a cache read may, so they must not share the
tier's short timeouts or its circuit breaker.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...errors import ConfigError
from .clients import async_client, check_client, sync_client
from .config import RedisOptions, RedisTarget, parse_url

__all__ = ["RedisAccess", "redis_access", "refuse_cluster"]


@dataclass(frozen=True)
class RedisAccess:
    """A client of its own on a cache's (or a URL's) Redis, and what keys there look like.

    Attributes:
        client: a redis-py client (asyncio when asked for), timeouts as requested.
        key_prefix: the prefix the cache's keys carry (RedisOptions.key_prefix).
        codec: the cache's default codec (None for a bare URL or client).
        owned: True when `client` was made here (the caller closes it).
        kind: "standalone", "sentinel", "cluster", or "client" when a client was given.
    """

    client: Any
    key_prefix: str
    codec: Any
    owned: bool
    kind: str


def redis_access(
    source: Any, *, asyncio: bool, socket_timeout: float, key_prefix: str | None = None
) -> RedisAccess:
    """A client on the Redis behind `source`: a Cache/AsyncCache with a Redis tier, a Redis
    URL, or a redis-py client (used as is).

    Args:
        source: the cache, URL or client.
        asyncio: an asyncio client (for async callers).
        socket_timeout: seconds a command may block (made-here clients only).
        key_prefix: overrides the cache's key prefix ("sc:" for a URL or client).

    Raises:
        ConfigError: `source` is a cache without a Redis tier, or a malformed URL.
        TypeError: `source` is none of the above.
    """
    parts = getattr(source, "_parts", None)
    if hasattr(source, "_tier") and parts is None:
        msg = "this cache has no Redis tier: build it with redis=URL"
        raise ConfigError(msg)
    codec = None
    if parts is not None:
        tier = source._tier
        codec = tier.codec_for(source.namespace)
        options: RedisOptions = parts.options
        prefix = options.key_prefix if key_prefix is None else key_prefix
        target: RedisTarget | None = parts.target
        if target is None:  # built from a client: share it
            client = parts.client if asyncio == parts.asyncio else parts.sync
            if client is None:
                msg = "this cache's Redis client has no twin of the flavour asked for"
                raise ConfigError(msg)
            return RedisAccess(client, prefix, codec, owned=False, kind="client")
        return _made(
            target, options, asyncio=asyncio, timeout=socket_timeout, prefix=prefix, codec=codec
        )
    if isinstance(source, str):
        options = RedisOptions()
        target, options = parse_url(source, options)
        prefix = options.key_prefix if key_prefix is None else key_prefix
        return _made(
            target, options, asyncio=asyncio, timeout=socket_timeout, prefix=prefix, codec=None
        )
    check_client(source, asyncio=asyncio)
    pool = getattr(source, "connection_pool", None)
    if getattr(pool, "connection_kwargs", {}).get("decode_responses"):
        msg = "the redis-py client must return bytes: build it without decode_responses=True"
        raise ConfigError(msg)
    prefix = "sc:" if key_prefix is None else key_prefix
    return RedisAccess(source, prefix, None, owned=False, kind="client")


def refuse_cluster(access: RedisAccess, what: str) -> None:
    """ConfigError if `access` is on a Redis Cluster, which `what` does not support."""
    if access.kind == "cluster" or type(access.client).__name__ == "RedisCluster":
        if access.owned and not type(access.client).__module__.startswith("redis.asyncio"):
            access.client.close()  # an asyncio client has not connected yet
        msg = f"{what} runs on standalone or Sentinel Redis, not on a Cluster"
        raise ConfigError(msg)


def _made(
    target: RedisTarget,
    options: RedisOptions,
    *,
    asyncio: bool,
    timeout: float,
    prefix: str,
    codec: Any,
) -> RedisAccess:
    own = options.replace(
        socket_timeout=timeout,
        call_timeout=None,
        connect_timeout=max(options.connect_timeout, min(timeout, 2.0)),
    )
    client = async_client(target, own) if asyncio else sync_client(target, own)
    return RedisAccess(client, prefix, codec, owned=True, kind=target.kind)
