"""Write-behind decisions without I/O: stream key names, partitions, entry fields, coalescing.

Layout in Redis, per WriteBehind `name` (``P`` = the key prefix, ``i`` = a partition):

* ``P wb:{name:i}`` — the stream of partition i; a key always maps to one partition, and one
  worker at a time holds a partition (its lease), which is what keeps writes in order per key;
* ``P wb:{name:i}:lease`` — the holder's id, with a TTL it renews;
* ``P wb:{name:i}:fails`` — a hash: entry id -> failed attempts;
* ``P wb:{name}:dead`` — the dead-letter stream; ``P wb:{name}:stats`` — shared counters.

Acknowledged entries are deleted (XACK + XDEL), so a partition's length is its backlog.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["GROUP", "Batch", "Entry", "Layout", "coalesce", "entry_fields", "parse_entries"]

#: The one consumer group every worker joins.
GROUP = "workers"


@dataclass(frozen=True)
class Layout:
    """The Redis keys of one write-behind name."""

    prefix: str
    name: str
    partitions: int

    def stream(self, i: int) -> str:
        return f"{self.prefix}wb:{{{self.name}:{i}}}"

    def lease(self, i: int) -> str:
        return f"{self.stream(i)}:lease"

    def fails(self, i: int) -> str:
        return f"{self.stream(i)}:fails"

    @property
    def dead(self) -> str:
        return f"{self.prefix}wb:{{{self.name}}}:dead"

    @property
    def stats(self) -> str:
        return f"{self.prefix}wb:{{{self.name}}}:stats"

    def partition(self, key: str) -> int:
        """The partition of `key` (stable across processes and versions)."""
        digest = hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=8).digest()
        return int.from_bytes(digest, "big") % self.partitions


def entry_fields(key: str, data: bytes) -> dict[str, bytes]:
    """The fields of one stream entry: the key, the encoded value, a unique write id."""
    return {"k": key.encode("utf-8"), "v": data, "w": uuid.uuid4().hex.encode()}


@dataclass(frozen=True)
class Entry:
    """One stream entry as read back."""

    id: str
    key: str
    data: bytes
    write_id: str


def parse_entries(raw: Sequence[Any]) -> tuple[list[Entry], list[str]]:
    """Entries of an XREADGROUP/XAUTOCLAIM reply, and the ids of malformed ones."""
    good: list[Entry] = []
    bad: list[str] = []
    for entry_id, fields in raw:
        eid = entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
        try:
            key = fields[b"k"].decode("utf-8")
            good.append(Entry(eid, key, bytes(fields[b"v"]), fields[b"w"].decode()))
        except (KeyError, TypeError, AttributeError, UnicodeDecodeError):
            bad.append(eid)  # a deleted entry (None fields) or one we did not write
    return good, bad


@dataclass
class Batch:
    """A coalesced batch: the last entry of each key, in first-seen order, and every id each
    last entry stands for (older writes of the key it supersedes)."""

    last: dict[str, Entry] = field(default_factory=dict)
    ids: dict[str, list[str]] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return sum(len(v) for v in self.ids.values())


def coalesce(entries: Sequence[Entry]) -> Batch:
    """Keeps one write per key, the latest in stream order (entries arrive in id order)."""
    batch = Batch()
    for entry in entries:
        batch.last[entry.key] = entry
        batch.ids.setdefault(entry.key, []).append(entry.id)
    return batch


def describe_error(exc: BaseException) -> str:
    """What the dead-letter stream records of a failure: type and message, bounded."""
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= 500 else text[:497] + "..."
