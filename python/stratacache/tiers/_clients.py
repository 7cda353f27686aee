"""redis-py clients (sync and asyncio) for a parsed target, with the tier's own timeouts.

redis-py's retries are switched off for standalone and Sentinel: the tier retries idempotent
commands itself and trips its breaker, and a Sentinel client that retries re-dials the old
primary instead of asking the sentinels again. Cluster clients keep a short retry budget so
that MOVED/ASK redirections and slot-map refreshes after a failover are followed. RESP2 is
pinned: the tracking invalidations arrive on a RESP2 pub/sub connection (REDIRECT).
"""

from __future__ import annotations

import ssl
from typing import Any

from .._options import require_type
from ..errors import ConfigError
from ._config import RedisOptions, RedisTarget

__all__ = ["async_client", "connection_kwargs", "sync_client"]

_CERT_REQS = {"required": ssl.CERT_REQUIRED, "optional": ssl.CERT_OPTIONAL, "none": ssl.CERT_NONE}


def connection_kwargs(target: RedisTarget, options: RedisOptions) -> dict[str, Any]:
    """Keyword arguments every redis-py connection of this target takes."""
    kwargs: dict[str, Any] = {
        "username": target.username,
        "password": target.password,
        "socket_timeout": options.socket_timeout,
        "socket_connect_timeout": options.connect_timeout,
        "socket_keepalive": True,
        "protocol": 2,
    }
    if target.ssl:
        kwargs |= {
            "ssl": True,
            "ssl_ca_certs": options.ssl_ca_certs,
            "ssl_certfile": options.ssl_certfile,
            "ssl_keyfile": options.ssl_keyfile,
            "ssl_cert_reqs": _CERT_REQS[options.ssl_cert_reqs],
            "ssl_check_hostname": False,
        }
    return kwargs


def sync_client(target: RedisTarget, options: RedisOptions) -> Any:
    """A sync redis-py client for `target` (Redis, a Sentinel primary, or RedisCluster)."""
    import redis  # noqa: PLC0415 - redis-py is needed only by caches with an L2
    from redis import cluster, retry, sentinel  # noqa: PLC0415

    return _client(target, options, lib=redis, retry=retry, sentinel=sentinel, cluster=cluster)


def async_client(target: RedisTarget, options: RedisOptions) -> Any:
    """An asyncio redis-py client for `target`."""
    import redis.asyncio as aioredis  # noqa: PLC0415
    from redis.asyncio import cluster, retry, sentinel  # noqa: PLC0415

    return _client(target, options, lib=aioredis, retry=retry, sentinel=sentinel, cluster=cluster)


def _client(
    target: RedisTarget,
    options: RedisOptions,
    *,
    lib: Any,
    retry: Any,
    sentinel: Any,
    cluster: Any,
) -> Any:
    """One recipe for both flavours: `lib` and the modules are redis-py's sync or asyncio ones,
    which mirror each other's class names."""
    from redis.backoff import ExponentialBackoff, NoBackoff  # noqa: PLC0415

    kwargs = connection_kwargs(target, options)
    if target.kind == "cluster":
        return cluster.RedisCluster(
            startup_nodes=[cluster.ClusterNode(h, p) for h, p in target.hosts],
            retry=retry.Retry(ExponentialBackoff(options.backoff_max, options.backoff), 3),
            max_connections=options.max_connections,
            **kwargs,
        )
    no_retry = retry.Retry(NoBackoff(), 0)
    if target.kind == "sentinel":
        manager = sentinel.Sentinel(
            list(target.hosts),
            sentinel_kwargs=_sentinel_kwargs(kwargs, options),
            retry=no_retry,
            db=target.db,
            max_connections=options.max_connections,
            **kwargs,
        )
        return manager.master_for(str(target.service_name), retry=no_retry)
    host, port = target.hosts[0]
    pool = lib.BlockingConnectionPool(
        host=host,
        port=port,
        db=target.db,
        max_connections=options.max_connections,
        timeout=options.connect_timeout,
        retry=no_retry,
        connection_class=lib.SSLConnection if target.ssl else lib.Connection,
        **_pool_kwargs(kwargs),
    )
    return lib.Redis.from_pool(pool)  # from_pool: closing the client closes the pool


def _pool_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    """A pool picks TLS by its connection class and refuses an `ssl` argument."""
    return {k: v for k, v in kwargs.items() if k != "ssl"}


def _sentinel_kwargs(kwargs: dict[str, Any], options: RedisOptions) -> dict[str, Any]:
    keep = ("socket_timeout", "socket_connect_timeout", "protocol")
    out = {k: kwargs[k] for k in keep}
    if options.sentinel_password is not None:
        out["password"] = options.sentinel_password
    return out


def check_client(client: object, *, asyncio: bool) -> None:
    """Raises TypeError unless `client` is a redis-py client of the right flavour."""
    if asyncio:
        import redis.asyncio as aioredis  # noqa: PLC0415
        from redis.asyncio.cluster import RedisCluster  # noqa: PLC0415

        require_type(
            client, (aioredis.Redis, RedisCluster), "redis", "a URL or redis.asyncio client"
        )
    else:
        import redis  # noqa: PLC0415
        from redis.cluster import RedisCluster as SyncCluster  # noqa: PLC0415

        if not isinstance(client, (redis.Redis, SyncCluster)):
            msg = f"redis must be a URL or a redis.Redis/RedisCluster, not {type(client).__name__}"
            raise ConfigError(msg) if _is_async(client) else TypeError(msg)


def _is_async(client: object) -> bool:
    return type(client).__module__.startswith("redis.asyncio")
