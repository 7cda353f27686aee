"""What a tier offers backups: a `Source` to read from and a `Sink` to restore into.

The file format (`format`) and the orchestration (`run`) know only these two protocols and
the records of `format`, so a tier joins by implementing them (`redis.RedisSource` and
`redis.RedisSink` for Redis; a disk tier yields the same records: its keys are the same
``<namespace>U+001F<key>`` names and its values the same envelopes).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

from .._options import NAMESPACE_SEP

__all__ = ["Announce", "Sink", "Source", "announce_keys", "announce_prefix"]

Record = list[Any]

#: Called after a batch of changes reached the tier: (op, namespace, items) as in
#: `tiers.redis.plan.Message`, so this process and the others drop their L1 copies.
Announce = Callable[[str, str, Sequence[str]], None]


_SEP = NAMESPACE_SEP.encode()


def announce_keys(announce: Announce, names: Sequence[bytes]) -> None:
    """One "k" announcement per namespace of the entry names just written or deleted."""
    by_ns: dict[str, list[str]] = {}
    # U+001F is the byte 0x1F in UTF-8 and nowhere else: each name is decoded once, then split
    for ns, _, key in (n.decode("utf-8", "surrogatepass").partition(NAMESPACE_SEP) for n in names):
        keys = by_ns.get(ns)
        if keys is None:
            by_ns[ns] = [key]
        else:
            keys.append(key)
    for ns, keys in by_ns.items():
        announce("k", ns, keys)


def announce_prefix(announce: Announce, prefix: bytes) -> None:
    """The announcement of a store prefix removed: "a" for everything, "n" for a namespace's
    prefix; any other prefix (inside a namespace) drops the whole namespace."""
    if not prefix:
        announce("a", "", [])
        return
    raw_ns, sep, _ = prefix.partition(_SEP)
    announce("n" if sep else "a", raw_ns.decode("utf-8", "surrogatepass") if sep else "", [])


class Source(Protocol):
    """A tier a backup reads."""

    kind: str  # written in the header ("redis", "disk")
    key_prefix: str

    def now_ms(self) -> int:
        """The tier's clock (Redis TIME), the time base of expiry and point-in-time."""
        ...

    def snapshot(self, namespaces: Sequence[str] | None) -> Iterator[Record]:
        """Every live value ("v") and tag version ("g") record, in bounded batches."""
        ...

    def log_position(self) -> str | None:
        """The change log's newest id now, or None when the tier keeps no change log."""
        ...

    def changes_since(self, after: str, namespaces: Sequence[str] | None) -> Iterator[Record]:
        """The change-log records after id `after`, oldest first (`last_id` after them).

        Raises:
            BackupError: the log was trimmed past `after` (changes would be missing).
        """
        ...

    @property
    def last_id(self) -> str | None:
        """The id of the last change `changes_since` yielded."""
        ...


class Sink(Protocol):
    """A tier a restore writes into."""

    kind: str
    key_prefix: str

    def now_ms(self) -> int: ...

    def write(self, records: Sequence[Record]) -> int:
        """Applies a batch of records in order (expired values skipped); how many applied."""
        ...
