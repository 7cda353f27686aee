"""The Redis tier as a backup `Source` and `Sink` (standalone, Sentinel primary, Cluster).

Reading: SCAN on every primary (each primary node of a Cluster) in batches of `BATCH` keys,
each step and the GET + PTTL of the keys it found in one script call (SCAN_READ; before
Redis 7, SCAN then a pipeline); never KEYS, never a blocking command, so the server keeps
serving between batches. The next batch is fetched on a thread while the last one becomes
records (`_overlap.prefetch`). The envelopes themselves are saved rather than DUMP
payloads: DUMP's bytes carry an RDB version that an older server's RESTORE refuses, while an
envelope restores into any Redis (or a disk tier), and its TTL becomes an absolute expiry
(Redis TIME + PTTL). Tag versions are saved too (entries record the version they were written
with). Leases, stampede locks and the change-log stream are not: they are transient.

Writing: pipelines of `BATCH` commands (SET ... PXAT keeps the absolute expiry; a tag version
only ever moves up, so a restore never revives what was invalidated since), each followed by
the coherence message of what it overwrote, published on the tier's channel.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from .._options import NAMESPACE_SEP
from ..tiers.chain import glob_escape
from ..tiers.redis import plan as _plan
from . import changelog
from ._overlap import prefetch
from .format import BackupError
from .source import Announce, Record, announce_keys

__all__ = ["BATCH", "RedisSink", "RedisSource"]

_Batch = tuple[int, list[Any], list[Any], list[Any]]  # Redis time, keys, values, PTTLs

#: Keys per SCAN call, script call or pipeline (each well under a millisecond of server time).
BATCH = 1000
_SEP = NAMESPACE_SEP.encode()

#: Lua: raises the tag version KEYS[1] to ARGV[1] (PXAT ARGV[2], 0 = none); a version already
#: there and at least as high is kept. Returns 1 when it was raised.
TAG_MAX = """
local cur = redis.call('get', KEYS[1])
if cur and #cur <= 18 and string.match(cur, '^%-?%d+$') and tonumber(cur) >= tonumber(ARGV[1])
then return 0 end
if ARGV[2] == '0' then redis.call('set', KEYS[1], ARGV[1])
else redis.call('set', KEYS[1], ARGV[1], 'PXAT', ARGV[2]) end
return 1
"""


#: Lua: Redis TIME, how many keys it read, then the value (nil unless a string: GET's error
#: on another type is caught, one call per key instead of TYPE + GET) and PTTL of each key
#: ARGV[2..], until ARGV[1] bytes of values are read. The keys are one node's, from
#: many slots (SCAN's order), so they go as arguments: Cluster refuses a command whose
#: declared keys span slots, and the flag lets the script reach them on their node.
READ_BATCH = """#!lua flags=no-writes,allow-cross-slot-keys
local t = redis.call('time')
local out = {t[1], t[2], 0}
local n, size, limit = 3, 0, tonumber(ARGV[1])
for i = 2, #ARGV do
  if size > limit then break end
  local k = ARGV[i]
  local v = redis.pcall('get', k)
  if type(v) == 'string' then
    size = size + #v
    out[n + 1] = v
    out[n + 2] = redis.call('pttl', k)
  else
    out[n + 1] = false
    out[n + 2] = -2
  end
  n = n + 2
  out[3] = i - 1
end
return out
"""
#: Lua: one SCAN step (cursor ARGV[1], MATCH ARGV[2], COUNT ARGV[3]) and the reads of
#: READ_BATCH on the keys it found, in one call: Redis TIME, the next cursor, how many keys
#: were read, (key, value, PTTL) per key read, then the keys left unread once ARGV[4] bytes
#: of values were (read by READ_BATCH calls). Saves a round trip and sending the keys back.
SCAN_READ = """#!lua flags=no-writes,allow-cross-slot-keys
local t = redis.call('time')
local r = redis.call('scan', ARGV[1], 'match', ARGV[2], 'count', ARGV[3])
local keys = r[2]
local out = {t[1], t[2], r[1], 0}
local n, size, limit, read = 4, 0, tonumber(ARGV[4]), 0
for i = 1, #keys do
  local k = keys[i]
  if size > limit then
    out[n + 1] = k
    n = n + 1
  else
    local v = redis.pcall('get', k)
    out[n + 1] = k
    if type(v) == 'string' then
      size = size + #v
      out[n + 2] = v
      out[n + 3] = redis.call('pttl', k)
    else
      out[n + 2] = false
      out[n + 3] = -2
    end
    n = n + 3
    read = i
  end
