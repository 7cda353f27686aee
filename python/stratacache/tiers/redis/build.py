"""Assembles a cache's Redis tier from `redis=` (a URL or a redis-py client) and its options.

Connect-time checks: a PING, a GET and a probe write (SET, PUBLISH, DEL on a key and channel of
our own) prove the credentials and the ACL permissions a cache needs, so a wrong password or a
user that may not even read raises `RedisAuthError` at construction instead of turning every
call into a silent miss. A user that may read but not write makes a read-only cache (logged):
it serves reads, and its writes are skipped and counted. At runtime, a refusal (password
rotated, ACL changed) follows the failure policy like an outage (`_common.Refused`). A
failed TLS handshake (untrusted certificate, wrong host name) raises `RedisTLSError`. An
unreachable server is an outage, not misconfiguration: with fail_open the cache starts anyway
(and the breaker takes over); without, `TierUnavailableError` is raised.
"""

from __future__ import annotations

import asyncio as aio
import concurrent.futures
import ssl
import threading
import uuid
import weakref
from typing import Any

from ..._log import logger
from ..._options import require_type
from ...errors import ConfigError, RedisAuthError, RedisTLSError, TierUnavailableError
from .clients import async_client, check_client, sync_client
from .coherence import Subscriber
from .common import TierCounters, classify, scrub
from .config import RedisOptions, RedisTarget, parse_url

__all__ = ["TierParts", "build"]


class TierParts:
    """What `build` returns: the clients, the options, and the coherence subscriber factory."""

    def __init__(self, client: Any, sync: Any, options: RedisOptions, target: RedisTarget | None):
        self.client = client  # what the cache issues its commands on (sync or async)
        self.sync = sync  # a sync client for the checks and the subscriber thread
        self.options = options
        self.target = target
        # The connect-time check still running on a thread (AsyncCache built inside a running
        # loop); the executor awaits it before its first command, and raises what it raised.
        self.ready: concurrent.futures.Future[None] | None = None
        self.asyncio = client is not sync


def build(redis: Any, options: RedisOptions | None, *, asyncio: bool) -> TierParts:
    """Clients for `redis` (URL or client object), after the connect-time checks."""
    if options is None:
        options = RedisOptions()
    require_type(options, RedisOptions, "redis_options", "a RedisOptions")
    if isinstance(redis, str):
        from ..._extras import require  # noqa: PLC0415 - redis-py parses the URL and connects

        require("redis", "redis", "a Redis tier")
        target, options = parse_url(redis, options)
        _check_mode(target, options)
        sync = sync_client(target, options)
        client = async_client(target, options) if asyncio else sync
        parts = TierParts(client, sync, options, target)
    else:
        check_client(redis, asyncio=asyncio)
        sync = redis if not asyncio else _sync_twin(redis, options)
        parts = TierParts(redis, sync, options, None)
    if parts.sync is not None:
        if asyncio and _loop_running():
            parts.ready = _check_in_background(parts.sync, options)
        else:
            check_access(parts.sync, options)
    return parts


def _loop_running() -> bool:
    try:
        aio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _check_in_background(client: Any, options: RedisOptions) -> concurrent.futures.Future[None]:
    """`check_access` on a daemon thread: its round trips (and timeouts, if Redis hangs) must
    not block the event loop that builds an AsyncCache. A failure is logged at once too, in
    case the cache is not used for a while."""
    done: concurrent.futures.Future[None] = concurrent.futures.Future()

    def run() -> None:
        try:
            check_access(client, options)
        except Exception as exc:  # noqa: BLE001 - handed to the first call through `done`
            logger.warning("Redis tier of an AsyncCache is unusable: %s", exc)
            done.set_exception(exc)
        else:
            done.set_result(None)

    threading.Thread(target=run, name="stratacache-connect-check", daemon=True).start()
    return done


def _check_mode(target: RedisTarget, options: RedisOptions) -> None:
    if options.coherence == "tracking" and dict(target.extra).get("protocol", 2) != 2:
        msg = 'coherence="tracking" needs protocol=2 (its invalidations come as RESP2 messages)'
        raise ConfigError(msg)
    if options.coherence == "tracking" and target.kind == "cluster":
        msg = (
            'coherence="tracking" is not available on Cluster (tracking is per node); use "pubsub"'
        )
        raise ConfigError(msg)


