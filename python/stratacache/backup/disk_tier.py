"""The disk tier as a backup `Source` and `Sink` (`Cache(disk=...)`).

Reading: `DiskStore.scan` walks the store in key order, one bounded batch per call from one
LMDB read snapshot (other processes keep reading and writing between batches), and yields
each live entry as a "v" record: its envelope as stored and its absolute expiry. The store
gives every set a new sequence number (its eviction queue is keyed by it), so the position a
backup reaches is that sequence (``seq:<n>``, the trailer's ``log_to``), and
`DiskStore.changes_since` reads what changed after one, in sequence order: the changes that
landed during a full backup's scan, and an incremental backup's whole content. Writes are
"w" records (a restore sets the live ones and deletes the key of one expired meanwhile);
removals come from the store's bounded removal log (`cpp/disk/tomb_log.hpp`: deletes,
evictions, and cleared namespaces or prefixes) as "k" records (a key) and "r" records (every
key under a store prefix), so a restore of a base and its increments holds what the store
held, deleted keys included.

The removal log is bounded (a sixteenth of max_bytes, 64 KiB..64 MiB); when it was trimmed
past an incremental's base, the incremental is refused (`BackupError`: take a full backup),
never silently made full and never written without the deletions it would miss. A full
backup carries the removals made during its scan while the log still holds them.

Limits: no point-in-time log (``at=`` is Redis-only).

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
from .source import Announce, Record, announce_keys, announce_prefix

__all__ = ["BATCH", "DiskSink", "DiskSource", "parse_position", "position"]

#: Entries per scan call or put_many call.
BATCH = 1000
#: Bytes of envelopes one call returns or stores at most (at least one entry).
CALL_BYTES = 8 << 20
_POSITION = "seq:"
_RESERVED = RESERVED.encode()
#: Record kinds of a disk backup: values, logged writes, removed keys, removed prefixes.
_KINDS = frozenset(("v", "w", "k", "r"))


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

    def __init__(self, store: Any, root: str = "") -> None:
        self.store = store
        self.root = root  # the cache's part of every store key (with Redis, its key prefix)
        self._last: str | None = None
        self._full_from: str | None = None  # the position a full backup's scan started at

    def now_ms(self) -> int:
        return _now_ms()

    def snapshot(self, namespaces: Sequence[str] | None) -> Iterator[Record]:
        parts = [""] if namespaces is None else [prefix_of(ns) for ns in namespaces]
        prefixes = [self.root + part for part in parts]
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
        self._full_from = position(self.store.sequence())  # asked only by a full backup
        return self._full_from

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
            wanted = tuple(
                (self.root + prefix_of(ns)).encode("utf-8", "surrogatepass") for ns in namespaces
            )
        full = after == self._full_from  # else an incremental: every removal is needed
        self._last = after
        done = seq >= until
        while not done:
            start = seq
            changes, seq, done, floor = self.store.changes_since(seq, BATCH, CALL_BYTES)
            if floor > start and not full:
                msg = (
                    f"the disk store's removal log was trimmed past the base backup's position "
                    f"(seq:{start}, the log starts after seq:{floor}): the deletions since "
                    "would be missing; take a full backup"
                )
                raise BackupError(msg)
            for kind, key, envelope, expiry, _ in changes:
                record = _record(kind, key, envelope, expiry, wanted)
                if record is not None:
                    yield record
            self._last = position(seq)
            done = done or seq >= until

    @property
    def last_id(self) -> str | None:
        return self._last


def _record(
    kind: str, key: bytes, envelope: bytes, expiry: int, wanted: tuple[bytes, ...] | None
) -> Record | None:
    """The backup record of one change, or None for the store's own keys and for keys outside
    the namespaces asked (a prefix removal reaching into them is kept)."""
    if key.startswith(_RESERVED):
        return None
    if kind == "p":  # "r": a raw store prefix (a namespace's, or "" for everything)
        if wanted is not None and not any(w.startswith(key) or key.startswith(w) for w in wanted):
            return None
        return ["r", key, b"", 0, 0]
    if wanted is not None and not key.startswith(wanted):
        return None
    return ["w", key, envelope, expiry, 0] if kind == "w" else ["k", key, b"", 0, 0]


class DiskSink:
    """Restores value records into a disk store, announcing what it overwrites."""

    kind = "disk"
    key_prefix = ""

    def __init__(self, store: Any, announce: Announce | None, root: str = "") -> None:
        self.store = store
        self._announce = announce
        self._root = root.encode("utf-8", "surrogatepass")
        self._applied = 0
        self._puts: list[tuple[bytes, bytes, int]] = []
        self._deletes: list[bytes] = []
        self._size = 0

    def now_ms(self) -> int:
        return _now_ms()

    def write(self, records: Sequence[Record]) -> int:
        """Applies `records` in order: runs of live values as `put_many` batches, runs of
        removed keys (and of logged writes that expired meanwhile: they replaced whatever
        came before them) as deletes, and prefix removals as they come."""
        now = self.now_ms()
        self._applied = 0
        self._puts, self._deletes, self._size = [], [], 0
        for kind, name, data, expire, _ in records:
            if kind not in _KINDS:
                msg = f"a disk tier backup holds a {kind!r} record, which a disk tier cannot hold"
                raise BackupError(msg)
            if kind == "r":
                self._flush()
                self.store.delete_prefix(name.decode("utf-8", "surrogatepass"))
                self._applied += 1
                if self._announce is not None:
                    announce_prefix(self._announce, self._relative(name))
            elif kind != "k" and (expire == 0 or expire > now):
                if self._deletes:
                    self._flush()
                if self._puts and (len(self._puts) >= BATCH or self._size + len(data) > CALL_BYTES):
                    self._flush()
                self._puts.append((name, data, expire))
                self._size += len(data)
            elif kind in ("k", "w"):
                if self._puts:
                    self._flush()
                self._deletes.append(name)
        self._flush()
        return self._applied

    def _flush(self) -> None:
        if self._puts:
            self._applied += self._put(self._puts)
            self._puts, self._size = [], 0
        if self._deletes:
            self._applied += self._delete(self._deletes)
            self._deletes = []

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
            announce_keys(self._announce, [self._relative(n) for n in names])

    def _relative(self, name: bytes) -> bytes:
        """`name` without the cache's root (namespace, separator, key)."""
        return name.removeprefix(self._root)
