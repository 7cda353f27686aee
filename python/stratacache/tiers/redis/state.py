"""State and decisions of a cache with a Redis tier, shared by the sync and async drivers.

No I/O here: the drivers (`tiers/redis/driver_sync.py`, `tiers/redis/driver_async.py`) fetch bytes and
hand them in; this class decodes, judges freshness and tag versions, backfills L1, builds the
bytes and messages to send, and applies the invalidations other processes publish.

Backfill race: a reader that fetched an old value just before another process's write must
not put it in L1 after the invalidation for that write was applied. Every applied invalidation
bumps `generation`; a read backfills L1 only if the generation did not move while it was in
flight (otherwise it returns the value without keeping it).
"""

from __future__ import annotations

import math
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from ..._log import RateLimited, logger
from ..._options import NAMESPACE_SEP, prefix_of
from ...codec import Codec, CodecEntry
from ...errors import TierUnavailableError
from ..chain import KEPT, MISS, Load, UpperLink
from . import plan as _plan
from .common import CircuitOpen, Refused, TierCounters, TierDown
from .config import RedisOptions
from .invalidation_log import InvalidationLog, Logged
from .tombstones import Tombstones

__all__ = ["MISS", "InvalidationLog", "Load", "Logged", "TierState", "Tombstones"]

_PRUNE_FLOOR = 1024

#: A read's (value, refresh) for a miss, built once.
_MISSED = (MISS, False)
_NO_OPENER = object()
_new_tuple = tuple.__new__


def _opener(codec: Any) -> Any:
    """The binding's `try_open` of `codec`, which `judge_reply` calls directly (one frame and
    the CodecEntry less per read); None where the codec's own `try_decode_entry` must run: a
    json or pickle codec (its payloads are loaded in Python) or a subclass overriding it."""
    if type(codec).try_decode_entry is not Codec.try_decode_entry or codec._sid != 1:
        return None
    return codec._core.try_open


_foreign_version = RateLimited("stratacache: a tag version in Redis holds foreign bytes")
_corrupt_envelope = RateLimited("stratacache: a value in Redis did not decode (%s): a miss")
_refused_invalidation = RateLimited(
    "stratacache: Redis refused an invalidation (%s); not kept for replay (a permission "
    "refusal will not pass on retry)"
)


