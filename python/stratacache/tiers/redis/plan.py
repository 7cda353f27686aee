"""Decisions of the tiered read and write paths, shared by Cache and AsyncCache (no I/O).

Redis keys: ``<key_prefix><namespace>\\x1f<key>`` for values (the L1 key behind the key
prefix), ``<key_prefix>tag:<tag>`` for tag version counters, ``<key_prefix>lock:...`` for
stampede locks and ``<key_prefix>inv`` for the invalidation channel. Namespaces and tags may
not contain U+001F, so a value key always holds one and an internal key never does: the two
can never collide. A load's lease lives in the value key itself (`LEASE_PREFIX` + a token)
until the fill replaces it, so value and lease share a Cluster slot and one DEL removes both.

TTL arithmetic: an entry written with ttl T (seconds) and stale window S lives T + S in Redis
and records T and its creation time in the envelope. A reader computes what is left of T:
above zero it is fresh and L1 is backfilled with what is left (shortened by an XFetch draw when
early refresh is on); within S it is stale (served only where stale-while-revalidate is on);
beyond, or with a tag version that moved, it is a miss.
"""

from __future__ import annotations

import json
import math
import random
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from ..._options import NAMESPACE_SEP, check_namespace
from ...errors import ConfigError
from ..chain import check_tags, glob_escape

__all__ = [
    "NO_EXPIRY",
    "Freshness",
    "Message",
    "check_tags",
    "judge",
    "redis_ttl_ms",
    "tag_key",
    "value_key",
]


def value_key(key_prefix: str, namespace: str, key: str) -> bytes:
    """The Redis key of `key` in `namespace` (bytes: keys may hold any code point)."""
    return (key_prefix + namespace + NAMESPACE_SEP + key).encode("utf-8", "surrogatepass")


def split_value_key(key_prefix: bytes, rkey: bytes) -> tuple[str, str] | None:
    """(namespace, key) of a value key under `key_prefix`, or None for any other key."""
    if not rkey.startswith(key_prefix):
        return None
    namespace, sep, key = rkey[len(key_prefix) :].partition(NAMESPACE_SEP.encode())
    if not sep:
        return None
    return namespace.decode("utf-8", "surrogatepass"), key.decode("utf-8", "surrogatepass")


def namespace_pattern(key_prefix: str, namespace: str | None) -> bytes:
    """SCAN pattern of every value key of a namespace (None: every key under the prefix)."""
    base = glob_escape(key_prefix)
    if namespace is None:
        return (base + "*").encode("utf-8", "surrogatepass")
    return (base + glob_escape(namespace) + NAMESPACE_SEP + "*").encode("utf-8", "surrogatepass")


def key_pattern(key_prefix: str, namespace: str, pattern: str) -> bytes:
    """SCAN pattern of the keys of `namespace` matching the user's glob `pattern`."""
    prefix = glob_escape(key_prefix) + glob_escape(namespace) + NAMESPACE_SEP
    return (prefix + pattern).encode("utf-8", "surrogatepass")


def tag_key(key_prefix: str, tag: str) -> bytes:
    """The Redis key of a tag's version counter."""
    return (key_prefix + "tag:" + tag).encode("utf-8", "surrogatepass")


def lock_key(key_prefix: str, rkey: bytes) -> bytes:
    """The Redis key of the stampede lock of value key `rkey`."""
    return key_prefix.encode() + b"lock:" + rkey


def channel(key_prefix: str) -> bytes:
    """The pub/sub channel carrying this prefix's invalidations."""
    return key_prefix.encode("utf-8", "surrogatepass") + b"inv"


def presence(channel: bytes, origin: str) -> bytes:
    """A channel that only `origin`'s subscriber listens on and nobody publishes to: its
    subscriber count, asked in one PUBSUB NUMSUB with `channel`'s, tells a writer whether
    anyone but itself listens (`executor_sync.SyncRedisTier.set`)."""
    return channel + b":" + origin.encode()


def redis_ttl_ms(ttl: float | None, stale_ttl: float) -> int | None:
    """PX of a value written with `ttl` (None or inf: no expiry) plus the stale window."""
    if ttl is None or math.isinf(ttl):
        return None
    return max(1, math.ceil((ttl + stale_ttl) * 1000))


def envelope_ttl_ms(ttl: float | None) -> int:
    """The TTL recorded in the envelope (0 = none)."""
    if ttl is None or math.isinf(ttl):
        return 0
    return max(1, math.ceil(ttl * 1000))


