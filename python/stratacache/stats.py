"""Counters a cache reports through `stats()`."""

from __future__ import annotations

from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._refresh_options import RefreshStats

#: Upper bounds (ns) of the latency buckets exported: powers of two, which are exact bucket
#: edges of the engine's log-linear histograms, from 128 ns to about 34 s.
LATENCY_BOUNDS_NS: tuple[int, ...] = tuple(2**e for e in range(7, 36))
#: The quantiles every LatencyStats carries.
LATENCY_QUANTILES: tuple[float, ...] = (0.5, 0.9, 0.99, 0.999)


@dataclass(frozen=True)
class NamespaceStats:
    """The L1 counters of one namespace (`CacheStats.namespaces`); fields as in CacheStats."""

    hits: int
    misses: int
    sets: int
    rejected: int
    evicted_size: int
    evicted_expired: int
    evicted_explicit: int
    entries: int
    bytes: int

    @property
    def hit_ratio(self) -> float:
        """hits / (hits + misses), 0.0 before the first lookup."""
        lookups = self.hits + self.misses
        return self.hits / lookups if lookups else 0.0


@dataclass(frozen=True)
class LatencyStats:
    """Latencies of one operation on one tier, timed by the engine (`CacheStats.latency`).

    Attributes:
        count: calls timed (a sample of all calls when the cache's `timing` is below 1).
        total: their summed duration in seconds.
        buckets: (upper bound in seconds, calls that took less), cumulative, ascending.
        quantiles: {q: seconds} for each q of LATENCY_QUANTILES, each the upper edge of the
            histogram bucket holding it (at most 12.5% above the true value).
    """

    count: int
    total: float
    buckets: tuple[tuple[float, int], ...]
    quantiles: Mapping[float, float]

    @property
    def mean(self) -> float:
        """Mean duration in seconds, 0.0 when nothing was timed."""
        return self.total / self.count if self.count else 0.0


@dataclass(frozen=True)
class CacheStats:
    """A snapshot of one cache's L1 counters.

    Attributes:
        hits: lookups that found a live value.
        misses: lookups that found nothing (or only an expired value).
        sets: values stored.
        rejected: values not stored because they weigh more than a shard's byte budget.
        evicted_size: entries removed to respect max_entries / max_bytes.
        evicted_expired: entries removed because their TTL ran out.
        evicted_explicit: entries removed by delete / clear.
        entries: live entries now.
        bytes: summed weight of the live entries (1 per entry when only max_entries is set).
        events: the event broker's counters (`cache.events`).
        dependents_invalidated: keys deleted because a key they depend on (``depends_on``)
            was deleted or invalidated, transitively.
        dependency_walks_capped: invalidations that reached ``dependency_limit`` dependents
            and stopped there (logged at WARNING, rate-limited).
        dependency_links_refused: dependents not cached because a key already had
            ``dependency_limit`` dependents (or Redis did not answer).
        refresh_ahead: the refresh-ahead counters of the cache's functions
            (`stratacache.RefreshStats`), None until one has ``refresh_ahead=``.
    """

    hits: int
    misses: int
    sets: int
    rejected: int
    evicted_size: int
    evicted_expired: int
    evicted_explicit: int
    entries: int
    bytes: int
    l2: RedisTierStats | None = None
    dependents_invalidated: int = 0
    dependency_walks_capped: int = 0
    dependency_links_refused: int = 0
    disk: DiskTierStats | None = None
    namespaces: Mapping[str, NamespaceStats] = field(default_factory=dict)
    other_namespaces: NamespaceStats | None = None
    latency: Mapping[str, Mapping[str, LatencyStats]] = field(default_factory=dict)
    events: EventStats | None = None
    refresh_ahead: RefreshStats | None = None

    @property
    def hit_ratio(self) -> float:
        """hits / (hits + misses), 0.0 before the first lookup."""
        lookups = self.hits + self.misses
        return self.hits / lookups if lookups else 0.0

    @property
    def l1(self) -> NamespaceStats:
        """The L1 totals as one NamespaceStats (the sum of `namespaces` and `other_namespaces`)."""
        return NamespaceStats(
            self.hits,
            self.misses,
            self.sets,
            self.rejected,
            self.evicted_size,
            self.evicted_expired,
            self.evicted_explicit,
            self.entries,
            self.bytes,
        )

    @property
    def tiers(self) -> Mapping[str, NamespaceStats | RedisTierStats | DiskTierStats]:
        """Per-tier view: {"l1": the L1 totals, "disk": `disk` when there is a disk tier,
        "redis": `l2` when there is a Redis tier}."""
        out: dict[str, NamespaceStats | RedisTierStats | DiskTierStats] = {"l1": self.l1}
        if self.disk is not None:
            out["disk"] = self.disk
        if self.l2 is not None:
            out["redis"] = self.l2
        return MappingProxyType(out)


def namespace_views(
    rows: list[tuple[str | None, dict[str, int]]], sep: str
) -> tuple[Mapping[str, NamespaceStats], NamespaceStats | None]:
    """The engine's (prefix, counters) rows as {namespace: NamespaceStats} and the overflow."""
    named: dict[str, NamespaceStats] = {}
    other = None
    for prefix, counters in rows:
        if prefix is None:
            other = NamespaceStats(**counters)
        else:
            named[prefix.removesuffix(sep)] = NamespaceStats(**counters)
    return named, other


def latency_views(rows: list[tuple[str, str, int, int, list[int], list[int]]]) -> Any:
    """The engine's histogram summaries as {tier: {op: LatencyStats}}."""
    out: dict[str, dict[str, LatencyStats]] = {}
    for tier, op, count, sum_ns, below, quantiles in rows:
        buckets = tuple((b / 1e9, n) for b, n in zip(LATENCY_BOUNDS_NS, below, strict=True))
        qs = {q: ns / 1e9 for q, ns in zip(LATENCY_QUANTILES, quantiles, strict=True)}
        out.setdefault(tier, {})[op] = LatencyStats(count, sum_ns / 1e9, buckets, qs)
    return out