class TierState:
    """One cache's view of its Redis tier, minus the sockets."""

    def __init__(
        self,
        *,
        store: Any,
        codec: Any,
        options: RedisOptions,
        l1: bool,
        default_ttl: float | None,
        stale_ttl: float,
        early_refresh: float | None,
        upper: UpperLink,
        stale_if_error: float | None = None,
    ) -> None:
        self.store = store
        self.stale_if_error = stale_if_error
        # One codec per namespace (a mapping's None key, or Codec(), for the others).
        self.codecs: Mapping[str | None, Any] = codec
        # namespace -> its codec's binding `try_open`, for `judge_reply` (None: the codec's
        # own try_decode_entry must run, see `_opener`).
        self._openers = {ns: _opener(c) for ns, c in codec.items()}
        self.options = options
        self.l1 = l1
        self.default_ttl = default_ttl
        self.stale_ttl = stale_ttl
        self.early_refresh = early_refresh
        self.counters = TierCounters()
        self.origin = uuid.uuid4().hex
        self.prefix = options.key_prefix
        self.channel = _plan.channel(self.prefix)
        self._prefix_bytes = self.prefix.encode("utf-8", "surrogatepass")
        # The link above Redis (L1 today): what Redis's values are kept in and what other
        # processes' invalidations are applied to.
        self.upper = upper
        self.generation = 0
        self.last_origin = ""  # origin of the last message applied (lets tests sync on it)
        self.degraded = False
        # tag -> L1 entries (namespace, key) carrying it, so a bump reaches L1 too. The store
        # reports no evictions, so entries it dropped are pruned when the index doubles.
        self._tag_index: dict[str, set[tuple[str, str]]] = {}
        self._tag_entries = 0
        self._prune_at = _PRUNE_FLOOR
        self._lock = threading.Lock()
        self.log = InvalidationLog()
        self.tombstones = Tombstones()
        # Recovery grace: wall ms of the last trouble this process saw (0: none, or its grace
        # is over), and the monotonic end of the grace once Redis answered again (None: not
        # yet). Envelopes created before that trouble are distrusted during the grace.
        self._suspect_ms = 0
        self._grace_end: float | None = None
        # Set by the driver: replays the log from the subscriber thread once Redis is back.
        self.on_recovered: Callable[[], None] | None = None
        # Set by a cache with a disk link (`tiers/disk/gap.py`): the check of the disk before
        # the first subscription serves it, and the heartbeat (each turn, and once stopped).
        self.on_first_up: Callable[[], object] | None = None
        self.on_tick: Callable[[], None] | None = None
        self.on_stop: Callable[[], None] | None = None

    # Keys ---------------------------------------------------------------------------------
    def rkey(self, namespace: str, key: str) -> bytes:
        """`plan.value_key` of `key` (inlined: every L2 read and write computes it)."""
        return (self.prefix + namespace + NAMESPACE_SEP + key).encode("utf-8", "surrogatepass")

    def tag_keys(self, tags: Iterable[str]) -> list[bytes]:
        return [_plan.tag_key(self.prefix, t) for t in tags]

    # Failure policy -----------------------------------------------------------------------
    def codec_for(self, namespace: str) -> Any:
        codec = self.codecs.get(namespace)
        return self.codecs[None] if codec is None else codec

    def fails_open(self, namespace: str) -> bool:
        return self.options.fail_open and namespace not in self.options.fail_closed

    def read_failed(self, exc: TierDown, namespace: str) -> Any:
        """A read that got no answer: a miss (fail-open) or TierUnavailableError."""
        self.counters.skipped_reads += 1
        if isinstance(exc, CircuitOpen):  # an outage, not one failed command
            self.trouble()
        if not self.fails_open(namespace):
            msg = f"Redis tier unavailable: {exc}"
            raise TierUnavailableError(msg) from exc
        return MISS

    def write_failed(self, exc: TierDown, namespace: str) -> None:
        """A write that did not reach Redis: skipped and counted, or TierUnavailableError."""
        self.counters.skipped_writes += 1
        if isinstance(exc, CircuitOpen):  # an outage, not one failed command
            self.trouble()
        if not self.fails_open(namespace):
            msg = f"Redis tier unavailable: {exc}"
            raise TierUnavailableError(msg) from exc

    def keep(self, op: str, namespace: str, items: Iterable[str], exc: TierDown | None) -> bool:
        """Logs an invalidation that did not reach Redis, for replay before the next use;
        False (not kept: counted and logged) when Redis refused it (`Refused`: a read-only
        user, a revoked permission), which no replay would get past: kept, it would make
        the tier count as down forever."""
        if isinstance(exc, Refused):
            self.refused_invalidation(exc)
            return False
        was_empty, collapsed = self.log.add(op, namespace, items)
        if was_empty:
            logger.warning(
                "stratacache: Redis unreachable; keeping skipped invalidations to replay "
                "before the tier serves again"
            )
        if collapsed:
            self.counters.invalidations_overflowed += collapsed
            logger.warning(
                "stratacache: %d skipped invalidations overflowed the log; their namespaces "
                "will be flushed in Redis instead",
                collapsed,
            )
        return True

    def refused_invalidation(self, exc: TierDown) -> None:
        self.counters.invalidations_refused += 1
        _refused_invalidation.hit(str(exc))

    # Recovery grace -------------------------------------------------------------------------
    def trouble(self) -> None:
        """This process saw an outage (its breaker open, its subscription dropped): another
        process may hold invalidations it skipped meanwhile and has not replayed yet. Single
        failed commands do not count: a flaky tier would re-arm the grace for ever."""
        if self.options.recovery_grace > 0:
            self._suspect_ms = _plan.now_ms()
            self._grace_end = None

    def answered(self) -> None:
        """Redis answered: a grace pending since the last trouble starts now."""
        if self._suspect_ms and self._grace_end is None:
            self._grace_end = time.monotonic() + self.options.recovery_grace

    def _distrusted(self, created_ms: int) -> bool:
        """True for an envelope created before the last trouble, during the grace after it."""
        if self._grace_end is None:
            self.answered()
        elif time.monotonic() >= self._grace_end:
            self._suspect_ms = 0
            return False
        return created_ms < self._suspect_ms

    def replayed(self, ops: Sequence[Logged]) -> None:
        count = self.log.done(ops)
        if count:
            self.counters.invalidations_replayed += count
            logger.warning("stratacache: replayed %d skipped invalidations in Redis", count)

    # Reads --------------------------------------------------------------------------------
    def decode(self, namespace: str, rkey: bytes, data: bytes | None) -> Any:
        """The CodecEntry in `data`, or None for a miss (absent, or undecodable: counted)."""
        if self._suspect_ms:
            self.answered()
        if data is None or data.startswith(_plan.LEASE_PREFIX):  # a lease: a load is under way
            self.counters.misses += 1
            self.counters.read(namespace, hit=False)
            return None
        codec = self.codecs.get(namespace)  # codec_for, inlined: every L2 read is here
        if codec is None:
            codec = self.codecs[None]
        entry, reason = codec.try_decode_entry(rkey.decode("utf-8", "surrogatepass"), data)
        if reason is not None:  # foreign or hostile bytes: a miss (a bug still raises)
            self.counters.corrupt += 1
            self.counters.read(namespace, hit=False)
            _corrupt_envelope.hit(reason)
        return entry

    def judge_reply(
        self,
        namespace: str,
        key: str,
        skey: str,
        data: bytes | None,
        generation: int,
        *,
        allow_stale: bool,
    ) -> Any:
        """`decode` then `finish_read` of the reply `data` to GET `skey` (`rkey`, as the str
        the codec binds the envelope to), in one frame: (value or MISS, refresh wanted), or
        the CodecEntry when its tags' versions must be read first (its caller then calls
        `finish_read`). The common reply (a msgpack envelope, no tags, no tombstone or
        recovery grace to consult) is judged here without building the entry (issue 17: a
        get's Python work is the asyncio cost)."""
        if data is None or self._suspect_ms or self.tombstones.active:
            return self._judge_slow(namespace, key, skey, data, generation, allow_stale=allow_stale)
        opener = self._openers.get(namespace, _NO_OPENER)
        if opener is _NO_OPENER:
            opener = self._openers.get(None)
        if opener is None:
            return self._judge_slow(namespace, key, skey, data, generation, allow_stale=allow_stale)
        opened = opener(skey, data)
        counters = self.counters
        if type(opened) is str:
            if data.startswith(_plan.LEASE_PREFIX):  # a load is under way ("SC" starts no lease)
                return self._judge_slow(
                    namespace, key, skey, data, generation, allow_stale=allow_stale
                )
            # foreign or hostile bytes: a miss (a bug still raises)
            counters.corrupt += 1
            counters.read(namespace, hit=False)
            _corrupt_envelope.hit(opened)
            return _MISSED
        sid, value, created_ms, ttl_ms, compute_us, tags = opened
        if sid != 1:  # a json or pickle payload: the codec loads it
            return self._judge_slow(namespace, key, skey, data, generation, allow_stale=allow_stale)
        if tags:
            return _new_tuple(CodecEntry, (value, created_ms, ttl_ms, compute_us, tags, "msgpack"))
        if not ttl_ms:
            verdict = _plan.NO_EXPIRY
        else:
            now_ms = time.time_ns() // 1_000_000  # _plan.now_ms, inlined
            left = (created_ms + ttl_ms - now_ms) / 1000.0
            if left > 0 and not self.early_refresh:  # _plan.judge's verdict, without its call
                verdict = _new_tuple(_plan.Freshness, (left, True, False, left))
            else:
                verdict = _plan.judge(
                    created_ms,
                    ttl_ms,
                    compute_us,
                    at_ms=now_ms,
                    stale_ttl=self.stale_ttl,
                    early_refresh=self.early_refresh,
                )
        if verdict.fresh_left > 0:
            counters.hits += 1
            if self.l1 and generation == self.generation:
                entry = _new_tuple(
                    CodecEntry, (value, created_ms, ttl_ms, compute_us, {}, "msgpack")
                )
                self._backfill(namespace, key, entry, verdict, data)
            seen = counters.by_namespace.get(namespace)
            if seen is None:
                counters.read(namespace, hit=True)
            else:
                seen[0] += 1
            return value, verdict.refresh
        if allow_stale and verdict.usable:
            counters.stale_hits += 1
            counters.read(namespace, hit=True)
            return value, True
        counters.misses += 1
        counters.read(namespace, hit=False)
        return _MISSED

    def _judge_slow(
        self,
        namespace: str,
        key: str,
        skey: str,
        data: bytes | None,
        generation: int,
        *,
        allow_stale: bool,
    ) -> Any:
        """`judge_reply` by `decode` and `finish_read` themselves (a lease, a json or pickle
        codec, tombstones or a recovery grace to consult)."""
        entry = self.decode(namespace, skey.encode("utf-8", "surrogatepass"), data)
        if entry is None:
            return _MISSED
        if entry.tags:
            return entry
        return self.finish_read(
            namespace,
            key,
            entry,
            versions=(),
            generation=generation,
            allow_stale=allow_stale,
            envelope=data,
        )

    def decode_held(self, namespace: str, key: str, data: bytes) -> tuple[Any, bool]:
        """(CodecEntry or None, corrupt) of an envelope the upper link held (a disk copy);
        nothing is counted here: the disk counts its own reads."""
        rkey = self.rkey(namespace, key).decode("utf-8", "surrogatepass")
        entry, reason = self.codec_for(namespace).try_decode_entry(rkey, data)
        return entry, reason is not None

    def finish_read(
        self,
        namespace: str,
        key: str,
        entry: Any,
        *,
        versions: Sequence[bytes | None],
        generation: int,
        allow_stale: bool,
        envelope: Any = None,
        held: bool = False,
    ) -> tuple[Any, bool]:
        """(value or MISS, refresh wanted) for a decoded entry and its tags' current versions:
        fresh (L1 backfilled, unless an invalidation came since `generation`), stale but
        usable (`allow_stale`), or expired.

        `envelope`: the entry's bytes, kept by a byte-keeping upper link on a backfill; `held`:
        the entry came from that link (`upper.held`): its hits and plain misses are the disk's
        to count, the coherence misses (tombstone, grace, tags) are counted here as Redis's."""
        counters = self.counters
        if self.tombstones.active and self.tombstones.covers(
            namespace, key, entry.tags, entry.created_at_ms, _plan.now_ms()
        ):
            counters.tombstone_misses += 1  # another process's skipped invalidation
        elif self._suspect_ms and self._distrusted(entry.created_at_ms):
            counters.grace_misses += 1
        elif entry.tags and not _plan.tags_current(entry.tags, versions):
            counters.tag_misses += 1
            if any(_plan.parse_version(v) is None for v in versions):
                self.foreign()
        else:  # current: judged by age (one frame per read: this is every L2 hit's path)
            ttl_ms = entry.ttl_ms
            verdict = (
                _plan.judge(
                    entry.created_at_ms,
                    ttl_ms,
                    entry.compute_us,
                    at_ms=_plan.now_ms(),
                    stale_ttl=self.stale_ttl,
                    early_refresh=self.early_refresh,
                )
                if ttl_ms
                else _plan.NO_EXPIRY
            )
            count = 0 if held else 1
            if verdict.fresh_left > 0:
                counters.hits += count
                if self.l1 and generation == self.generation:
                    self._backfill(namespace, key, entry, verdict, KEPT if held else envelope)
                if not held:  # counters.read(namespace, hit=True), its call saved once seen
                    seen = counters.by_namespace.get(namespace)
                    if seen is None:
                        counters.read(namespace, hit=True)
                    else:
                        seen[0] += 1
                return entry.value, verdict.refresh
            if allow_stale and verdict.usable:
                counters.stale_hits += count
                if not held:
                    counters.read(namespace, hit=True)
                return entry.value, True
            counters.misses += count
        if not held:
            counters.read(namespace, hit=False)
        return MISS, False

    def _backfill(
        self, namespace: str, key: str, entry: Any, verdict: _plan.Freshness, envelope: Any
    ) -> None:
        """Keeps a fresh entry read from Redis in L1 for what is left of its TTL."""
        ttl = math.inf if verdict.l1_ttl is None and entry.ttl_ms == 0 else verdict.l1_ttl
        if ttl is not None and ttl > 0:
            self.l1_store(namespace, key, entry.value, ttl, tuple(entry.tags), envelope=envelope)

    def remaining(self, entry: Any) -> float | None:
        """Seconds of TTL a decoded entry has left (math.inf without expiry), None if expired."""
        if entry.ttl_ms == 0:
            return math.inf
        left = (entry.created_at_ms + entry.ttl_ms - _plan.now_ms()) / 1000.0
        return left if left > 0 else None

    # Writes -------------------------------------------------------------------------------
    def resolve_ttl(self, ttl: float | None) -> float | None:
        return self.default_ttl if ttl is None else ttl

    def encode(
        self,
        namespace: str,
        key: str,
        value: Any,
        ttl: float | None,
        *,
        tags: Sequence[str] = (),
        versions: Sequence[bytes | None] = (),
        compute_us: int = 0,
    ) -> tuple[bytes, bytes, int | None]:
        """(Redis key, envelope, PX) of a write; `ttl` already resolved and > 0."""
        rkey = self.rkey(namespace, key)
        data = self.codec_for(namespace).encode_entry(
            rkey.decode("utf-8", "surrogatepass"),
            value,
            ttl_ms=_plan.envelope_ttl_ms(ttl),
            compute_us=int(compute_us),
            # A foreign version (repaired by the driver first) records 0, which it never is.
            tags={t: _plan.parse_version(v) or 0 for t, v in zip(tags, versions, strict=True)},
        )
        return rkey, data, _plan.redis_ttl_ms(ttl, self.stale_ttl)

    def foreign(self) -> None:
        """An internal key (tag version, lock) held bytes another client wrote: counted as
        corrupt, logged at most once a minute."""
        self.counters.corrupt += 1
        _foreign_version.hit()

    def repaired(self, what: str, count: int) -> None:
        """Foreign bytes in `count` internal keys were replaced (a bump, a lock takeover)."""
        if count:
            self.counters.corrupt += count
            logger.warning("stratacache: replaced foreign bytes in %d %s key(s)", count, what)

    def message(
        self, op: str, namespace: str, items: Iterable[str], *, skipped: bool = False
    ) -> bytes:
        return _plan.Message(self.origin, op, namespace, tuple(items), skipped).encode()

    # L1 -------------------------------------------------------------------------------------
    def l1_store(
        self,
        namespace: str,
        key: str,
        value: Any,
        ttl: float | None,
        tags: Sequence[str] = (),
        *,
        envelope: Any = None,
    ) -> None:
        """Keeps a value in L1 (when L1 is on), capped while coherence is degraded; a disk
        link above Redis keeps `envelope` too (`chain.UpperLink.fill`), never while degraded:
        what a disk keeps outlives the L1 flush that ends the degraded state."""
        if not self.l1:
            return
        if self.degraded:
            envelope = None
            ttl = (
                self.options.degraded_l1_ttl
                if ttl is None
                else min(ttl, self.options.degraded_l1_ttl)
            )
            if ttl <= 0:
                self.upper.delete(namespace, [key])  # an older copy must not outlive it
                return
        self.upper.fill(namespace, key, value, ttl, envelope)
        if tags:
            with self._lock:
                for tag in tags:
                    entries = self._tag_index.setdefault(tag, set())
                    before = len(entries)
                    entries.add((namespace, key))
                    self._tag_entries += len(entries) - before
                if self._tag_entries >= self._prune_at:
                    self._prune_tag_index()

    def _prune_tag_index(self) -> None:
        """Drops index entries whose L1 entry is gone (evicted, expired, replaced without
        tags, deleted); caller holds the lock. Runs when the index has doubled since the last
        prune, so its cost is amortised over the insertions that grew it."""
        contains, kept = self.store.contains, 0
        for tag in list(self._tag_index):
            live = {e for e in self._tag_index[tag] if contains(prefix_of(e[0]), e[1])}
            if live:
                self._tag_index[tag] = live
                kept += len(live)
            else:
                del self._tag_index[tag]
        self._tag_entries = kept
        self._prune_at = max(_PRUNE_FLOOR, 2 * kept)

    def tag_index_size(self) -> int:
        """(namespace, key) entries held by the tag index (tests check its bound)."""
        with self._lock:
            return sum(len(e) for e in self._tag_index.values())

    def l1_drop(self, namespace: str, keys: Iterable[str]) -> None:
        self.upper.delete(namespace, list(keys))

    def l1_drop_tags(self, tags: Iterable[str]) -> None:
        with self._lock:
            entries = [e for t in tags for e in self._tag_index.pop(t, ())]
            self._tag_entries -= len(entries)
        for namespace, key in entries:
            self.upper.delete(namespace, [key])

    def l1_drop_pattern(self, namespace: str, pattern: str) -> None:
        self.upper.invalidate_pattern(namespace, pattern)

    def flush_l1(self, *, held: bool = False) -> None:
        """Flushes L1 (coherence lost or back); with `held` (everything was cleared
        elsewhere), a disk link's copies too."""
        if held:
            self.upper.clear(None)
        else:
            self.upper.forget()
        with self._lock:
            self._tag_index.clear()
            self._tag_entries = 0

    # Invalidations from other processes (subscriber thread) --------------------------------
    def apply(self, message: _plan.Message) -> None:
        self.generation += 1
        self.last_origin = message.origin
        if message.skipped:
            self.tombstones.add(message, _plan.now_ms())
        op, ns = message.op, message.namespace
        if op == "k":
            self.upper.drop_announced(ns, list(message.items), message.origin)
        elif op == "n":
            self.upper.clear(ns)
        elif op == "a":
            self.flush_l1(held=True)
        elif op == "t":
            self.l1_drop_tags(message.items)
        elif op == "p":
            for pattern in message.items:
                self.l1_drop_pattern(ns, pattern)

    def apply_keys(self, rkeys: list[bytes] | None) -> None:
        """Server-assisted invalidation: Redis names changed keys (None: it was flushed)."""
        self.generation += 1
        if rkeys is None:
            self.flush_l1(held=True)
            return
        for rkey in rkeys:
            split = _plan.split_value_key(self._prefix_bytes, rkey)
            if split is not None:  # a disk copy of our own write that Redis still holds stays
                self.upper.drop_changed(split[0], [split[1]])

    def on_lost(self) -> None:
        """The subscription dropped (not a fork): trouble, L1 is flushed (`on_down`), and a
        disk link's copies are dropped (messages were lost; a disk outlives the recovery)."""
        self.trouble()
        self.upper.distrust()

    def on_down(self) -> None:
        self.generation += 1
        self.degraded = True
        if self.stale_if_error is None:
            self.flush_l1()
        else:
            self.cap_l1(self.stale_if_error)

    def cap_l1(self, seconds: float) -> None:
        """Shortens every L1 entry's TTL to at most `seconds` (stale-if-error: what L1 holds
        may go stale while invalidations cannot reach it, but only for that long)."""
        store = self.store
        for stored in store.keys(""):  # "<namespace>\x1f<key>"
            prefix, sep, key = stored.partition(NAMESPACE_SEP)
            left = store.ttl(prefix + sep, key)
            if left is not None and left > seconds:
                store.touch(prefix + sep, key, seconds)

    def on_up(self) -> None:
        self.generation += 1
        self.flush_l1()
        if self.on_first_up is not None:  # raises (the session is retried) until it is done
            self.on_first_up()
            self.on_first_up = None
        self.degraded = False
        self.answered()
        if self.log and self.on_recovered is not None:
            self.on_recovered()

    def snapshot(self, breaker_state: str, breaker_opened: int) -> dict[str, Any]:
        out: dict[str, Any] = self.counters.snapshot()
        out |= {"breaker": breaker_state, "breaker_opened": breaker_opened}
        out["coherent"] = not self.degraded
        out["invalidations_pending"] = len(self.log)
        return out