def _sync_twin(client: Any, options: RedisOptions) -> Any:
    """A sync client on the same server as an asyncio client (standalone only)."""
    pool = getattr(client, "connection_pool", None)
    kwargs = dict(getattr(pool, "connection_kwargs", {}))
    if type(client).__name__ != "Redis" or "host" not in kwargs:
        if options.coherence is not None:
            msg = (
                "L1 coherence needs a sync connection next to this asyncio client: pass a URL, "
                "or coherence=None in redis_options"
            )
            raise ConfigError(msg)
        return None
    import redis  # noqa: PLC0415

    kwargs.pop("connection_class", None)
    return redis.Redis(
        **{k: v for k, v in kwargs.items() if k not in ("retry", "event_dispatcher")}
    )


def check_access(client: Any, options: RedisOptions) -> None:
    """PING, a read and a probe write; a read-only user is logged, not refused (its writes are
    skipped and counted). See the module docstring for what raises."""
    probe = options.key_prefix.encode() + b"probe"
    step = "connect"
    try:
        client.ping()
        step = "read"
        client.get(probe)
        step = "write"
        client.set(probe, b"1", px=1000)
        if options.coherence is not None:
            step = "publish"
            client.publish(probe, b"")  # a channel nobody listens to: permission only
        client.delete(probe)
    except Exception as exc:  # classified below
        kind = classify(exc)
        reason = scrub(exc)
        if kind == "fatal" and step == "write" and _may_not_write(exc):
            logger.warning(
                "Redis user may not write (%s): the cache is read-only; its writes and "
                "invalidations are skipped and counted",
                reason,
            )
            return
        if kind in {"fatal", "reply"}:
            msg = f"Redis refused the cache's credentials or permissions ({step}): {reason}"
            raise RedisAuthError(msg) from exc
        tls = _tls_failure(exc)
        if tls is not None:
            msg = (
                f"TLS to Redis failed: {tls}; check ssl_ca_certs, the host name in the URL "
                "(ssl_check_hostname), and that the server speaks TLS on that port"
            )
            raise RedisTLSError(msg) from exc
        if not options.fail_open:
            msg = f"Redis is unreachable: {reason}"
            raise TierUnavailableError(msg) from exc


def _tls_failure(exc: BaseException) -> str | None:
    """The reason of the TLS error behind a failed connect (redis-py wraps it), if any."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, ssl.SSLError):
            detail = getattr(cause, "verify_message", None) or getattr(cause, "reason", None)
            return str(detail or type(cause).__name__)
        cause = cause.__cause__ or cause.__context__
    return None


def _may_not_write(exc: BaseException) -> bool:
    from redis.exceptions import NoPermissionError  # noqa: PLC0415

    return isinstance(exc, NoPermissionError)


def _renew_origin(state: Any) -> str:
    """A forked child's own origin: the parent's would make each ignore the other's messages."""
    state.origin = uuid.uuid4().hex
    return str(state.origin)


def start_subscriber(owner: object, parts: TierParts, state: Any, counters: TierCounters) -> Any:
    """The coherence subscriber of a cache (None without coherence); stopped with `owner`."""
    if parts.options.coherence is None or parts.sync is None:
        state.degraded = False
        return None
    tracking = parts.options.coherence == "tracking"
    subscriber = Subscriber(
        parts.sync,
        state.channel,
        origin=state.origin,
        on_message=state.apply,
        on_keys=state.apply_keys,
        on_down=state.on_down,
        on_up=state.on_up,
        counters=counters,
        tracking_prefix=parts.options.key_prefix.encode() if tracking else None,
        on_fork=lambda: _renew_origin(state),
        on_lost=state.on_lost,
        on_tick=state.on_tick,
        on_stop=state.on_stop,
    )
    state.degraded = True  # until the subscription is confirmed
    subscriber.start()
    weakref.finalize(owner, subscriber.stop)
    if not (parts.asyncio and _loop_running()):
        # A sync cache starts coherent when it can; an event loop must not wait for it (the
        # cache is degraded meanwhile, which is safe: L1 TTLs are capped).
        subscriber.connected.wait(parts.options.connect_timeout * 2)
    return subscriber