@dataclass(frozen=True)
class DiskTierStats:
    """A snapshot of a cache's disk tier (`CacheStats.disk`): this process's counters, and the
    store's totals (shared by every process on the directory).

    Attributes:
        hits, misses: disk reads that found a live value / nothing usable (misses include the
            expired and corrupt ones).
        sets, deletes: values written / live keys removed.
        evictions: entries removed, oldest write first, to stay under max_bytes.
        expired: entries found or removed past their TTL.
        corrupt: envelopes that did not decode (truncated, tampered, foreign): each a miss.
        rejected: values not stored on disk (heavier than half of max_bytes, a full disk, a
            key over 511 bytes, or a value the codec cannot encode); L1 still holds them.
        bytes, entries: the store's weight and entry count now; max_bytes: its bound.
    """

    hits: int
    misses: int
    sets: int
    deletes: int
    evictions: int
    expired: int
    corrupt: int
    rejected: int
    bytes: int
    entries: int
    max_bytes: int


@dataclass(frozen=True)
class RedisTierStats:
    """A snapshot of a cache's Redis tier counters (`CacheStats.l2`).

    Attributes:
        hits, misses: Redis reads that found a fresh value / nothing usable.
        stale_hits: stale values served while a refresh ran (stale-while-revalidate).
        corrupt: values that did not decode (foreign, truncated, tampered): each was a miss;
            also internal keys (tag versions, locks) found holding another client's bytes,
            each a miss or a logged repair.
        tag_misses: values whose tag versions had moved (invalidated by tag): each a miss.
        sets, deletes: values written / keys removed.
        errors: commands that failed (timeouts, refused connections, error replies).
        skipped_reads, skipped_writes: calls not made or failed, answered by L1/the loader
            (fail-open), or raised (fail-closed).
        retries: retried commands. refreshes / refresh_errors: background reloads started
            (stale-while-revalidate, early refresh) / that raised.
        lock_waits: times a miss waited for another process's load (lock_timeout).
        fills_refused: loads whose result was not stored because the key was deleted or
            written while they ran (their lease was gone): storing it would bring back the
            value the delete removed.
        invalidations_received, invalidations_malformed: coherence messages applied / ignored.
        subscription_drops: times the invalidation subscription was lost (L1 was flushed).
        invalidations_replayed: deletes, tag bumps, patterns and clears skipped while Redis
            was unreachable, applied and published once it answered again.
        invalidations_overflowed: skipped key deletes and patterns beyond the log's bound,
            replayed as a flush of their namespace instead.
        invalidations_refused: deletes, tag bumps, patterns and clears Redis refused for
            want of a permission (a read-only user): skipped and logged, not kept for replay.
        tombstone_misses: Redis reads treated as misses because another process announced an
            invalidation of that value it could not apply in Redis yet (it replays it later).
        grace_misses: Redis reads treated as misses because the value predates an outage this
            process saw and `RedisOptions.recovery_grace` had not passed since Redis answered.
        invalidations_pending: skipped invalidations not replayed yet; while there are any,
            the cache reads and writes nothing in Redis (it counts as down).
        breaker: "closed", "open" or "half-open"; breaker_opened: times it opened.
        coherent: False while the subscription is down (L1 TTLs are capped meanwhile).
        namespaces: (hits, misses) of Redis reads per namespace, for the first 63 namespaces
            read; a miss here is any read that found nothing usable (absent, expired,
            undecodable, an old tag version...), so their sum can exceed `misses`.
        other_namespaces: the (hits, misses) of every namespace beyond those, or None.
    """

    hits: int
    misses: int
    stale_hits: int
    corrupt: int
    tag_misses: int
    sets: int
    deletes: int
    errors: int
    skipped_reads: int
    skipped_writes: int
    retries: int
    refreshes: int
    refresh_errors: int
    lock_waits: int
    fills_refused: int
    invalidations_received: int
    invalidations_malformed: int
    subscription_drops: int
    invalidations_replayed: int
    invalidations_overflowed: int
    invalidations_refused: int
    tombstone_misses: int
    grace_misses: int
    invalidations_pending: int
    breaker: str
    breaker_opened: int
    coherent: bool
    namespaces: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    other_namespaces: tuple[int, int] | None = None

    @property
    def hit_ratio(self) -> float:
        """hits / (hits + misses) of Redis reads, 0.0 before the first."""
        lookups = self.hits + self.misses
        return self.hits / lookups if lookups else 0.0


@dataclass(frozen=True)
class EventStats:
    """A snapshot of a cache's event broker (`CacheStats.events`, `cache.events`).

    Attributes:
        subscribers: live subscriptions.
        delivered: handler calls that returned (or raised), over every subscription so far.
        dropped: events a subscription did not take because its queue was full (a slow
            handler) or it was closed with events still queued.
        errors: handler calls that raised.
        published: events sent to other processes (PUBLISH on the invalidation channel).
        unsent: events not sent: the publish queue was full, or Redis did not answer.
        received: events of other processes decoded and delivered here.
        malformed: frames on the channel that did not decode (forged, tampered, truncated,
            signed with another key, or too large): each dropped.
    """

    subscribers: int
    delivered: int
    dropped: int
    errors: int
    published: int
    unsent: int
    received: int
    malformed: int


class AwaitableCacheStats(CacheStats):
    """A `CacheStats` snapshot that ``await`` returns unchanged (AsyncCache.stats)."""

    def __await__(self) -> Generator[Any, None, CacheStats]:
        yield from ()
        return self
