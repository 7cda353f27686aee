"""Counters a cache reports through `stats()`."""

from __future__ import annotations

from dataclasses import dataclass


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
    disk: DiskTierStats | None = None

    @property
    def hit_ratio(self) -> float:
        """hits / (hits + misses), 0.0 before the first lookup."""
        lookups = self.hits + self.misses
        return self.hits / lookups if lookups else 0.0


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

    @property
    def hit_ratio(self) -> float:
        """hits / (hits + misses) of Redis reads, 0.0 before the first."""
        lookups = self.hits + self.misses
        return self.hits / lookups if lookups else 0.0