def now_ms() -> int:
    """Wall-clock milliseconds, the time base of envelope creation times."""
    return time.time_ns() // 1_000_000


class Freshness(NamedTuple):
    """What a reader may do with a decoded entry (a tuple: built on every L2 read, and a
    frozen dataclass costs four object.__setattr__ calls to build).

    fresh_left: seconds of TTL left (math.inf without expiry), or <= 0 when not fresh.
    usable: fresh, or stale within the window and stale serving is allowed.
    refresh: the reader should trigger a refresh (stale, or picked by XFetch).
    l1_ttl: TTL to backfill L1 with (None: do not backfill).
    """

    fresh_left: float
    usable: bool
    refresh: bool
    l1_ttl: float | None


#: The verdict on an entry written without expiry (ttl_ms 0), whatever the time.
NO_EXPIRY = Freshness(math.inf, usable=True, refresh=False, l1_ttl=None)


def judge(
    created_at_ms: int,
    ttl_ms: int,
    compute_us: int,
    *,
    at_ms: int,
    stale_ttl: float,
    early_refresh: float | None,
    rng: random.Random | None = None,
) -> Freshness:
    """Decides fresh/stale/expired and whether to refresh early.

    XFetch (Vattani, Chierichetti, Lowenstein: "Optimal Probabilistic Cache Stampede
    Prevention", VLDB 2015): refresh when ``now - delta * beta * ln(U) >= expiry``, delta being
    the loader's compute time and beta = `early_refresh`. Hot keys are thus refreshed by one
    reader shortly before they expire, while cold keys almost never are.
    """
    if ttl_ms == 0:
        return NO_EXPIRY
    left = (created_at_ms + ttl_ms - at_ms) / 1000.0
    if left <= 0:
        usable = -left <= stale_ttl
        return Freshness(left, usable=usable, refresh=usable, l1_ttl=None)
    margin = 0.0
    if early_refresh:
        u = (rng or random).random() or 1e-12
        margin = compute_us / 1e6 * early_refresh * -math.log(u)
    refresh = margin >= left
    return Freshness(left, usable=True, refresh=refresh, l1_ttl=None if refresh else left - margin)


def tags_current(recorded: Mapping[str, int], current: Sequence[bytes | None]) -> bool:
    """True when every tag's version in Redis equals the one the entry was written with (a
    version holding foreign bytes equals none)."""
    return all(
        parse_version(now) == then for then, now in zip(recorded.values(), current, strict=True)
    )


_VERSION = re.compile(rb"-?[0-9]{1,18}")


def parse_version(raw: bytes | None) -> int | None:
    """A tag version as read from Redis (absent: 0), or None for bytes another client wrote
    (anything INCR would refuse)."""
    if raw is None:
        return 0
    return int(raw) if _VERSION.fullmatch(raw) else None


def fresh_version() -> int:
    """A version replacing foreign bytes: microseconds since the epoch, far above any version
    INCR reaches, so no entry written before the repair matches it."""
    return time.time_ns() // 1000


#: Lua: bump a tag version (KEYS[1]); a key holding anything INCR refuses (foreign bytes, a
#: value out of range, another type) is replaced by ARGV[1]. Returns {version, repaired}.
BUMP_TAG = """
local t = redis.call('type', KEYS[1])['ok']
if t == 'none' then return {redis.call('incr', KEYS[1]), 0} end
if t == 'string' then
  local v = redis.call('get', KEYS[1])
  if #v <= 18 and string.match(v, '^%-?%d+$') then return {redis.call('incr', KEYS[1]), 0} end
end
redis.call('del', KEYS[1])
redis.call('set', KEYS[1], ARGV[1])
return {tonumber(ARGV[1]), 1}
"""

#: A lease: what a miss of the decorator's load path leaves in the (absent) value key, so that
#: a delete (or a write) before the fill removes it and the fill is refused. Never a valid
#: envelope (those start with b"SC").
LEASE_PREFIX = b"\x00sc-lease\x00"

#: Lua: the value of KEYS[1], or a lease on it (ARGV[1], for ARGV[2] ms) when absent. Returns
#: {the bytes the key now holds: a value, our lease, or another loader's lease (shared);
#: 1 if a key of another type, written by someone else, was replaced by our lease}.
LEASE_GET = """
local t = redis.call('type', KEYS[1])['ok']
if t == 'string' then return {redis.call('get', KEYS[1]), 0} end
if t ~= 'none' then redis.call('del', KEYS[1]) end
redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2])
return {ARGV[1], t == 'none' and 0 or 1}
"""