end
out[4] = read
return out
"""
#: Bytes of values one script call returns or sends at most (the rest goes in the next).
CALL_BYTES = 8 << 20


#: Lua: for each (key, value, PXAT) triple of ARGV, sets the key (PXAT 0: no expiry; -1:
#: deletes it). Keys as arguments for the reason given at READ_BATCH.
WRITE_BATCH = """#!lua flags=allow-cross-slot-keys
for i = 1, #ARGV, 3 do
  local k, expire = ARGV[i], ARGV[i + 2]
  if expire == '-1' then redis.call('del', k)
  elseif expire == '0' then redis.call('set', k, ARGV[i + 1])
  else redis.call('set', k, ARGV[i + 1], 'PXAT', expire) end
end
return #ARGV / 3
"""


def primaries(client: Any) -> list[Any]:
    """A client per primary: the client itself, or one per Cluster primary node."""
    if hasattr(client, "get_primaries"):
        return [client.get_redis_connection(node) for node in client.get_primaries()]
    return [client]


def server_ms(client: Any) -> int:
    seconds, micros = client.time()
    return int(seconds) * 1000 + int(micros) // 1000


def scan(node: Any, pattern: bytes) -> Iterator[list[bytes]]:
    """The keys of one node matching `pattern`, in batches (SCAN with COUNT, non-blocking)."""
    cursor = 0
    while True:
        cursor, keys = node.scan(cursor, match=pattern, count=BATCH)
        if keys:
            yield list(keys)
        if int(cursor) == 0:
            return


class RedisSource:
    """Reads the entries of one key prefix."""

    kind = "redis"

    def __init__(self, client: Any, key_prefix: str, *, change_log: bool) -> None:
        self.client = client
        self.key_prefix = key_prefix
        self._prefix = key_prefix.encode("utf-8", "surrogatepass")
        self._tag = self._prefix + b"tag:"
        self._log = changelog.stream_key(key_prefix)
        self._change_log = change_log
        self._last: str | None = None
        self._lua = True

    def now_ms(self) -> int:
        return server_ms(self.client)

    def _patterns(self, namespaces: Sequence[str] | None) -> list[bytes]:
        if namespaces is None:
            return [_plan.namespace_pattern(self.key_prefix, None)]
        tags = (glob_escape(self.key_prefix) + "tag:*").encode("utf-8", "surrogatepass")
        return [_plan.namespace_pattern(self.key_prefix, ns) for ns in namespaces] + [tags]

    def snapshot(self, namespaces: Sequence[str] | None) -> Iterator[Record]:
        """The records of every primary; the next batch is fetched on a thread while this
        one is turned into records (`prefetch`), so Redis's time and ours overlap."""
        for node in primaries(self.client):
            for pattern in self._patterns(namespaces):
                for batch in prefetch(self._batches(node, pattern)):
                    yield from self._records(*batch)

    def _batches(self, node: Any, pattern: bytes) -> Iterator[_Batch]:
        """(Redis time, keys, values, PTTLs) per SCAN batch of `node`: one script call each
        where the server takes it (Redis 7), else SCAN then `_fetch`."""
        started = False
        if self._lua:
            try:
                for batch in self._scan_read(node, pattern):
                    started = True
                    yield batch
                return
            except Exception as exc:  # redis-py's ResponseError: no shebang flags before 7.0
                if started or ("script" not in str(exc).lower() and "flag" not in str(exc).lower()):
                    raise
                self._lua = False
        for keys in scan(node, pattern):
            now_ms, replies = self._fetch(node, keys)
            yield now_ms, keys, replies[0::2], replies[1::2]

    def _scan_read(self, node: Any, pattern: bytes) -> Iterator[_Batch]:
        cursor: Any = 0
        while True:
            reply = node.eval(SCAN_READ, 0, cursor, pattern, BATCH, CALL_BYTES)
            now_ms = int(reply[0]) * 1000 + int(reply[1]) // 1000
            cursor, end = reply[2], 4 + 3 * int(reply[3])
            if end > 4:
                yield now_ms, reply[4:end:3], reply[5:end:3], reply[6:end:3]
            rest = reply[end:]
            if rest:  # past CALL_BYTES: read by READ_BATCH calls
                later, more = self._fetch(node, rest)
                yield later, rest, more[0::2], more[1::2]
            if int(cursor) == 0:
                return

    def _records(
        self, now_ms: int, keys: list[bytes], values: list[Any], pttls: list[Any]
    ) -> list[Record]:
        plen, tag, tlen, lease = len(self._prefix), self._tag, len(self._tag), _plan.LEASE_PREFIX
        lock = self._prefix + b"lock:"
        out: list[Record] = []
        add = out.append
        for key, data, pttl in zip(keys, values, pttls, strict=True):
            if type(data) is not bytes or type(pttl) is not int or pttl == -2:
                continue  # gone meanwhile, or not a string (another client's key)
            if not key.startswith(tag) and (key.find(_SEP, plen) < 0 or key.startswith(lock)):
                continue  # a value key holds U+001F; not a lock, the log or a stranger
            expire = 0 if pttl < 0 else now_ms + pttl
            if key.startswith(tag):
                add(["g", key[tlen:], data, expire, 0])
            elif not data.startswith(lease):
                add(["v", key[plen:], data, expire, 0])
        return out

    def _fetch(self, node: Any, keys: list[bytes]) -> tuple[int, list[Any]]:
        """(Redis time, [value, PTTL] per key): one script call where the server takes it
        (Redis 7: a batch's keys span slots), else a pipeline of GET + PTTL."""
        if self._lua:
            try:
                replies: list[Any] = []
                while len(replies) < 2 * len(keys):
                    rest = keys[len(replies) // 2 :]
                    reply = node.eval(READ_BATCH, 0, CALL_BYTES, *rest)
                    replies += reply[3:]
                return int(reply[0]) * 1000 + int(reply[1]) // 1000, replies
            except Exception as exc:  # redis-py's ResponseError: no shebang flags before 7.0
                if "script" not in str(exc).lower() and "flag" not in str(exc).lower():
                    raise
                self._lua = False
        pipe = node.pipeline(transaction=False)
        pipe.time()
        for key in keys:
            pipe.get(key)
            pipe.pttl(key)
        replies = pipe.execute(raise_on_error=False)
        seconds, micros = replies[0]
        return int(seconds) * 1000 + int(micros) // 1000, replies[1:]

    def log_position(self) -> str | None:
        last, _, _ = changelog.info(self.client, self._log)
        if last == "0-0" and not self._change_log:
            return None
        return last

    def changes_since(self, after: str, namespaces: Sequence[str] | None) -> Iterator[Record]:
        if changelog.gap_after(self.client, self._log, after):
            msg = (
                f"the change log was trimmed past {after} (changes since would be missing): "
                "take a full backup, or raise RedisOptions.change_log_max"
            )
            raise BackupError(msg)
        wanted = None if namespaces is None else set(namespaces)
        self._last = after
        for entry_id, fields in changelog.read_since(self.client, self._log, after):
            yield from changelog.to_records(entry_id, fields, wanted)
            self._last = entry_id

    @property
    def last_id(self) -> str | None:
        return self._last


class RedisSink:
    """Restores records under one key prefix, announcing what it overwrites."""

    kind = "redis"

    def __init__(self, client: Any, key_prefix: str, announce: Announce | None) -> None:
        self.client = client
        self.key_prefix = key_prefix
        self._prefix = key_prefix.encode("utf-8", "surrogatepass")
        self._announce = announce
        self._tag_max = client.register_script(TAG_MAX)
        self._lua = True

    def now_ms(self) -> int:
        return server_ms(self.client)

    def write(self, records: Sequence[Record]) -> int:
        """Applies `records` in order: runs of values, tags or deletes go as one pipeline."""
        now, done, i = self.now_ms(), 0, 0
        while i < len(records):
            kind = _group(records[i][0])
            j = i
            while j < len(records) and _group(records[j][0]) == kind and j - i < BATCH:
                j += 1
            done += self._apply(kind, records[i:j], now)
            i = j
        return done

    def _apply(self, kind: str, run: Sequence[Record], now: int) -> int:
        if kind == "value":
            return self._values(run, now)
        if kind == "tag":
            return self._tags(run)
        if kind == "delete":
            return self._deletes(run)
        for record in run:  # "p", "n", "a": a scan-delete each
            self._flush(record)
        return len(run)

    def _values(self, run: Sequence[Record], now: int) -> int:
        """Sets the live values; what expired meanwhile is skipped, and a logged write that
        expired meanwhile deletes the key (it replaced whatever came before it)."""
        ops: list[tuple[bytes, bytes, int]] = []  # (key, value, PXAT; 0 none, -1 delete)
        touched: list[bytes] = []
        applied, prefix = 0, self._prefix
        for kind, name, data, expire, _ in run:
            if expire == 0 or expire > now:
                ops.append((prefix + name, data, expire))
                applied += 1
            elif kind == "w":
                ops.append((prefix + name, b"", -1))
            else:
                continue
            touched.append(name)
        if ops:
            self._write(ops)
            self._tell_keys(touched)
        return applied

    def _write(self, ops: Sequence[tuple[bytes, bytes, int]]) -> None:
        """One script call per node where the server takes it (Redis 7), else a pipeline
        (a retry after a refused script re-applies SETs: the same result)."""
        if self._lua:
            try:
                for node, group in self._by_node(ops):
                    for part in _by_size(group):
                        node.eval(WRITE_BATCH, 0, *[x for op in part for x in op])
                return
            except Exception as exc:  # redis-py's ResponseError: no shebang flags before 7.0
                if "script" not in str(exc).lower() and "flag" not in str(exc).lower():
                    raise
                self._lua = False
        pipe = self.client.pipeline(transaction=False)
        for key, data, expire in ops:
            if expire < 0:
                pipe.delete(key)
            else:
                pipe.set(key, data, pxat=expire or None)
        pipe.execute()

    def _by_node(
        self, ops: Sequence[tuple[bytes, bytes, int]]
    ) -> list[tuple[Any, list[tuple[bytes, bytes, int]]]]:
        if not hasattr(self.client, "get_node_from_key"):
            return [(self.client, list(ops))]
        groups: dict[str, tuple[Any, list[tuple[bytes, bytes, int]]]] = {}
        for op in ops:
            node = self.client.get_node_from_key(op[0])
            entry = groups.setdefault(node.name, (self.client.get_redis_connection(node), []))
            entry[1].append(op)
        return list(groups.values())

    def _tags(self, run: Sequence[Record]) -> int:
        tags = [r[1] for r in run]
        for _, tag, version, expire, _ in run:  # a script per tag: tags may span slots
            self._tag_max(keys=[self._prefix + b"tag:" + tag], args=[version, expire])
        if self._announce is not None:
            self._announce("t", "", [t.decode("utf-8", "surrogatepass") for t in tags])
        return len(run)

    def _deletes(self, run: Sequence[Record]) -> int:
        pipe = self.client.pipeline(transaction=False)
        for record in run:
            pipe.delete(self._prefix + record[1])
        pipe.execute()
        self._tell_keys([r[1] for r in run])
        return len(run)

    def _flush(self, record: Record) -> None:
        op, ns = record[0], record[1].decode("utf-8", "surrogatepass")
        if op == "p":
            pattern = _plan.key_pattern(self.key_prefix, ns, record[2].decode())
        else:
            pattern = _plan.namespace_pattern(self.key_prefix, None if op == "a" else ns)
        log = changelog.stream_key(self.key_prefix)
        for node in primaries(self.client):
            for found in scan(node, pattern):
                pipe = node.pipeline(transaction=False)
                for key in found:  # one DEL per key: a node's keys span slots
                    if key != log:
                        pipe.delete(key)
                pipe.execute()
        if self._announce is not None:
            items = [record[2].decode()] if op == "p" else []
            self._announce(op, "" if op == "a" else ns, items)

    def _tell_keys(self, names: Sequence[bytes]) -> None:
        """One coherence message per namespace of the keys just written or deleted."""
        if self._announce is not None:
            announce_keys(self._announce, names)


def _by_size(ops: list[tuple[bytes, bytes, int]]) -> Iterator[list[tuple[bytes, bytes, int]]]:
    """`ops` in runs of about `CALL_BYTES` (a run holds at least one op)."""
    part: list[tuple[bytes, bytes, int]] = []
    size = 0
    for op in ops:
        if part and size + len(op[1]) > CALL_BYTES:
            yield part
            part, size = [], 0
        part.append(op)
        size += len(op[1])
    if part:
        yield part


def _group(kind: str) -> str:
    if kind in ("v", "w"):
        return "value"
    if kind in ("g", "t"):
        return "tag"
    if kind == "k":
        return "delete"
    return kind
