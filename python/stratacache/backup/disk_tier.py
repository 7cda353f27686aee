"""The disk tier as a backup `Source` and `Sink` (`Cache(disk=...)`).

Reading: `DiskStore.scan` walks the store in key order, one bounded batch per call from one
LMDB read snapshot (other processes keep reading and writing between batches), and yields
each live entry as a "v" record: its envelope as stored and its absolute expiry. The store
gives every set a new sequence number (its eviction queue is keyed by it), so the position a
backup reaches is that sequence (``seq:<n>``, the trailer's ``log_to``), and
`DiskStore.written_since` reads the entries written after one: the writes that landed during
a full backup's scan, and an incremental backup's whole content ("w" records: a restore sets
the live ones and deletes the key of one expired meanwhile).

Limits: the store keeps no tombstones, so an incremental backup holds what was written since
its base, not what was deleted or evicted since (a restore of base + increments revives
those); and it has no point-in-time log (``at=`` is Redis-only).

Writing: `DiskStore.put_many` stores a batch in one write transaction with the absolute
expiries (what expired meanwhile is skipped); readers in other processes see the store as it
was or as it is after the batch, never a half batch. Each batch is then announced, so this
process drops the overwritten keys from its L1.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import Any

from .._options import prefix_of
from ..tiers.disk.tier import RESERVED
from .format import BackupError
from .source import Announce, Record, announce_keys

__all__ = ["BATCH", "DiskSink", "DiskSource", "parse_position", "position"]

#: Entries per scan call or put_many call.
BATCH = 1000
#: Bytes of envelopes one call returns or stores at most (at least one entry).
CALL_BYTES = 8 << 20
_POSITION = "seq:"
_RESERVED = RESERVED.encode()


def position(seq: int) -> str:
    """The trailer's ``log_to`` of a disk backup that read up to write sequence `seq`."""
    return f"{_POSITION}{seq}"


def parse_position(text: str) -> int:
    """The write sequence of a disk backup's ``log_to``.

    Raises:
        BackupError: `text` is not a disk position (a Redis change-log id, say).
    """
    digits = text[len(_POSITION) :] if text.startswith(_POSITION) else ""
    if not digits.isdigit():
        msg = f"incremental_from: {text!r} is not a disk tier's position (seq:<n>)"
        raise BackupError(msg)
    return int(digits)


def _now_ms() -> int:
    """The store's clock: the system clock (DiskStore's expiry base), in milliseconds."""
    return time.time_ns() // 1_000_000


class DiskSource:
    """Reads every entry of a disk store (keys are ``<namespace>U+001F<key>``)."""

    kind = "disk"
    key_prefix = ""

    def __init__(self, store: Any) -> None:
        self.store = store
        self._last: str | None = None

    def now_ms(self) -> int:
        return _now_ms()

    def snapshot(self, namespaces: Sequence[str] | None) -> Iterator[Record]:
        prefixes = [""] if namespaces is None else [prefix_of(ns) for ns in namespaces]
        for prefix in prefixes:
            after = b""
            while True:
                entries, after, done = self.store.scan(prefix, after, BATCH, CALL_BYTES)
                for key, envelope, expiry, _ in entries:
                    if not key.startswith(_RESERVED):  # the store's own (heartbeats)
                        yield ["v", key, envelope, expiry, 0]
                if done:
                    break

    def log_position(self) -> str | None:
        return position(self.store.sequence())

    def changes_since(self, after: str, namespaces: Sequence[str] | None) -> Iterator[Record]:
        """The entries written after position `after`, up to the newest write when called
        (and the rest of the batch that reaches it), oldest first."""
        seq = parse_position(after)
        until = self.store.sequence()
        if until < seq:
            msg = (
                f"the disk store's newest write ({until}) is older than the base backup's "
                f"position ({seq}): the store was recreated, or is another one; take a full "
                "backup"
            )
            raise BackupError(msg)
        wanted = None
        if namespaces is not None:
            wanted = tuple(prefix_of(ns).encode("utf-8", "surrogatepass") for ns in namespaces)
        self._last = after
        done = seq >= until
        while not done:
            entries, seq, done = self.store.written_since(seq, BATCH, CALL_BYTES)
            for key, envelope, expiry, _ in entries:
                if (wanted is None or key.startswith(wanted)) and not key.startswith(_RESERVED):
                    yield ["w", key, envelope, expiry, 0]
            self._last = position(seq)
            done = done or seq >= until

    @property
    def last_id(self) -> str | None:
        return self._last


class DiskSink:
    """Restores value records into a disk store, announcing what it overwrites."""

    kind = "disk"
    key_prefix = ""

    def __init__(self, store: Any, announce: Announce | None) -> None:
        self.store = store
        self._announce = announce

    def now_ms(self) -> int:
        return _now_ms()

    def write(self, records: Sequence[Record]) -> int:
        """Applies `records` in order: runs of live values as `put_many` batches, runs of
        logged writes that expired meanwhile as deletes of what they replaced."""
        now = self.now_ms()
        applied = 0
        puts: list[tuple[bytes, bytes, int]] = []
        deletes: list[bytes] = []
        size = 0
        for kind, name, data, expire, _ in records:
            if kind not in ("v", "w"):
                msg = f"a disk tier backup holds a {kind!r} record, which a disk tier cannot hold"
                raise BackupError(msg)
            if expire == 0 or expire > now:
                if deletes:
                    applied += self._delete(deletes)
                    deletes = []
                if puts and (len(puts) >= BATCH or size + len(data) > CALL_BYTES):
                    applied += self._put(puts)
                    puts, size = [], 0
                puts.append((name, data, expire))
                size += len(data)
            elif kind == "w":  # it replaced whatever came before it
                if puts:
                    applied += self._put(puts)
                    puts, size = [], 0
                deletes.append(name)
        if puts:
            applied += self._put(puts)
        if deletes:
            applied += self._delete(deletes)
        return applied

    def _put(self, puts: list[tuple[bytes, bytes, int]]) -> int:
        stored = int(self.store.put_many(puts))
        self._tell([p[0] for p in puts])
        return stored

    def _delete(self, names: list[bytes]) -> int:
        self.store.delete(names)
        self._tell(names)
        return len(names)

    def _tell(self, names: Sequence[bytes]) -> None:
        if self._announce is not None:
            announce_keys(self._announce, names)
