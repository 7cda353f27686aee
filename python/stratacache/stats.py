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

    @property
    def hit_ratio(self) -> float:
        """hits / (hits + misses), 0.0 before the first lookup."""
        lookups = self.hits + self.misses
        return self.hits / lookups if lookups else 0.0
