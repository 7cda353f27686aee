"""Health of a cache's tiers: what `Cache.health()` and `AsyncCache.health()` report.

A tier is "ok", "degraded" (it answers, but the cache is not getting all it should: the
breaker is not closed, the invalidation subscription is down, invalidations wait for replay,
a disk is nearly full) or "down" (it does not answer). A cache is healthy while no tier is
down. The L1 is always ok. Other tiers plug in through `CacheBase._health_checks`, a mapping of
tier name to a no-argument callable returning a TierHealth (the disk tier registers one built
on `disk_health`).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict, dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import os

    from .stats import CacheStats, RedisTierStats

__all__ = [
    "Health",
    "HealthCheck",
    "TierHealth",
    "async_ping_round_trip",
    "compose",
    "disk_health",
    "ping_round_trip",
]

_ORDER = {"ok": 0, "degraded": 1, "down": 2}


@dataclass(frozen=True)
class TierHealth:
    """The state of one tier.

    Attributes:
        status: "ok", "degraded" or "down".
        detail: why, in a few words ("" when ok).
        round_trip: seconds of the health check's own round trip (PING for Redis), or None.
        breaker: the circuit breaker's state ("closed", "open", "half-open"), or None.
        coherent: whether invalidations from other processes arrive, or None.
        disk_free, disk_total: bytes on the disk tier's filesystem, or None.
        used_bytes, max_bytes: what the disk tier's entries weigh, and its bound, or None.
    """

    status: str
    detail: str = ""
    round_trip: float | None = None
    breaker: str | None = None
    coherent: bool | None = None
    disk_free: int | None = None
    disk_total: int | None = None
    used_bytes: int | None = None
    max_bytes: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """The fields that are set, for a JSON body."""
        return {k: v for k, v in asdict(self).items() if v is not None}


#: What a tier registers in `CacheBase._health_checks`.
HealthCheck = Callable[[], TierHealth]


@dataclass(frozen=True)
class Health:
    """Per-tier health of one cache (`Cache.health()`)."""

    tiers: Mapping[str, TierHealth]

    @property
    def status(self) -> str:
        """The worst tier status."""
        return max((t.status for t in self.tiers.values()), key=_ORDER.__getitem__, default="ok")

    @property
    def healthy(self) -> bool:
        """True while no tier is down (a degraded tier still serves, through fail-open)."""
        return self.status != "down"

    def as_dict(self) -> dict[str, Any]:
        """{"healthy", "status", "tiers": {name: fields}}, for a JSON body."""
        return {
            "healthy": self.healthy,
            "status": self.status,
            "tiers": {name: t.as_dict() for name, t in self.tiers.items()},
        }


def l1_health(stats: CacheStats) -> TierHealth:
    """The in-process tier answers whenever the process does."""
    return TierHealth("ok", f"{stats.entries} entries")


def redis_health(l2: RedisTierStats, round_trip: float | None, error: str | None) -> TierHealth:
    """The Redis tier's health from its counters and one PING (`error` when it failed)."""
    common: dict[str, Any] = {"breaker": l2.breaker, "coherent": l2.coherent}
    if error is not None:
        return TierHealth("down", error, **common)
    problems = []
    if l2.breaker != "closed":
        problems.append(f"breaker {l2.breaker}")
    if not l2.coherent:
        problems.append("invalidation subscription down")
    if l2.invalidations_pending:
        problems.append(f"{l2.invalidations_pending} invalidations waiting for replay")
    status = "degraded" if problems else "ok"
    return TierHealth(status, ", ".join(problems), round_trip=round_trip, **common)


def ping_round_trip(ping: Callable[[], object]) -> tuple[float | None, str | None]:
    """(seconds, None) after a successful `ping()`, (None, "ErrorName: message") otherwise."""
    start = time.perf_counter()
    try:
        ping()
    except Exception as exc:  # noqa: BLE001 - any failure means the tier does not answer
        return None, f"{type(exc).__name__}: {exc}"
    return time.perf_counter() - start, None


async def async_ping_round_trip(
    ping: Callable[[], Awaitable[object]],
) -> tuple[float | None, str | None]:
    """`ping_round_trip` for a coroutine function."""
    start = time.perf_counter()
    try:
        await ping()
    except Exception as exc:  # noqa: BLE001 - any failure means the tier does not answer
        return None, f"{type(exc).__name__}: {exc}"
    return time.perf_counter() - start, None


def disk_health(path: str | os.PathLike[str], min_free: int = 0) -> TierHealth:
    """The health of a disk tier kept under `path`: down if the path is unusable, degraded
    when fewer than `min_free` bytes are free.

    Raises:
        ValueError: min_free is negative.
    """
    if min_free < 0:
        msg = f"min_free must be >= 0 bytes, got {min_free}"
        raise ValueError(msg)
    start = time.perf_counter()
    try:
        usage = shutil.disk_usage(path)
    except OSError as exc:
        return TierHealth("down", f"{type(exc).__name__}: {exc}")
    rtt = time.perf_counter() - start
    low = usage.free < min_free
    return TierHealth(
        "degraded" if low else "ok",
        f"{usage.free} bytes free, fewer than {min_free}" if low else "",
        round_trip=rtt,
        disk_free=usage.free,
        disk_total=usage.total,
    )


def compose(
    stats: CacheStats,
    redis: tuple[float | None, str | None] | None,
    checks: Mapping[str, HealthCheck],
) -> Health:
    """One Health from the tiers' parts (shared by the sync and async caches)."""
    tiers = {"l1": l1_health(stats)}
    if stats.l2 is not None and redis is not None:
        tiers["redis"] = redis_health(stats.l2, *redis)
    for name, check in checks.items():
        tiers[name] = check()
    return Health(MappingProxyType(tiers))
