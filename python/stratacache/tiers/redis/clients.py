"""redis-py clients (sync and asyncio) for a parsed target, with the tier's own timeouts.

redis-py's retries are switched off for standalone and Sentinel: the tier retries idempotent
commands itself and trips its breaker, and a Sentinel client that retries re-dials the old
primary instead of asking the sentinels again. Cluster clients keep a short retry budget so
that MOVED/ASK redirections and slot-map refreshes after a failover are followed. RESP2 is
pinned: the tracking invalidations arrive on a RESP2 pub/sub connection (REDIRECT).

Sync connections are redis-py's, capped by the running call's deadline
(`_common.call_deadline`): a connect or a read never waits past it, so one call costs at most
`RedisOptions.deadline` however many reconnects and retries it takes. (asyncio calls are cut
by asyncio.timeout around the whole call instead.) A standalone sync client's pool is
`pool.TierPool`, whose wait for a free connection is capped the same way.
"""

from __future__ import annotations

import functools
import ssl
import time
from typing import Any

from ..._options import require_type
from ...errors import ConfigError
from .common import call_deadline
from .config import RedisOptions, RedisTarget

__all__ = ["async_client", "connection_kwargs", "sync_client"]

_CERT_REQS = {"required": ssl.CERT_REQUIRED, "optional": ssl.CERT_OPTIONAL, "none": ssl.CERT_NONE}


def connection_kwargs(target: RedisTarget, options: RedisOptions) -> dict[str, Any]:
    """Keyword arguments every redis-py connection of this target takes."""
    kwargs: dict[str, Any] = {
        "username": target.username,
        "password": target.password,
        "socket_timeout": options.socket_timeout,
        "socket_connect_timeout": options.connect_timeout,
        "protocol": 2,
    }
    if not target.path:  # TCP only
        kwargs["socket_keepalive"] = True
    kwargs |= dict(target.extra)
    if target.ssl:
        kwargs |= {
            "ssl": True,
            "ssl_ca_certs": options.ssl_ca_certs,
            "ssl_certfile": options.ssl_certfile,
            "ssl_keyfile": options.ssl_keyfile,
            "ssl_cert_reqs": _CERT_REQS[options.ssl_cert_reqs],
            # Hostname checks need a verified certificate; ssl refuses one without the other.
            "ssl_check_hostname": options.ssl_check_hostname and options.ssl_cert_reqs != "none",
        }
    return kwargs


#: Shortest socket timeout a capped connect or read gets (0 would mean non-blocking).
_MIN_WAIT = 0.001


def _time_left() -> float | None:
    end = call_deadline.get()
    return None if end is None else max(end - time.monotonic(), _MIN_WAIT)


class _DeadlineCapped:
    """Mixin for redis-py sync connections: connects and reads wait no longer than the time
    left to the running call (a connection is used by one thread at a time, so the
    attributes it swaps for one connect are its own)."""

    socket_timeout: float | None
    socket_connect_timeout: float | None

    def _connect(self) -> Any:
        left = _time_left()
        saved = self.socket_connect_timeout
        if left is not None and (saved is None or left < saved):
            self.socket_connect_timeout = left
        try:
            return super()._connect()  # type: ignore[misc]
        finally:
            self.socket_connect_timeout = saved

    def read_response(self, *args: Any, **kwargs: Any) -> Any:
        end = call_deadline.get()  # _time_left, inlined: two reads per set take this path
        if end is not None and "timeout" not in kwargs:
            left = max(end - time.monotonic(), _MIN_WAIT)
            limit = self.socket_timeout
            if limit is None or left < limit:
                kwargs["timeout"] = left
        return super().read_response(*args, **kwargs)  # type: ignore[misc]


@functools.cache
def _capped(base: type) -> type:
    """`base` (a redis-py connection class) with `_DeadlineCapped` mixed in."""
    return type(f"Capped{base.__name__}", (_DeadlineCapped, base), {})


