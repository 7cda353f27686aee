"""One Redis configuration for every topology: the URL forms, `RedisOptions`, and clients.

URLs:

* ``redis://``, ``rediss://`` (TLS) and ``unix://`` — a standalone server, parsed by redis-py
  exactly as ``redis.Redis.from_url`` parses it (``redis://localhost``, ``redis://:pw@h/2``,
  ``unix:///run/redis.sock?db=1``, ``?protocol=3``, ``?client_name=web``...);
* ``redis+sentinel://[user:password@]h1:p1,h2:p2/service[/db]`` — the primary Sentinel names;
* ``redis+cluster://[user:password@]h1:p1,h2:p2`` — a Redis Cluster (any nodes as seeds).

Query parameters set `RedisOptions` fields by name (``?socket_timeout=0.1&max_connections=32``,
``ssl_ca_certs=/path/ca.pem``). The clients are built with our own timeouts and with redis-py's
retries switched off (except Cluster redirections): the tier owns its retry budget and circuit
breaker, because redis-py's defaults make one call during an outage take seconds.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import SplitResult, parse_qsl, unquote, urlencode, urlsplit

from ..._options import NAMESPACE_SEP, check_bound, check_positive, check_ttl, require_type
from ...errors import ConfigError
from .breaker import BreakerConfig

__all__ = ["RedisOptions", "RedisTarget", "parse_url"]

_SCHEMES = {"redis": "standalone", "rediss": "standalone", "unix": "standalone"}
_SCHEMES |= {"redis+sentinel": "sentinel"}
_SCHEMES |= {"rediss+sentinel": "sentinel", "redis+cluster": "cluster", "rediss+cluster": "cluster"}


@dataclass(frozen=True)
class RedisOptions:
    """How the Redis tier talks to Redis; every field can also be a URL query parameter.

    Attributes:
        socket_timeout: seconds a command may take before it counts as failed.
        call_timeout: seconds one call may take in all, retries and reconnects included
            (None: twice socket_timeout). The deadline cuts a call short; it is a miss or a
            skipped write like any other failure.
        connect_timeout: seconds to open a connection.
        max_connections: connections per pool (a caller waits up to connect_timeout for one).
        retries: extra attempts of an idempotent command after a transport error.
        backoff: first retry delay in seconds; doubles per attempt, with full jitter.
        backoff_max: largest retry delay.
        breaker: thresholds of the circuit breaker.
        key_prefix: prefix of every key and channel this cache uses in Redis.
        fail_open: during an outage, reads miss and writes are skipped (counted) instead of
            raising. False raises `TierUnavailableError` instead.
        fail_closed: namespaces that raise `TierUnavailableError` even when fail_open is on
            (data that must never be served from a possibly stale L1 or recomputed blindly).
        coherence: "pubsub" (every write and invalidation is published; each process drops its
            L1 copies), "tracking" (server-assisted, also sees writes by other clients), or
            None (L1 copies live out their TTL).
        degraded_l1_ttl: while the invalidation subscription is down, L1 keeps values at most
            this many seconds (they cannot be invalidated meanwhile).
        recovery_grace: seconds after this process saw an outage (its breaker open, its
            invalidation subscription dropped) and Redis answered again, during which a
            value read from Redis that was written before the failure counts as a miss
            (`grace_misses`; the load path reloads it and replaces it). Another process may
            still hold invalidations it skipped during the same outage and has not replayed
            yet; this closes that part of the coherence window. The price is a bounded burst
            of loader calls after each outage; 0 turns it off.
        ssl_ca_certs, ssl_certfile, ssl_keyfile: TLS files (rediss URLs).
        ssl_cert_reqs: "required" (default), "optional" or "none".
        ssl_check_hostname: the server's certificate must name the host of the URL (default,
            as in redis-py); off only with ``ssl_check_hostname=false``, or with
            ssl_cert_reqs="none".
        sentinel_password: password of the sentinels, when they have one.
        change_log: every write and invalidation is also appended to a bounded Redis Stream,
            ``stratacache-log:<key_prefix>`` (one more round trip per change), which
            incremental backups and point-in-time restores read (`stratacache.backup`).
        change_log_max: about how many changes the stream keeps (XADD MAXLEN ~).
    """

    socket_timeout: float = 0.25
    call_timeout: float | None = None
    connect_timeout: float = 0.5
    max_connections: int = 64
    retries: int = 2
    backoff: float = 0.005
    backoff_max: float = 0.1
    breaker: BreakerConfig = field(default_factory=BreakerConfig)
    key_prefix: str = "sc:"
    fail_open: bool = True
    fail_closed: frozenset[str] = frozenset()
    coherence: str | None = "pubsub"
    degraded_l1_ttl: float = 1.0
    recovery_grace: float = 1.0
    ssl_ca_certs: str | None = None
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None
    ssl_cert_reqs: str = "required"
    ssl_check_hostname: bool = True
    sentinel_password: str | None = field(default=None, repr=False)
    change_log: bool = False
    change_log_max: int = 100_000

    def __post_init__(self) -> None:
        for name in ("socket_timeout", "connect_timeout", "backoff", "backoff_max"):
            check_positive(getattr(self, name), name)
        if self.call_timeout is not None:
            check_positive(self.call_timeout, "call_timeout")
        if check_ttl(self.degraded_l1_ttl, "degraded_l1_ttl") in (None, math.inf):
            msg = "degraded_l1_ttl must be a finite number of seconds >= 0"
            raise ConfigError(msg)
        grace = check_ttl(self.recovery_grace, "recovery_grace")
        if grace is None or grace == math.inf:
            msg = "recovery_grace must be a finite number of seconds >= 0"
            raise ConfigError(msg)
        object.__setattr__(self, "recovery_grace", grace)
        check_bound(self.max_connections, "max_connections")
        check_bound(self.retries + 1 if type(self.retries) is int else self.retries, "retries")
        require_type(self.breaker, BreakerConfig, "breaker", "a BreakerConfig")
        require_type(self.key_prefix, str, "key_prefix", "a str")
        require_type(self.fail_open, bool, "fail_open", "a bool")
        require_type(self.ssl_check_hostname, bool, "ssl_check_hostname", "a bool")
        require_type(self.change_log, bool, "change_log", "a bool")
        check_bound(self.change_log_max, "change_log_max")
        require_type(self.fail_closed, (frozenset, set, list, tuple), "fail_closed", "namespaces")
        object.__setattr__(self, "fail_closed", frozenset(self.fail_closed))
        if NAMESPACE_SEP in self.key_prefix:
            msg = "key_prefix may not contain U+001F"
            raise ConfigError(msg)
        if self.coherence not in ("pubsub", "tracking", None):
            msg = 'coherence must be "pubsub", "tracking" or None'
            raise ConfigError(msg)
        if self.ssl_cert_reqs not in ("required", "none", "optional"):
            msg = 'ssl_cert_reqs must be "required", "optional" or "none"'
            raise ConfigError(msg)

    @property
    def deadline(self) -> float:
        """Seconds one call may take in all (`call_timeout`, or twice socket_timeout)."""
        return 2 * self.socket_timeout if self.call_timeout is None else self.call_timeout

    def replace(self, **changes: Any) -> RedisOptions:
        """A copy with `changes` applied (and validated)."""
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class RedisTarget:
    """A parsed URL: where Redis is and how to log in (the password is kept out of repr)."""

    kind: str  # "standalone", "sentinel" or "cluster"
    hosts: tuple[tuple[str, int], ...]
    db: int = 0
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ssl: bool = False
    service_name: str | None = None
    path: str | None = None  # a unix socket (unix:// URLs)
    #: redis-py connection arguments of a standalone URL's query (client_name, protocol...).
    extra: tuple[tuple[str, Any], ...] = ()


_FLOAT_FIELDS = {
    "socket_timeout",
    "call_timeout",
    "connect_timeout",
    "backoff",
    "backoff_max",
    "degraded_l1_ttl",
    "recovery_grace",
}
_INT_FIELDS = {"max_connections", "retries", "change_log_max"}
_BOOL_FIELDS = {"fail_open", "ssl_check_hostname", "change_log"}
_STR_FIELDS = {"key_prefix", "ssl_ca_certs", "ssl_certfile", "ssl_keyfile", "ssl_cert_reqs"}
_STR_FIELDS |= {"sentinel_password", "coherence"}
_OUR_FIELDS = _FLOAT_FIELDS | _INT_FIELDS | _BOOL_FIELDS | _STR_FIELDS


def parse_url(url: str, options: RedisOptions) -> tuple[RedisTarget, RedisOptions]:
    """Splits a Redis URL into its target and the options its query overrides.

    No message quotes the URL or a part of it (user, password, host, port, path, query value):
    a malformed URL can put a password fragment anywhere. Parameter names are quoted.

    Raises:
        ConfigError: unknown scheme, missing host or service, bad port/db, unknown parameter,
            or unencoded reserved characters in the credentials.
    """
    require_type(url, str, "redis", "a URL str or a redis-py client")
    parts = urlsplit(url)
    kind = _SCHEMES.get(parts.scheme)
    if kind is None:
        msg = f"unsupported Redis URL scheme; use one of {', '.join(sorted(_SCHEMES))}"
        raise ConfigError(msg)
    if "@" in url.partition("://")[2] and "@" not in parts.netloc:
        msg = (
            "the Redis URL's credentials hold a reserved character (/ ? # or @): "
            "percent-encode them, e.g. with urllib.parse.quote(password, safe='')"
        )
        raise ConfigError(msg)
    if kind == "standalone":
        return _standalone(parts, options)
    userinfo, _, hostlist = parts.netloc.rpartition("@")
    username, _, password = userinfo.partition(":")
    hosts = tuple(_host_port(h, n) for n, h in enumerate(hostlist.split(","), 1) if h)
    if not hosts:
        msg = "the Redis URL names no host (expected redis://[user:password@]host:port)"
        raise ConfigError(msg)
    path = [p for p in parts.path.split("/") if p]
    service = None
    if kind == "sentinel":
        if not path:
            msg = "a redis+sentinel URL needs the service name as its path: .../mymaster"
            raise ConfigError(msg)
        service = unquote(path.pop(0))
    if kind == "cluster" and path:
        msg = "a redis+cluster URL takes no database path (Cluster has only db 0)"
        raise ConfigError(msg)
    db = _int(path[0], "database number") if path else 0
    target = RedisTarget(
        kind=kind,
        hosts=hosts,
        db=db,
        username=unquote(username) or None,
        password=unquote(password) or None,
        ssl=parts.scheme.startswith("rediss"),
        service_name=service,
    )
    return target, _apply_query(parts.query, options)


#: redis-py URL parameters a standalone URL may carry besides ours (passed to its connections).
_REDIS_PY_PARAMETERS = {"db", "client_name", "health_check_interval", "socket_keepalive"}
_REDIS_PY_PARAMETERS |= {"socket_read_size", "protocol"}
#: redis-py parameters that name one of our options.
_ALIASES = {"socket_connect_timeout": "connect_timeout"}
#: redis-py parameters the tier cannot honour, and why.
_REFUSED = {
    "decode_responses": "the cache stores bytes",
    "retry_on_timeout": "the tier retries by itself (use retries=)",
    "retry_on_error": "the tier retries by itself (use retries=)",
    "timeout": "use connect_timeout= (the wait for a pooled connection)",
}


def _standalone(parts: SplitResult, options: RedisOptions) -> tuple[RedisTarget, RedisOptions]:
    """A redis://, rediss:// or unix:// URL, parsed by redis-py; our parameters taken out."""
    from redis.connection import parse_url as redis_parse_url  # noqa: PLC0415

    ours: list[tuple[str, str]] = []
    theirs: list[tuple[str, str]] = []
    for given, raw in parse_qsl(parts.query, keep_blank_values=True):
        if given in _REFUSED:
            msg = f"Redis URL parameter {given!r} is not supported: {_REFUSED[given]}"
            raise ConfigError(msg)
        name = _ALIASES.get(given, given)
        (ours if name in _OUR_FIELDS or name not in _REDIS_PY_PARAMETERS else theirs).append(
            (name, raw)
        )
    try:
        port = parts.port
        # Spelled out: geturl() drops the empty netloc of unix:///path, which redis-py needs.
        plain = f"{parts.scheme}://{parts.netloc}{parts.path}?{urlencode(theirs)}"
        kwargs: dict[str, Any] = redis_parse_url(plain)  # type: ignore[no-untyped-call]
    except ValueError:  # redis-py's and urllib's messages may quote URL parts
        msg = (
            "invalid Redis URL (a port, db or parameter value is malformed); expected "
            "redis[s]://[[user]:password@]host[:port][/db][?option=value] or "
            "unix://[[user]:password@]/path/to/socket[?db=N]"
        )
        raise ConfigError(msg) from None
    if port is not None and not 0 < port < 65536:
        msg = "Redis URL port must be 1..65535"
        raise ConfigError(msg)
    if parts.scheme != "unix" and parts.path.strip("/") and "db" not in dict(theirs):
        _int(unquote(parts.path).strip("/"), "database number")  # redis-py ignores a bad one
    if parts.scheme == "unix" and not kwargs.get("path"):
        msg = "a unix:// Redis URL needs the socket's path: unix:///run/redis.sock"
        raise ConfigError(msg)
    keep = ("db", "username", "password", "host", "port", "path", "connection_class")
    target = RedisTarget(
        kind="standalone",
        hosts=()
        if parts.scheme == "unix"
        else ((kwargs.get("host", "localhost"), kwargs.get("port", 6379)),),
        db=int(kwargs.get("db", 0)),
        username=kwargs.get("username") or None,
        password=kwargs.get("password") or None,
        ssl=parts.scheme == "rediss",
        path=kwargs.get("path"),
        extra=tuple(sorted((k, v) for k, v in kwargs.items() if k not in keep)),
    )
    return target, _apply_pairs(ours, options)