#: Lua: removes a load's own lease (ARGV[1]) from KEYS[1] when its result is not stored (the
#: decorator's ``unless``/``condition`` refused it), so the key is not left marked as loading;
#: anything else there (a value, another loader's lease) is left alone. Returns 1 if removed.
RELEASE_LEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""

#: Lua: the fill of a load. Stores ARGV[2] (PX ARGV[3], 0 = none) only if KEYS[1] still holds
#: what the load saw when it began (SHA-1 ARGV[1]: its lease, or the expired or invalidated
#: value it replaces); a delete or a write since then refuses it. A stored fill publishes
#: message ARGV[5] on channel ARGV[4] (none when empty). Returns 1 stored, 0 refused.
FILL = """
local v = redis.call('get', KEYS[1])
if not v or redis.sha1hex(v) ~= ARGV[1] then return 0 end
if ARGV[3] == '0' then redis.call('set', KEYS[1], ARGV[2])
else redis.call('set', KEYS[1], ARGV[2], 'PX', ARGV[3]) end
if ARGV[4] ~= '' then redis.call('publish', ARGV[4], ARGV[5]) end
return 1
"""


def lease_ms(lock_timeout: float | None) -> int:
    """How long a lease lasts: long enough for slow loaders (a load outliving it is not
    stored in Redis); an abandoned one is shared by the next loaders, so it blocks nothing."""
    return max(30_000, math.ceil(2000 * (lock_timeout or 0)))


#: Lua: take a stampede lock (KEYS[1]) for token ARGV[1] and PX ARGV[2]. Our locks always
#: expire: a key there without a TTL (or of another type) was written by someone else and is
#: taken over. Returns 1 taken, 2 taken over foreign bytes, 0 held by another loader.
ACQUIRE_LOCK = """
if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
if redis.call('pttl', KEYS[1]) == -1 then
  redis.call('del', KEYS[1])
  redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 2
end
return 0
"""


#: First bytes of an event broker frame on the channel (`events._wire`). No JSON text starts
#: with NUL, so `Message.decode` refuses a frame and a frame is never taken for a message.
EVENT_MAGIC = b"\x00sc-event\x01"


#: json.dumps(..., ensure_ascii=True, separators=(",", ":")) without a new encoder per call.
_COMPACT_JSON = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"))
#: A str as a JSON string, ASCII only (what `_COMPACT_JSON` does to each string).
_quote = json.encoder.encode_basestring_ascii


@dataclass(frozen=True)
class Message:
    """One invalidation on the channel.

    op: "k" keys of a namespace changed, "n" a namespace was flushed, "a" everything under the
    prefix was flushed, "t" tags were bumped, "p" keys matching a glob were deleted.
    skipped: the sender could not apply it in Redis (an outage; it replays it later), so
    Redis may still hold what it removes: receivers keep a tombstone (`_tiered.Tombstones`).
    Sent as a fifth element, only when set; receivers older than it ignore such a message
    (counted malformed) and rely on the replay.
    """

    origin: str
    op: str
    namespace: str
    items: tuple[str, ...]
    skipped: bool = False

    def encode(self) -> bytes:
        """The compact JSON list every process decodes, written out by hand: the same bytes
        as `_COMPACT_JSON.encode` (each string through the C quoting it uses), which built
        an encoder per call and cost a write with coherence ~5 us of its ~25 us client CPU."""
        items = ",".join(map(_quote, self.items))
        tail = "],1]" if self.skipped else "]]"
        head = f"[{_quote(self.origin)},{_quote(self.op)},{_quote(self.namespace)},["
        return (head + items + tail).encode()

    @staticmethod
    def decode(data: bytes) -> Message | None:
        """The message in `data`, or None for anything malformed (it is counted, not raised)."""
        try:
            origin, op, namespace, items, *flags = json.loads(data)
        except (ValueError, TypeError):
            return None
        if flags not in ([], [1]):
            return None
        if not (isinstance(origin, str) and op in ("k", "n", "a", "t", "p")):
            return None
        if not isinstance(namespace, str) or not isinstance(items, list):
            return None
        if not all(isinstance(i, str) for i in items):
            return None
        try:
            check_namespace(namespace)
        except ConfigError:
            return None
        return Message(origin, op, namespace, tuple(items), skipped=bool(flags))


def as_text(items: Iterable[Any]) -> tuple[str, ...]:
    """The items as a tuple of str (for message payloads)."""
    return tuple(str(i) for i in items)