def sync_client(target: RedisTarget, options: RedisOptions) -> Any:
    """A sync redis-py client for `target` (Redis, a Sentinel primary, or RedisCluster)."""
    from ..._extras import require  # noqa: PLC0415 - redis-py: only caches with an L2 need it

    redis = require("redis", "redis", "a Redis tier")
    from redis import cluster, retry, sentinel  # noqa: PLC0415

    return _client(target, options, lib=redis, retry=retry, sentinel=sentinel, cluster=cluster)


def _connection_class(lib: Any, sentinel: Any, target: RedisTarget) -> type:
    """The connection class of a standalone or Sentinel pool (deadline-capped when sync)."""
    if target.kind == "sentinel":
        base = (
            sentinel.SentinelManagedSSLConnection
            if target.ssl
            else sentinel.SentinelManagedConnection
        )
    elif target.path:
        base = lib.UnixDomainSocketConnection
    else:
        base = lib.SSLConnection if target.ssl else lib.Connection
    return base if lib.__name__ == "redis.asyncio" else _capped(base)


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
            retry=retry.Retry(
                ExponentialBackoff(options.backoff_max, options.backoff), _cluster_retries(options)
            ),
            # Commands in flight are capped at max_connections by the executor (cap.py); the
            # coherence subscriber's two connections come out of the node pools on top.
            max_connections=options.max_connections + SUBSCRIBER_CONNECTIONS,
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
        # The cap is a wait, as for a standalone target: redis-py's Sentinel pools raise
        # "Too many connections" at once, which a burst of calls turned into errors.
        asyncio = lib.__name__ == "redis.asyncio"
        return manager.master_for(
            str(target.service_name),
            retry=no_retry,
            connection_class=_connection_class(lib, sentinel, target),
            connection_pool_class=_async_sentinel_pool() if asyncio else _tier_pool(sentinel=True),
            timeout=options.connect_timeout,
        )
    if target.path:
        where: dict[str, Any] = {"path": target.path}
    else:
        where = {"host": target.hosts[0][0], "port": target.hosts[0][1]}
    pool_class = lib.BlockingConnectionPool if lib.__name__ == "redis.asyncio" else _tier_pool()
    pool = pool_class(
        **where,
        db=target.db,
        max_connections=options.max_connections,
        timeout=options.connect_timeout,
        retry=no_retry,
        connection_class=_connection_class(lib, sentinel, target),
        **_pool_kwargs(kwargs),
    )
    return lib.Redis.from_pool(pool)  # from_pool: closing the client closes the pool


#: Connections the coherence subscriber holds from a sync Cluster client's node pools while
#: it listens: its pub/sub connection and, with tracking, the tracking one.
SUBSCRIBER_CONNECTIONS = 2


def _tier_pool(*, sentinel: bool = False) -> type:
    """The sync pool of a standalone or Sentinel target (`pool.TierPool`, `SentinelTierPool`:
    redis-py's contract, a wait at the cap, a cheaper hot path); imported here as it imports
    redis-py."""
    from .pool import SentinelTierPool, TierPool  # noqa: PLC0415

    return SentinelTierPool if sentinel else TierPool


@functools.cache
def _async_sentinel_pool() -> type:
    """redis-py's asyncio Sentinel pool that waits at the cap (its `BlockingConnectionPool`),
    made on first use as it imports redis.asyncio."""
    from redis.asyncio import BlockingConnectionPool  # noqa: PLC0415
    from redis.asyncio.sentinel import SentinelConnectionPool  # noqa: PLC0415

    return type("SentinelBlockingPool", (SentinelConnectionPool, BlockingConnectionPool), {})


def _cluster_retries(options: RedisOptions) -> int:
    """redis-py's own retries of a Cluster command (it follows failovers with them), as many
    as fit the call's deadline at one socket timeout each, at most 3: its connections are
    not capped by the deadline, so this is what bounds one attempt."""
    fits = int(options.deadline / options.socket_timeout) - 1
    return max(0, min(3, fits))


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
