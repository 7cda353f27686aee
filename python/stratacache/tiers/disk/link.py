"""The disk link of the chain L1 -> disk -> Redis: the `UpperLink` of the Redis link, with
L1 (`LocalDriver`) as its own upper.

It keeps the Redis link's envelopes byte for byte (tags, their versions and the creation time
inside), so the Redis link judges a disk copy with the rules it applies to its own values
(`TierState.finish_read`: tombstones, recovery grace, tag versions, freshness) before serving
it. Every call here is a local LMDB call: no network, safe from the subscriber thread.

Why this order: a disk hit is a mapped-memory lookup of microseconds, a Redis hit a network
round trip (bench/results/disk.json, "chain_order"), so the disk answers first and Redis
backfills both tiers above it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..chain import KEPT
from ..local import LocalDriver
from .tier import DiskTier

if TYPE_CHECKING:
    from ..chain import UpperLink

__all__ = ["DiskLink"]


class DiskLink:
    """Disk between L1 and Redis: fills, deletes and clears reach the disk, then L1."""

    def __init__(self, local: LocalDriver, disk: DiskTier) -> None:
        self.upper = local
        self.disk = disk

    def fill(
        self, namespace: str, key: str, value: Any, ttl: float | None, envelope: Any = None
    ) -> None:
        if envelope is None:  # no envelope to keep: an older copy must not outlive this value
            self.disk.delete(namespace, [key])
        elif envelope is not KEPT and (ttl is None or ttl > 0):
            self.disk.put(namespace, key, envelope, ttl)
        self.upper.fill(namespace, key, value, ttl)

    def held(self, namespace: str, key: str) -> bytes | None:
        return self.disk.envelope(namespace, key)

    def held_many(self, namespace: str, keys: Sequence[str]) -> list[bytes | None]:
        """`held` for several keys, in one read transaction."""
        hits = self.disk.store.get_many([self.disk.key_of(namespace, k) for k in keys])
        return [None if h is None else bytes(h[0]) for h in hits]

    def refused(self, namespace: str, key: str, *, corrupt: bool) -> None:
        """The Redis link would not serve the disk copy of `key` (stale, invalidated, or not
        an envelope): it is dropped so that no later read looks at it again."""
        if corrupt:
            self.disk.store.count_corrupt()
        self.disk.delete(namespace, [key])

    def forget(self) -> None:
        self.upper.forget()

    def distrust(self) -> None:
        # Shared by the host's processes: each that lost its subscription clears it once.
        self.disk.clear(None)

    def delete(self, namespace: str, keys: Sequence[str]) -> int:
        in_l1 = self.upper.delete(namespace, keys)
        return max(in_l1, self.disk.delete(namespace, keys))

    def clear(self, namespace: str | None) -> int:
        in_l1 = self.upper.clear(namespace)
        return max(in_l1, self.disk.clear(namespace))

    def invalidate_pattern(self, namespace: str, pattern: str) -> int:
        in_l1 = self.upper.invalidate_pattern(namespace, pattern)
        return max(in_l1, self.disk.invalidate_pattern(namespace, pattern))


if TYPE_CHECKING:  # mypy proves the link speaks the interface the Redis link calls
    _checked: type[UpperLink] = DiskLink
