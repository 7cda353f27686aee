"""The change log: every write and invalidation of a tier with ``RedisOptions(change_log=True)``,
appended to a bounded Redis Stream, ``stratacache-log:<key_prefix>`` (XADD MAXLEN ~).

The drivers call `entry_write` / `entry_op` and send the result with `APPEND` (one script
call, so a batch of writes is one round trip and, on Cluster, goes to the stream's node).
Backups read the stream (`read_since`) and turn its entries into records (`to_records`) that
a restore replays in order, up to the time asked. Stream ids are Redis milliseconds, the time
base of point-in-time restores.

Fields of an entry: ``o`` the op ("w" a write, "k" deleted keys, "t" bumped tags, "p"
patterns deleted, "n" a namespace flushed, "a" everything flushed), ``n`` the namespace,
``i`` the keys/tags/patterns as JSON, ``d`` the envelope of a write (or the tags' new
versions as JSON), ``p`` the write's PX (0: no expiry).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from .._log import logger
from .._options import NAMESPACE_SEP

__all__ = ["APPEND", "ChangeLog", "read_since", "stream_key", "to_records"]

#: Lua: appends entries to the stream KEYS[1], capped near ARGV[1] entries; the entries follow
#: as five values each (o, n, i, d, p). Returns how many were added.
APPEND = """
local n = 0
for i = 2, #ARGV, 5 do
  redis.call('xadd', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'o', ARGV[i], 'n', ARGV[i + 1],
    'i', ARGV[i + 2], 'd', ARGV[i + 3], 'p', ARGV[i + 4])
  n = n + 1
end
return n
"""

#: Entries read per XRANGE call.
READ_BATCH = 1000


def stream_key(key_prefix: str) -> bytes:
    """The change log's Redis key. Outside the key prefix on purpose: `clear()` deletes every
    key under the prefix, and the log must outlive that to restore a time before it (an ACL
    user limited to the prefix's keys needs this key too, or every append fails, counted)."""
    return b"stratacache-log:" + key_prefix.encode("utf-8", "surrogatepass")


def entry_write(namespace: str, key: str, data: bytes, px: int | None) -> list[Any]:
    """The entry of one value written."""
    return ["w", namespace, json.dumps([key]), data, px or 0]


def entry_op(
    op: str, namespace: str, items: Iterable[str], versions: Sequence[int] = ()
) -> list[Any]:
    """The entry of an invalidation (`versions`: the new versions of bumped tags)."""
    return [op, namespace, json.dumps(list(items)), json.dumps(list(versions)), 0]


class ChangeLog:
    """One tier's change log: the script call of a batch of entries, and lost appends."""

    def __init__(self, key_prefix: str, max_entries: int) -> None:
        self.key = stream_key(key_prefix)
        self.max_entries = max_entries
        self.lost = 0

    def call(self, entries: Sequence[list[Any]]) -> tuple[list[bytes], list[Any]]:
        """(KEYS, ARGV) of `APPEND` for `entries`."""
        args: list[Any] = [self.max_entries]
        for entry in entries:
            args += entry
        return [self.key], args

    def failed(self, exc: BaseException) -> None:
        """An append did not reach Redis: incremental backups miss that change."""
        self.lost += 1
        logger.warning("stratacache: a change-log append failed (%s)", type(exc).__name__)


def parse_id(entry_id: bytes | str) -> tuple[int, int]:
    """(milliseconds, sequence) of a stream id."""
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    ms, _, seq = text.partition("-")
    return int(ms), int(seq or 0)


def info(client: Any, key: bytes) -> tuple[str, str | None, bool]:
    """(last generated id, first entry's id, whether entries were ever trimmed away) of the
    stream; ("0-0", None, False) when it is absent."""
    try:
        raw = client.xinfo_stream(key)
    except Exception as exc:  # redis-py's ResponseError (redis-py is optional here)
        if "no such key" in str(exc).lower():
            return "0-0", None, False
        raise
    first = raw.get("first-entry")
    trimmed = int(raw.get("entries-added", 0)) > int(raw.get("length", 0))
    return _text(raw.get("last-generated-id") or "0-0"), _text(first[0]) if first else None, trimmed


def gap_after(client: Any, key: bytes, after: str) -> bool:
    """True when entries after id `after` may have been trimmed away (conservative: also when
    `after` itself was, since what followed it in its stream node went with it)."""
    _, first, trimmed = info(client, key)
    if after == "0-0":
        return trimmed
    return first is not None and parse_id(first) > parse_id(after)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def read_since(client: Any, key: bytes, after: str) -> Iterator[tuple[str, dict[bytes, bytes]]]:
    """Every entry after id `after`, in order, in bounded XRANGE batches."""
    start = "(" + after
    while True:
        batch = client.xrange(key, min=start, max="+", count=READ_BATCH)
        for entry_id, fields in batch:
            yield _text(entry_id), fields
        if len(batch) < READ_BATCH:
            return
        start = "(" + _text(batch[-1][0])


def _rel(namespace: str, key: str) -> bytes:
    return (namespace + NAMESPACE_SEP + key).encode("utf-8", "surrogatepass")


def to_records(
    entry_id: str, fields: dict[bytes, bytes], namespaces: set[str] | None
) -> list[list[Any]]:
    """The backup records of one stream entry (none for a namespace outside `namespaces`, or
    for an entry this version does not know, which is logged)."""
    ms, _ = parse_id(entry_id)
    try:
        op = fields[b"o"].decode()
        ns = fields[b"n"].decode("utf-8", "surrogatepass")
        items = [str(i) for i in json.loads(fields[b"i"])]
        data, px = fields[b"d"], int(fields[b"p"])
    except (KeyError, ValueError, TypeError):
        logger.warning("stratacache: skipped a malformed change-log entry %s", entry_id)
        return []
    if namespaces is not None and op in ("w", "k", "p", "n") and ns not in namespaces:
        return []
    if op == "w":
        return [["w", _rel(ns, items[0]), data, ms + px if px else 0, ms]]
    if op == "k":
        return [["k", _rel(ns, k), b"", 0, ms] for k in items]
    if op == "t":
        versions = json.loads(data)
        return [
            ["t", t.encode(), str(v).encode(), 0, ms] for t, v in zip(items, versions, strict=False)
        ]
    if op == "p":
        return [["p", ns.encode("utf-8", "surrogatepass"), p.encode(), 0, ms] for p in items]
    if op in ("n", "a"):
        return [[op, ns.encode("utf-8", "surrogatepass"), b"", 0, ms]]
    logger.warning("stratacache: skipped a change-log entry of unknown op %r", op)
    return []
