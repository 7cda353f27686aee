"""The disk's coverage by the host's subscribers, and its check when a process first subscribes.

The processes of a host share one disk, and announced deletes reach it only through the
subscriber of some live process. A delete made while none was subscribed never reaches it,
and the copy would be served after the next start (issue 14). So every process whose
subscription is up refreshes a heartbeat record of its own (at most once a second, from the
subscriber's loop), and writes a last one marked "ended" when it stops. The records are
outside every cache's keys: they start with U+001F, which a key prefix would have to begin
with to meet them.

When a process's subscription first comes up (`catch_up`, before its disk serves), the
newest record tells until when the disk is known to have heard every delete:
- with a change log (`RedisOptions(change_log=True)`), the deletes, overwrites (by another
  envelope than the disk's), patterns and namespace clears logged since that time (minus a
  second of clock slack) are applied to the disk, unless the stream was trimmed past it:
  then the disk is cleared;
- without one, the disk is kept only while another process's record is live and fresh (its
  subscriber covered the time since), else it is cleared. A record names its process
  (`process.identity`): one whose process is gone counts as ended, so a worker killed without
  `close()` (kill -9, OOM) does not pass for live during the seconds its last beat looks fresh.
The host's wall clock is compared with the stream's ids (Redis's clock): skew beyond the
second of slack can miss a delete made in that second.
"""

from __future__ import annotations

import json
import math
import struct
import time
from typing import Any

from ..._log import logger
from ...backup import changelog
from . import process
from .link import split
from .tier import RESERVED, DiskTier

__all__ = ["FRESH", "Heartbeat", "catch_up"]

#: A live record older than this no longer proves its process covered the time since.
FRESH = 3.0
#: Seconds between refreshes of one process's record.
_EVERY = 1.0
#: Records outlive their process this long (a disk idle longer is cleared at the next start).
_KEEP = 86_400.0
_SLACK_MS = 1000
_RECORD = struct.Struct("<d?3xIQQ")  # wall time, ended, pid, its start time, pid namespace
_OLD_RECORD = struct.Struct("<d?")  # before the process was named: judged by time alone


def _prefix(root: str) -> str:
    return RESERVED + "beat\x1f" + root + "\x1f"


class Heartbeat:
    """One process's record in the disk of one cache."""

    def __init__(self, disk: DiskTier) -> None:
        self.disk = disk
        self._last = -math.inf
        self._key = ""  # the key last written ("" until the first beat)

    def beat(self, origin: str, *, ended: bool = False) -> None:
        """Refreshes this process's record (at most once a second unless `ended`)."""
        now = time.monotonic()
        if not ended and now - self._last < _EVERY:
            return
        if ended and not self._key:
            return  # never beat: nothing of ours to end
        self._last = now
        key = _prefix(self.disk.root) + origin
        if self._key and key != self._key:  # a forked child's new origin
            self.disk.store.delete([self._key])
        self._key = key
        self.disk.store.set(key, _RECORD.pack(time.time(), ended, *process.identity()), _KEEP)
        self.disk.reserved_sets += 1

    def records(self) -> list[tuple[float, bool]]:
        """(wall time, ended) of every record of the host, ours excluded; the record of a
        process that no longer runs counts as ended."""
        prefix = _prefix(self.disk.root)
        out = []
        for raw in self.disk.store.keys(prefix, 1 << 16):
            key = raw.decode("utf-8", "surrogatepass")
            hit = None if key == self._key else self.disk.store.get(key)
            record = None if hit is None else _parse(bytes(hit[0]))
            if record is not None:
                out.append(record)
        return out


def _parse(data: bytes) -> tuple[float, bool] | None:
    if len(data) == _OLD_RECORD.size:
        at, ended = _OLD_RECORD.unpack(data)
        return at, ended
    if len(data) != _RECORD.size:
        return None
    at, ended, pid, start, namespace = _RECORD.unpack(data)
    return at, ended or process.alive((pid, start, namespace)) is False


def catch_up(heart: Heartbeat, client: Any, change_log: bool) -> str:
    """Makes the disk safe to serve after a start; returns what was done ("kept", "replayed",
    "cleared"). `client` is a sync Redis client (the subscriber's)."""
    disk = heart.disk
    records = heart.records()
    if not records:
        disk.clear(None)
        return "cleared"
    newest = max(t for t, _ in records)
    if change_log:
        from redis.exceptions import RedisError  # noqa: PLC0415 - redis-py is optional

        since_ms = int(newest * 1000) - _SLACK_MS
        try:
            if _replay(disk, client, changelog.stream_key(disk.root), since_ms):
                return "replayed"
        except RedisError as exc:  # a log we cannot read (refused, down): clear, never wait
            logger.warning("stratacache: the change log was not read (%s)", type(exc).__name__)
    elif any(not ended and time.time() - t < FRESH for t, ended in records):
        return "kept"
    disk.clear(None)
    return "cleared"


def _replay(disk: DiskTier, client: Any, key: bytes, since_ms: int) -> bool:
    """Applies the logged changes since `since_ms` to the disk; False when the stream may not
    reach back that far (absent, or trimmed past it)."""
    after = f"{since_ms}-0"
    last, first, trimmed = changelog.info(client, key)
    if last == "0-0":
        return False  # absent: deleted, or never written (a disk of this prefix says written)
    if trimmed and (first is None or changelog.parse_id(first) > changelog.parse_id(after)):
        return False
    count = 0
    for _, fields in changelog.read_since(client, key, after):
        applied = _apply(disk, fields)
        if applied is None:
            return False  # an entry we cannot read may have deleted anything
        count += applied
    if count:
        logger.info("stratacache: applied %d logged changes to the disk after a start", count)
    return True


def _apply(disk: DiskTier, fields: dict[bytes, bytes]) -> int | None:
    try:
        op = fields[b"o"].decode()
        ns = fields[b"n"].decode("utf-8", "surrogatepass")
        items = [str(i) for i in json.loads(fields[b"i"])]
    except (KeyError, ValueError, TypeError):
        return None
    if op == "w":  # an overwrite too, unless the disk holds that very write
        record = disk.envelope(ns, items[0]) if items else None
        if record is not None and split(record)[1] != fields.get(b"d"):
            disk.delete(ns, items[:1])
    elif op == "k":
        disk.delete(ns, items)
    elif op == "p":
        for pattern in items:
            disk.invalidate_pattern(ns, pattern)
    elif op == "n":
        disk.clear(ns)
    elif op == "a":
        disk.clear(None)
    else:
        return 0  # "t": tag versions are checked against Redis on every disk hit
    return 1
