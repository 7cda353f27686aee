"""What the sync and async Redis executors share: error classes, counters, retry delays."""

from __future__ import annotations

import random
import time
from contextvars import ContextVar
from dataclasses import dataclass, fields
from typing import Any

from .._breaker import CircuitBreaker
from ._config import RedisOptions

__all__ = ["Announce", "TierCounters", "TierDown", "backoff_delay", "classify", "transport_errors"]

# Lua: delete the lock only if it still holds our token (an expired lock taken over by
# another process must not be released by us).
RELEASE_LOCK = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


#: A PUBLISH to send with a write: (channel, message).
Announce = tuple[bytes, bytes]

#: time.monotonic() by which the running sync call must be over (None outside a call); the
#: connections of `_clients` cap every connect and read by the time left.
call_deadline: ContextVar[float | None] = ContextVar("stratacache_call_deadline", default=None)


class TierDown(Exception):
    """The tier did not answer: breaker open, transport failure after retries, or an error
    reply. Callers turn it into a miss / skipped write (fail-open) or TierUnavailableError."""


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
    invalidations_received: int = 0
    invalidations_malformed: int = 0
    subscription_drops: int = 0
    invalidations_replayed: int = 0
    invalidations_overflowed: int = 0

    def snapshot(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


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
    """Errors that mean misconfiguration (bad password, missing permission): never hidden."""
    from redis import exceptions as e  # noqa: PLC0415

    return (e.AuthenticationError, e.NoPermissionError, e.AuthenticationWrongNumberOfArgsError)


def classify(exc: BaseException) -> str:
    """ "fatal", "transport" or "reply" (any other error reply, e.g. WRONGTYPE)."""
    if isinstance(exc, fatal_errors()):
        return "fatal"
    if isinstance(exc, transport_errors()):
        return "transport"
    return "reply"


def after_failure(exc: Exception, attempt: int, *, idempotent: bool, tier: Any) -> float:
    """What a failed command leads to: the delay before its retry, or the exception to raise
    (RedisAuthError for credentials/permissions, TierDown otherwise). Shared by both executors,
    which only differ in how they sleep."""
    from ..errors import RedisAuthError  # noqa: PLC0415

    kind = classify(exc)
    if kind == "fatal":
        tier.breaker.success()  # the server answered: it is up
        msg = f"Redis refused the request: {exc}"
        raise RedisAuthError(msg) from exc
    tier.counters.errors += 1
    if kind == "reply":
        tier.breaker.success()
        raise TierDown(str(exc)) from exc
    tier.breaker.failure()
    if not idempotent or attempt >= tier.options.retries:
        raise TierDown(str(exc)) from exc
    tier.counters.retries += 1
    return backoff_delay(tier.options, attempt)


def refuse_if_open(tier: Any) -> int:
    """The breaker's permit for a call; raises TierDown at once while the breaker is open.
    The caller hands the permit to `breaker.release` when the call ends, however it ends."""
    permit: int = tier.breaker.allow()
    if not permit:
        msg = "circuit open"
        raise TierDown(msg)
    return permit


def retry_permit(tier: Any, permit: int, exc: Exception) -> int:
    """Swaps the permit of a failed attempt for one for its retry (TierDown if refused)."""
    tier.breaker.release(permit)
    again: int = tier.breaker.allow()
    if not again:
        raise TierDown(str(exc)) from exc
    return again


def check_time_left(end: float, delay: float, exc: Exception) -> None:
    """Raises TierDown when a retry after `delay` would start past the call's deadline."""
    if time.monotonic() + delay >= end:
        raise TierDown(str(exc)) from exc


def deadline_passed(tier: Any) -> TierDown:
    """The TierDown of an asyncio call cut by its deadline (counted as a transport failure)."""
    tier.counters.errors += 1
    tier.breaker.failure()
    return TierDown(f"no answer within call_timeout ({tier.options.deadline:g} s)")


def backoff_delay(options: RedisOptions, attempt: int) -> float:
    """Full-jitter exponential backoff: uniform in [0, min(max, base * 2**attempt)]."""
    return random.uniform(0, min(options.backoff_max, options.backoff * (2**attempt)))


def is_cluster(client: Any) -> bool:
    """True for redis-py's sync or async RedisCluster."""
    return type(client).__name__ == "RedisCluster"


def new_breaker(options: RedisOptions) -> CircuitBreaker:
    return CircuitBreaker(options.breaker)
