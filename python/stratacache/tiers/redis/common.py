"""What the sync and async Redis executors share: error classes, counters, retry delays."""

from __future__ import annotations

import os
import random
import re
import time
from contextvars import ContextVar
from dataclasses import dataclass, field, fields
from typing import Any

from ..._log import RateLimited
from .breaker import CircuitBreaker
from .config import RedisOptions

__all__ = [
    "Announce",
    "CircuitOpen",
    "Refused",
    "TierCounters",
    "TierDown",
    "backoff_delay",
    "classify",
    "describe",
    "transport_errors",
]

# Lua: delete the lock only if it still holds our token (an expired lock taken over by
# another process must not be released by us).
RELEASE_LOCK = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


#: This process's id, renewed in a forked child: the pools compare it with their own instead
#: of calling getpid on every command. It lives here, not in pool.py, for the order of the
#: at-fork handlers, which run in the order they were registered: coherence.py's starts a
#: subscriber thread that takes a pooled connection at once, and with a stale id here that
#: thread took an idle connection of the parent (its socket shared with it) and subscribed
#: it, which broke the parent's next command on it. This module is imported, and its
#: handler registered, before coherence.py registers its own.
pid = os.getpid()


def _renew_pid() -> None:
    global pid  # noqa: PLW0603 - the one value a fork changes
    pid = os.getpid()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_renew_pid)


#: A PUBLISH to send with a write: (channel, message).
Announce = tuple[bytes, bytes]


@dataclass
class Rider:
    """A script sent in the same round trip as a DEL, and its reply (standalone only: a
    cluster pipeline runs no scripts, and there `reply` stays None)."""

    source: str
    keys: list[bytes]
    args: list[Any]
    reply: Any = None


#: time.monotonic() by which the running sync call must be over (None outside a call); the
#: connections of `_clients` cap every connect and read by the time left.
call_deadline: ContextVar[float | None] = ContextVar("stratacache_call_deadline", default=None)


class TierDown(Exception):
    """The tier did not answer: breaker open, transport failure after retries, or an error
    reply. Callers turn it into a miss / skipped write (fail-open) or TierUnavailableError."""


#: Most keys per auto-pipelined MGET or per pipeline of a set_many; a larger batch is split.
MAX_BATCH = 512
#: Namespaces with Redis read counters of their own, the catch-all one included.
MAX_NAMESPACES = 64
#: Where reads of namespaces beyond the first MAX_NAMESPACES - 1 are counted (no user
#: namespace can take this name: namespaces cannot contain the separator U+001F).
OTHER_NAMESPACE = "\x1fother"


@dataclass
class TierCounters:
    """Counters of one Redis tier; plain ints bumped under the GIL (approximate under threads)."""

    hits: int = 0
    misses: int = 0
    stale_hits: int = 0
    corrupt: int = 0
    tag_misses: int = 0
    sets: int = 0
    deletes: int = 0
    errors: int = 0
    skipped_reads: int = 0
    skipped_writes: int = 0
    retries: int = 0
    refreshes: int = 0
    refresh_errors: int = 0
    lock_waits: int = 0
    fills_refused: int = 0
    invalidations_received: int = 0
    invalidations_malformed: int = 0
    subscription_drops: int = 0
    invalidations_replayed: int = 0
    invalidations_overflowed: int = 0
    invalidations_refused: int = 0
    tombstone_misses: int = 0
    grace_misses: int = 0
    # [hits, misses] of Redis reads per namespace: the first MAX_NAMESPACES - 1 namespaces
    # seen, and every later one under OTHER_NAMESPACE (as the engine bounds L1's).
    by_namespace: dict[str, list[int]] = field(default_factory=dict)

    def read(self, namespace: str, *, hit: bool) -> None:
        """Counts one Redis read of `namespace` that found a value (hit) or nothing usable."""
        counts = self.by_namespace.get(namespace)
        if counts is None:
            full = len(self.by_namespace) >= MAX_NAMESPACES - 1
            counts = self.by_namespace.setdefault(OTHER_NAMESPACE if full else namespace, [0, 0])
        counts[0 if hit else 1] += 1

    def snapshot(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            f.name: getattr(self, f.name) for f in fields(self) if f.name != "by_namespace"
        }
        named = {ns: tuple(c) for ns, c in list(self.by_namespace.items())}
        other = named.pop(OTHER_NAMESPACE, None)
        out["namespaces"], out["other_namespaces"] = named, other
        return out


def transport_errors() -> tuple[type[BaseException], ...]:
    """redis-py errors that mean "no usable answer": worth a retry and a breaker failure."""
    from redis import exceptions as e  # noqa: PLC0415

    return (
        e.ConnectionError,
        e.TimeoutError,
        e.ClusterDownError,
        e.TryAgainError,
        e.ReadOnlyError,
        e.ClusterError,
        OSError,
    )


def fatal_errors() -> tuple[type[BaseException], ...]:
    """Errors that mean misconfiguration (bad password, missing permission): raised at
    construction, and at runtime handled by the failure policy (see `after_failure`)."""
    from redis import exceptions as e  # noqa: PLC0415

    return (e.AuthenticationError, e.NoPermissionError, e.AuthenticationWrongNumberOfArgsError)


