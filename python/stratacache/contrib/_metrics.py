"""The metric samples every exporter shares (Prometheus, OpenTelemetry), read from stats().

One place decides names, labels and units, so a dashboard works whichever exporter feeds it.
Counters are cumulative since the cache was created; gauges are current values.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .._options import require_type

if TYPE_CHECKING:
    from ..stats import CacheStats, NamespaceStats

__all__ = ["OTHER_NAMESPACES", "Sample", "breaker_states", "check_target", "counters", "gauges"]

#: The namespace label of the counters shared by namespaces beyond the engine's bound.
OTHER_NAMESPACES = "__other__"
BREAKER_STATES = ("closed", "open", "half-open")

_EVICTION_CAUSES = (
    ("size", "evicted_size"),
    ("expired", "evicted_expired"),
    ("explicit", "evicted_explicit"),
)
# RedisTierStats counters exported as stratacache_redis_<name>_total.
REDIS_COUNTERS = (
    "stale_hits",
    "corrupt",
    "tag_misses",
    "sets",
    "deletes",
    "errors",
    "skipped_reads",
    "skipped_writes",
    "retries",
    "refreshes",
    "refresh_errors",
    "lock_waits",
    "invalidations_received",
    "subscription_drops",
    "invalidations_replayed",
)


def check_target(cache: object, name: object) -> None:
    """What every exporter checks of its arguments.

    Raises:
        TypeError: cache is not a Cache/AsyncCache, or name not a str.
        ValueError: name is empty.
    """
    from ..caches import AsyncCache, Cache  # noqa: PLC0415 - caches imports nothing of this

    require_type(cache, (Cache, AsyncCache), "cache", "a stratacache Cache or AsyncCache")
    require_type(name, str, "name", "a str")
    if not name:
        msg = "name must not be empty"
        raise ValueError(msg)


@dataclass(frozen=True)
class Sample:
    """One value of one metric: name (without the stratacache_ prefix), labels, value."""

    name: str
    labels: dict[str, str]
    value: float


def _namespaces(stats: CacheStats) -> Iterator[tuple[str, NamespaceStats]]:
    yield from stats.namespaces.items()
    if stats.other_namespaces is not None:
        yield OTHER_NAMESPACES, stats.other_namespaces


def counters(stats: CacheStats, cache: str) -> Iterator[Sample]:
    """Cumulative counts: hits, misses, sets, evictions by cause (L1 per namespace), Redis
    reads per namespace (a miss: nothing usable found), and the Redis tier's own counters."""
    for ns, n in _namespaces(stats):
        labels = {"cache": cache, "tier": "l1", "namespace": ns}
        yield Sample("hits", labels, n.hits)
        yield Sample("misses", labels, n.misses)
        yield Sample("sets", labels, n.sets)
        yield Sample("rejected", labels, n.rejected)
        for cause, field in _EVICTION_CAUSES:
            yield Sample("evictions", {**labels, "cause": cause}, getattr(n, field))
    l2 = stats.l2
    if l2 is not None:
        reads = list(l2.namespaces.items())
        if l2.other_namespaces is not None:
            reads.append((OTHER_NAMESPACES, l2.other_namespaces))
        for ns, (hits, misses) in reads:
            labels = {"cache": cache, "tier": "redis", "namespace": ns}
            yield Sample("hits", labels, hits)
            yield Sample("misses", labels, misses)
        yield Sample("errors", {"cache": cache, "tier": "redis"}, l2.errors)
        yield Sample("breaker_opened", {"cache": cache}, l2.breaker_opened)
        for name in REDIS_COUNTERS:
            yield Sample(f"redis_{name}", {"cache": cache}, getattr(l2, name))


def gauges(stats: CacheStats, cache: str) -> Iterator[Sample]:
    """Current values: entries and bytes per namespace, breaker and coherence state."""
    for ns, n in _namespaces(stats):
        labels = {"cache": cache, "tier": "l1", "namespace": ns}
        yield Sample("entries", labels, n.entries)
        yield Sample("bytes", labels, n.bytes)
    l2 = stats.l2
    if l2 is not None:
        yield from breaker_states(l2.breaker, cache)
        yield Sample("coherent", {"cache": cache}, 1.0 if l2.coherent else 0.0)
        yield Sample("invalidations_pending", {"cache": cache}, l2.invalidations_pending)


def breaker_states(state: str, cache: str) -> Iterator[Sample]:
    """The breaker as one 0/1 sample per state (the state set pattern)."""
    for s in BREAKER_STATES:
        yield Sample("breaker_state", {"cache": cache, "state": s}, 1.0 if s == state else 0.0)