def _apply_query(query: str, options: RedisOptions) -> RedisOptions:
    return _apply_pairs(parse_qsl(query, keep_blank_values=True), options)


def _apply_pairs(pairs: Iterable[tuple[str, str]], options: RedisOptions) -> RedisOptions:
    changes: dict[str, Any] = {}
    for name, raw in pairs:
        if name in _FLOAT_FIELDS:
            changes[name] = _float(raw, name)
        elif name in _INT_FIELDS:
            changes[name] = _int(raw, name)
        elif name in _STR_FIELDS:
            changes[name] = None if name == "coherence" and raw in ("", "none") else raw
        elif name in _BOOL_FIELDS:
            changes[name] = _bool(raw, name)
        else:
            msg = f"unknown Redis URL parameter {name!r}"
            raise ConfigError(msg)
    return options.replace(**changes) if changes else options


def _host_port(text: str, number: int) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host:
        msg = f"Redis URL address #{number} must be host:port"
        raise ConfigError(msg)
    value = _int(port, f"port of address #{number}")
    if not 0 < value < 65536:
        msg = f"Redis URL port of address #{number} must be 1..65535"
        raise ConfigError(msg)
    return host.strip("[]"), value


def _bool(text: str, name: str) -> bool:
    word = text.strip().lower()
    if word in ("1", "true", "yes", "on"):
        return True
    if word in ("0", "false", "no", "off"):
        return False
    msg = f"Redis URL parameter {name} must be true or false (1/0, yes/no, on/off)"
    raise ConfigError(msg)


def _int(text: str, name: str) -> int:
    try:
        return int(text)
    except ValueError:
        msg = f"Redis URL {name} must be an integer"
        raise ConfigError(msg) from None


def _float(text: str, name: str) -> float:
    try:
        return float(text)
    except ValueError:
        msg = f"Redis URL parameter {name} must be a number"
        raise ConfigError(msg) from None