def classify(exc: BaseException) -> str:
    """ "fatal", "transport" or "reply" (any other error reply, e.g. WRONGTYPE)."""
    if isinstance(exc, fatal_errors()):
        return "fatal"
    if isinstance(exc, transport_errors()):
        return "transport"
    return "reply"


class CircuitOpen(TierDown):
    """The breaker refused the call: the tier has been failing (an outage, not one error)."""


class Refused(TierDown):
    """Redis refused the cache's credentials or a permission (password rotated, ACL changed
    at runtime, or a read-only user's write). Not an outage: retrying or replaying the same
    command will not help until an operator changes the ACL."""


_PIPELINE_PREFIX = re.compile(r"^Command # \d+ \(.*\) of pipeline caused error: ", re.DOTALL)
_QUOTED = re.compile(r"'([^']*)'")
_ARGS_TAIL = re.compile(r",? with args beginning with:.*$", re.DOTALL)
_COMMAND_NAME = re.compile(r"[a-z|]{1,32}")
_MAX_REASON = 200


def describe(exc: BaseException) -> str:
    """A one-line reason for `exc` that quotes no command argument: redis-py prefixes a
    pipeline's error with the failing command and its arguments (keys, value bytes), and some
    server replies echo arguments. Quoted words are kept only if they look like a command name.
    """
    text = str(exc.args[0]) if exc.args else ""
    text = _ARGS_TAIL.sub("", _PIPELINE_PREFIX.sub("", text))
    text = _QUOTED.sub(lambda m: m[0] if _COMMAND_NAME.fullmatch(m[1]) else "'...'", text)
    text = " ".join(text.split())[:_MAX_REASON]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def scrub(exc: BaseException) -> str:
    """`describe(exc)`, also made the exception's own text: it stays chained (``from``) to
    what the cache raises, and a traceback would print it."""
    reason = describe(exc)
    exc.args = (reason,)
    return reason


_refused_log = RateLimited("Redis refused a command of the cache (%s); failure policy applies")


def after_failure(exc: Exception, attempt: int, *, idempotent: bool, tier: Any) -> float:
    """What a failed command leads to: the delay before its retry, or TierDown (`Refused` for
    credentials and permissions: at runtime they follow the failure policy like an outage,
    logged; construction raises RedisAuthError instead). Shared by both executors, which only
    differ in how they sleep."""
    kind = classify(exc)
    reason = scrub(exc)
    tier.counters.errors += 1
    if kind == "fatal":
        _refused_log.hit(reason)
        if _is_login_error(exc):
            tier.breaker.failure()  # no connection can log in: as good as down
        else:
            tier.breaker.success()  # the server answered; other commands may be allowed
        raise Refused(reason) from exc
    if kind == "reply":
        tier.breaker.success()
        raise TierDown(reason) from exc
    tier.breaker.failure()
    if not idempotent or attempt >= tier.options.retries:
        raise down(tier, reason) from exc
    tier.counters.retries += 1
    return backoff_delay(tier.options, attempt)


def _is_login_error(exc: BaseException) -> bool:
    from redis import exceptions as e  # noqa: PLC0415

    return isinstance(exc, (e.AuthenticationError, e.AuthenticationWrongNumberOfArgsError))


def refuse_if_open(tier: Any) -> int:
    """The breaker's permit for a call; raises TierDown at once while the breaker is open.
    The caller hands the permit to `breaker.release` when the call ends, however it ends."""
    permit: int = tier.breaker.allow()
    if not permit:
        msg = "circuit open"
        raise CircuitOpen(msg)
    return permit


def retry_permit(tier: Any, permit: int, exc: Exception) -> int:
    """Swaps the permit of a failed attempt for one for its retry (TierDown if refused)."""
    tier.breaker.release(permit)
    again: int = tier.breaker.allow()
    if not again:
        raise CircuitOpen(str(exc)) from exc
    return again


def check_time_left(end: float, delay: float, exc: Exception) -> None:
    """Raises TierDown when a retry after `delay` would start past the call's deadline."""
    if time.monotonic() + delay >= end:
        raise TierDown(str(exc)) from exc


def deadline_passed(tier: Any) -> TierDown:
    """The TierDown of an asyncio call cut by its deadline (counted as a transport failure)."""
    tier.counters.errors += 1
    tier.breaker.failure()
    return down(tier, f"no answer within call_timeout ({tier.options.deadline:g} s)")


def down(tier: Any, reason: str) -> TierDown:
    """The TierDown of a transport failure: `CircuitOpen` when it left the breaker open."""
    return (CircuitOpen if tier.breaker.state != "closed" else TierDown)(reason)


def backoff_delay(options: RedisOptions, attempt: int) -> float:
    """Full-jitter exponential backoff: uniform in [0, min(max, base * 2**attempt)]."""
    return random.uniform(0, min(options.backoff_max, options.backoff * (2**attempt)))


def is_cluster(client: Any) -> bool:
    """True for redis-py's sync or async RedisCluster."""
    return type(client).__name__ == "RedisCluster"


def new_breaker(options: RedisOptions) -> CircuitBreaker:
    return CircuitBreaker(options.breaker)
