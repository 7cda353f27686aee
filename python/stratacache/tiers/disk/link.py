"""The disk link of the chain L1 -> disk -> Redis: the `UpperLink` of the Redis link, with
L1 (`LocalDriver`) as its own upper.

It keeps the Redis link's envelopes byte for byte (tags, their versions and the creation time
inside), so the Redis link judges a disk copy with the rules it applies to its own values
(`TierState.finish_read`: tombstones, recovery grace, tag versions, freshness) before serving
it. Every call here is a local LMDB call: no network, safe from the subscriber thread.

The processes of a host share one disk, and each announces its writes: were a copy dropped
on every announcement, a write would be removed from the shared disk by the other workers as
soon as they hear of it. So each stored envelope is preceded by its writer's origin (the id in
its messages), and an announced change drops a disk copy unless the announcer wrote it.

Why this order: a disk hit is a mapped-memory lookup of microseconds, a Redis hit a network
round trip (bench/results/disk.json, "chain_order"), so the disk answers first and Redis
backfills both tiers above it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ..chain import KEPT
from ..local import LocalDriver
from .tier import DiskTier

if TYPE_CHECKING:
    from ..chain import UpperLink

__all__ = ["DiskLink", "split"]

#: First byte of a stored record: format 1 is (origin length, origin, Redis envelope).
_RECORD = 1


def _record(origin: str, envelope: bytes) -> bytes:
    who = origin.encode("utf-8", "surrogatepass")[:255]
    return bytes((_RECORD, len(who))) + who + envelope


def split(record: bytes) -> tuple[bytes, bytes]:
    """(writer origin, envelope) of a stored record; bytes of another shape come back whole
    as the envelope (they then fail to decode: a counted corrupt miss)."""
    if len(record) < 2 or record[0] != _RECORD or len(record) < 2 + record[1]:
        return b"", record
    end = 2 + record[1]
    return record[2:end], record[end:]


class DiskLink:
    """Disk between L1 and Redis: fills, deletes and clears reach the disk, then L1."""

    def __init__(self, local: LocalDriver, disk: DiskTier) -> None:
        self.upper = local
        self.disk = disk
        # This process's origin, read at each write (a forked child gets a new one); set by
        # the cache once the Redis tier's state exists.
        self.origin: Callable[[], str] = lambda: ""
        # Redis's bytes of these keys now (a sync MGET; None: unknown), for `drop_changed`.
        self.current: Callable[[list[bytes]], Sequence[bytes | None]] | None = None

    def fill(
        self, namespace: str, key: str, value: Any, ttl: float | None, envelope: Any = None
    ) -> None:
        if envelope is None:  # no envelope to keep: an older copy must not outlive this value
            self.disk.delete(namespace, [key])
        elif envelope is not KEPT and (ttl is None or ttl > 0):
            self.disk.put(namespace, key, _record(self.origin(), envelope), ttl)
        self.upper.fill(namespace, key, value, ttl)

    def held(self, namespace: str, key: str) -> bytes | None:
        record = self.disk.envelope(namespace, key)
        return None if record is None else split(record)[1]

    def drop_announced(self, namespace: str, keys: Sequence[str], origin: str) -> None:
        self.upper.delete(namespace, keys)
        who = origin.encode("utf-8", "surrogatepass")[:255]
        # Read, then delete: a write between the two by the announcer is deleted too, which
        # costs a miss, never a stale value.
        doomed = []
        for key in keys:
            record = self.disk.envelope(namespace, key)
            if record is not None and (not who or split(record)[0] != who):
                doomed.append(key)
        if doomed:
            self.disk.delete(namespace, doomed)

    def drop_changed(self, namespace: str, keys: Sequence[str]) -> None:
        """Tracking names changed keys, not who changed them, and reports this process's own
        writes too: a copy this process wrote is kept when Redis still holds its very bytes
        (then the change was that write, or one to the same bytes); any other copy goes. A
        later change comes with a later report, so a copy kept here is dropped then."""
        self.upper.delete(namespace, keys)
        me = self.origin().encode("utf-8", "surrogatepass")[:255]
        doomed: list[str] = []
        ours: list[tuple[str, bytes]] = []
        for key in keys:
            record = self.disk.envelope(namespace, key)
            if record is None:
                continue
            who, envelope = split(record)
            if self.current is not None and me and who == me:
                ours.append((key, envelope))
            else:
                doomed.append(key)
        if ours:
            doomed += self._not_current(namespace, ours)
        if doomed:
            self.disk.delete(namespace, doomed)

    def _not_current(self, namespace: str, ours: list[tuple[str, bytes]]) -> list[str]:
        """The keys of `ours` whose bytes Redis no longer holds (all of them if it cannot tell)."""
        names = [self.disk.key_of(namespace, k).encode("utf-8", "surrogatepass") for k, _ in ours]
        try:
            now = list(self.current(names)) if self.current is not None else []
        except Exception:  # noqa: BLE001 - Redis unreachable: drop, a miss is never stale
            now = []
        if len(now) != len(ours):
            return [k for k, _ in ours]
        return [k for (k, envelope), held in zip(ours, now, strict=True) if held != envelope]

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
