"""The sync driver of a cache with a Redis tier: L1 -> Redis -> loader, and the writes.

Each method is the I/O skeleton of a decision made in `state.TierState`. Generated from
`driver_async.py` by `scripts/unasync.py`: do not edit, edit the source.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import secrets
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..._log import logger
from ..._options import NAMESPACE_SEP
from ...backup import changelog
from ..local import LocalDriver
from . import atomic as _atomic
from . import plan as _plan
from .common import MAX_BATCH, Announce, Refused, Rider, TierDown
from .executor_sync import SyncRedisTier
from .runtime import SyncRuntime
from .state import MISS, Load, Logged, TierState

if TYPE_CHECKING:
    from ..local import Driver

__all__ = ["SyncTiered"]

#: Skipped invalidations waiting for their best-effort announcement; more are not announced
#: (the replay publishes them all).
MAX_UNANNOUNCED = 1000


class SyncTiered(SyncRuntime):
    """Read and write paths over the Redis executor: the Redis link of the tier chain, below
    `upper` (an `Driver`, checked by mypy at the end of this file)."""

    def __init__(self, state: TierState, redis: SyncRedisTier, lock_timeout: float | None) -> None:
        super().__init__()
        self.state = state
        # The link above this one (L1 today): values read here are backfilled into it, and
        # deletes and clears reach it first (tiers/chain.py says what a link provides).
        self.upper = state.upper
        # False for L1 (it keeps objects, never envelopes): `_read_held` has nothing to read.
        self._reads_upper = not isinstance(state.upper, LocalDriver)
        self.redis = redis
        self.lock_timeout = lock_timeout
        self._refreshing: set[bytes] = set()
        self._acquire_lock = redis.client.register_script(_plan.ACQUIRE_LOCK)
        self._lease_get = redis.client.register_script(_plan.LEASE_GET)
        self._fill_script = redis.client.register_script(_plan.FILL)
        self._release_lease_script = redis.client.register_script(_plan.RELEASE_LEASE)
        self._add_script = redis.client.register_script(_atomic.ADD)
        self._lease_ms = _plan.lease_ms(lock_timeout)
        self._unannounced: list[bytes] = []
        self._presence_of = ("", b"")  # (origin, its presence channel)
        self._announcing = False
        state.on_recovered = lambda: self._from_thread(self._replay_quietly)
        options = state.options
        self._log = (
            changelog.ChangeLog(state.prefix, options.change_log_max)
            if options.change_log
            else None
        )

    # Reads ------------------------------------------------------------------------------------
    def read(self, namespace: str, key: str, *, allow_stale: bool = False) -> tuple[Any, bool]:
        """(value or MISS, refresh wanted) from Redis; backfills L1 on a fresh hit.

        The hot path of every L1 miss, in one frame: without a disk copy to judge first
        (`_read_held`) or skipped invalidations to replay (`_ready`), it is `_read` without
        the lease, each helper inlined (issue 17: a get's Python work is the asyncio cost)."""
        st = self.state
        if self._reads_upper or st.log.size:
            value, refresh, _ = self._read(namespace, key, allow_stale=allow_stale, lease=None)
            return value, refresh
        skey = st.prefix + namespace + NAMESPACE_SEP + key  # st.rkey, inlined
        rkey = skey.encode("utf-8", "surrogatepass")
        generation = st.generation
        try:
            data = self.redis.get(rkey)
            judged = st.judge_reply(namespace, key, skey, data, generation, allow_stale=allow_stale)
            if type(judged) is tuple:  # decided: (value or MISS, refresh)
                return judged
            entry = judged  # tagged: judged once its tags' versions are read
            versions = self.redis.mget(st.tag_keys(entry.tags))
        except TierDown as exc:
            return st.read_failed(exc, namespace), False
        return st.finish_read(
            namespace,
            key,
            entry,
            versions=versions,
            generation=generation,
            allow_stale=allow_stale,
            envelope=data,
        )

    def _read(
        self, namespace: str, key: str, *, allow_stale: bool, lease: bytes | None
    ) -> tuple[Any, bool, str | None]:
        """`read`, plus (with `lease`, a fresh lease mark, on the load path) the SHA-1 of what
        the key held, for the fill's compare-and-set: the lease taken in the same round trip
        when it was absent, or the unusable value a fill would replace (None when Redis did
        not answer)."""
        st = self.state
        rkey, generation = st.rkey(namespace, key), st.generation
        if self._reads_upper:
            held = self._read_held(namespace, key, generation, allow_stale=allow_stale)
            if held is not None:
                return held[0], held[1], None
        seen = None
        try:
            self._ready()
            if lease is not None:
                args = [lease, self._lease_ms]
                data, repaired = self.redis.lease_get(self._lease_get, rkey, args)
                st.repaired("value", int(repaired))
                seen = hashlib.sha1(data, usedforsecurity=False).hexdigest()
            else:
                data = self.redis.get(rkey)
            entry = st.decode(namespace, rkey, data)
            if entry is None:
                return MISS, False, seen
            versions = self.redis.mget(st.tag_keys(entry.tags)) if entry.tags else []
        except TierDown as exc:
            return st.read_failed(exc, namespace), False, None
        value, refresh = st.finish_read(
            namespace,
            key,
            entry,
            versions=versions,
            generation=generation,
            allow_stale=allow_stale,
            envelope=data,
        )
        return value, refresh, seen

    def _read_held(
        self, namespace: str, key: str, generation: int, *, allow_stale: bool
    ) -> tuple[Any, bool] | None:
        """(value, refresh) from the disk link above (`upper.held`), judged as a Redis value
        is (tag versions read from Redis); None when it holds nothing usable. While coherence
        is degraded the disk is not read: its copies may have missed invalidations."""
        st = self.state
        data = None if st.degraded else self.upper.held(namespace, key)
        if data is None:
            return None
        entry, corrupt = st.decode_held(namespace, key, data)
        if entry is None:
            self.upper.refused(namespace, key, corrupt=corrupt)
            return None
        try:
            versions = self.redis.mget(st.tag_keys(entry.tags)) if entry.tags else []
        except TierDown:
            return None  # unknown versions: Redis's own read decides (fail open or closed)
        value, refresh = st.finish_read(
            namespace,
            key,
            entry,
            versions=versions,
            generation=generation,
            allow_stale=allow_stale,
            held=True,
        )
        if value is MISS:
            self.upper.refused(namespace, key, corrupt=False)
            return None
        return value, refresh

    def read_many(self, namespace: str, keys: Sequence[str]) -> dict[str, Any]:
        st = self.state
        generation = st.generation
        out = {}
        if self._reads_upper:
            for key in keys:
                held = self._read_held(namespace, key, generation, allow_stale=False)
                if held is not None:
                    out[key] = held[0]
            keys = [k for k in keys if k not in out]
        if not keys:
            return out
        rkeys = [st.rkey(namespace, k) for k in keys]
        try:
            self._ready()
            datas = self.redis.mget(rkeys)
            entries = [st.decode(namespace, r, d) for r, d in zip(rkeys, datas, strict=True)]
            tags = sorted({t for e in entries if e is not None for t in e.tags})
            current = dict(zip(tags, self.redis.mget(st.tag_keys(tags)), strict=True))
        except TierDown as exc:
            st.read_failed(exc, namespace)
            return out
        for key, entry, data in zip(keys, entries, datas, strict=True):
            if entry is not None:
                versions = [current[t] for t in entry.tags]
                value, _ = st.finish_read(
                    namespace,
                    key,
                    entry,
                    versions=versions,
                    generation=generation,
                    allow_stale=False,
                    envelope=data,
                )
                if value is not MISS:
                    out[key] = value
        return out

    def remaining(self, namespace: str, key: str) -> float | None:
        """Seconds of TTL the value in Redis has left (math.inf: none), None if missing."""
        st = self.state
        rkey = st.rkey(namespace, key)
        try:
            self._ready()
            entry = st.decode(namespace, rkey, self.redis.get(rkey))
        except TierDown as exc:
            st.read_failed(exc, namespace)  # raises when failing closed
            return None
        return None if entry is None else st.remaining(entry)

    def tag_versions(self, namespace: str, tags: Sequence[str]) -> list[bytes | None] | None:
        """Current versions of `tags` (None when Redis did not answer)."""
        if not tags:
            return []
        try:
            self._ready()
            versions = self.redis.mget(self.state.tag_keys(tags))
            foreign = [
                t for t, v in zip(tags, versions, strict=True) if _plan.parse_version(v) is None
            ]
            if foreign:  # replaced by a fresh version (that is an invalidation), then read again
                self._bump(foreign)
                versions = self.redis.mget(self.state.tag_keys(tags))
        except TierDown as exc:
            self.state.write_failed(exc, namespace)
            return None
        if any(_plan.parse_version(v) is None for v in versions):
            self.state.foreign()  # written again meanwhile: treat the tags as unknown
            return None
        return versions

    def _bump(self, tags: Sequence[str], announce: Announce | None = None) -> None:
        """Bumps tag versions, replacing any holding foreign bytes (logged, counted)."""
        fresh = _plan.fresh_version()
        calls = [([k], [fresh]) for k in self.state.tag_keys(tags)]
        results = self.redis.eval(_plan.BUMP_TAG, calls, announce)
        self.state.repaired("tag version", sum(1 for r in results if int(r[1])))
        self._changed([changelog.entry_op("t", "", tags, [int(r[0]) for r in results])])

    # Writes -----------------------------------------------------------------------------------
    def write(
        self,
        namespace: str,
        key: str,
        value: Any,
        ttl: float | None,
        *,
        tags: Sequence[str] = (),
        versions: Sequence[bytes | None] | None = None,
        compute_us: int = 0,
    ) -> None:
        st = self.state
        ttl = st.resolve_ttl(ttl)
        if ttl == 0:
            self.delete(namespace, [key])
            return
        if versions is None:
            versions = self.tag_versions(namespace, tags)
        if versions is None:  # tags unknown: an entry without them could never be invalidated
            st.l1_store(namespace, key, value, ttl, tags)
            self._keep("k", namespace, [key])  # Redis may hold an older value
            return
        rkey, data, px = st.encode(
            namespace, key, value, ttl, tags=tags, versions=versions, compute_us=compute_us
        )
        st.l1_store(namespace, key, value, ttl, tags, envelope=data)
        try:
            self._ready()
            announce = self._announce("k", namespace, [key])
            self.redis.set(rkey, data, px, announce, self._presence())
            st.counters.sets += 1
            if self._log is not None:  # the entry costs a json.dumps: only with a change log
                self._changed([changelog.entry_write(namespace, key, data, px)])
        except TierDown as exc:
            self._keep("k", namespace, [key], exc)
            st.write_failed(exc, namespace)

    def write_many(self, namespace: str, items: Mapping[str, Any], ttl: float | None) -> None:
        st = self.state
        ttl = st.resolve_ttl(ttl)
        if ttl == 0:
            self.delete(namespace, list(items))
            return
        batch = [st.encode(namespace, k, v, ttl) for k, v in items.items()]
        for (key, value), (_, data, _) in zip(items.items(), batch, strict=True):
            st.l1_store(namespace, key, value, ttl, envelope=data)
        keys, done = list(items), 0
        try:
            self._ready()
            # Bounded round trips: one pipeline of 20,000 SETs outlived the call's deadline,
            # failed after it had landed, and its announcement overflowed the replay buffer.
            while done < len(batch):
                part, names = batch[done : done + MAX_BATCH], keys[done : done + MAX_BATCH]
                self.redis.set_many(part, self._announce("k", namespace, names))
                st.counters.sets += len(part)
                done += len(part)
                changes = zip(names, part, strict=True)
                self._changed(
                    [changelog.entry_write(namespace, k, d, p) for k, (_, d, p) in changes]
                )
        except TierDown as exc:
            self._keep("k", namespace, keys[done:], exc)
            st.write_failed(exc, namespace)

    def delete(self, namespace: str, keys: Sequence[str], rider: Rider | None = None) -> int:
        """Deletes `keys` from every tier; `rider`: a script for the same round trip (the
        first level of a dependency walk, `deps.RedisGraph`)."""
        st = self.state
        local = self.upper.delete(namespace, keys)
        try:
            self._ready()
            rkeys = [st.rkey(namespace, k) for k in keys]
            announce = self._announce("k", namespace, keys)
            removed = self.redis.delete(rkeys, announce, rider)
            st.counters.deletes += removed
            if self._log is not None:
                self._changed([changelog.entry_op("k", namespace, keys)])
        except TierDown as exc:
            self._keep("k", namespace, keys, exc)
            st.write_failed(exc, namespace)
            return local
        return max(local, removed)

    # Atomic updates (`atomic.py`) ------------------------------------------------------------
    def add(self, namespace: str, key: str, value: Any, ttl: float | None) -> bool:
        """SET NX in Redis (replacing an unusable value by compare-and-set); True if stored."""
        st = self.state
        ttl = st.resolve_ttl(ttl)
        rkey, data, px = st.encode(namespace, key, value, math.inf if ttl == 0 else ttl)
        channel, message = self._announce("k", namespace, [key]) or (b"", b"")
        try:
            self._ready()
            for _ in range(_atomic.MAX_ATTEMPTS):
                args = [data, px or 0, channel, message]
                if ttl != 0 and int(self.redis.script(self._add_script, [rkey], args)):
                    break
                held = self.redis.get(rkey)
                if _atomic.live(st, namespace, rkey, held):
                    return False
                if ttl == 0:  # absent or dead: "stored", and expired at once
                    return True
                if held is None:  # deleted since the SET NX: try it again
                    continue
                args = [_atomic.sha1(held), data, px or 0, channel, message]
                if int(self.redis.script(self._fill_script, [rkey], args)):
                    break
            else:
                raise _atomic.Contended(key)
        except TierDown as exc:
            st.write_failed(exc, namespace)  # raises when failing closed
            self._keep("k", namespace, [key], exc)
            return _atomic.local_add(st, namespace, key, value, ttl)
        st.counters.sets += 1
        st.l1_store(namespace, key, value, ttl, envelope=None if ttl == 0 else data)
        self._changed([changelog.entry_write(namespace, key, data, px)])
        return True

    def incr(self, namespace: str, key: str, delta: int) -> int:
        """Adds `delta` to the int in Redis by compare-and-set over its envelope, keeping its
        TTL and tags; returns the new value. Raises KeyError when there is no live value."""
        value = self._rewrite(namespace, key, delta=delta)
        if value is MISS:
            raise KeyError(key)
        return int(value)

    def touch(self, namespace: str, key: str, ttl: float | None) -> bool:
        """Restarts the TTL of the value in Redis and L1; False if there is none."""
        ttl = self.state.resolve_ttl(ttl)
        if ttl == 0:
            return bool(self.delete(namespace, [key]))
        return self._rewrite(namespace, key, ttl=ttl) is not MISS

    def _rewrite(
        self, namespace: str, key: str, *, delta: int | None = None, ttl: float | None = None
    ) -> Any:
        """The optimistic update of `incr` (delta) or `touch` (ttl): the new value, or MISS."""
        st = self.state
        rkey = st.rkey(namespace, key)
        channel, message = self._announce("k", namespace, [key]) or (b"", b"")
        try:
            self._ready()
            for _ in range(_atomic.MAX_ATTEMPTS):
                held = self.redis.get(rkey)
                entry = _atomic.live(st, namespace, rkey, held)
                tags = list(entry.tags) if entry is not None else []
                versions = self.redis.mget(st.tag_keys(tags)) if tags else []
                if held is None or entry is None or not _plan.tags_current(entry.tags, versions):
                    return MISS
                value = entry.value if delta is None else _atomic.incremented(entry.value, delta)
                new_ttl = st.remaining(entry) if ttl is None else ttl
                _, data, px = st.encode(
                    namespace, key, value, new_ttl, tags=tags, versions=versions
                )
                args = [_atomic.sha1(held), data, px or 0, channel, message]
                if int(self.redis.script(self._fill_script, [rkey], args)):
                    st.counters.sets += 1
                    st.l1_store(namespace, key, value, new_ttl, tags, envelope=data)
                    self._changed([changelog.entry_write(namespace, key, data, px)])
                    return value
            raise _atomic.Contended(key)
        except TierDown as exc:
            st.write_failed(exc, namespace)  # raises when failing closed
            self._keep("k", namespace, [key], exc)
            return _atomic.local_rewrite(st, namespace, key, delta, ttl)

    def invalidate_tags(self, namespace: str, tags: Sequence[str]) -> None:
        """Bumps `tags` (tags span namespaces; `namespace` only picks the failure policy)."""
        st = self.state
        st.l1_drop_tags(tags)
        try:
            self._ready()
            self._bump(tags, self._announce("t", "", tags))
        except TierDown as exc:
            self._keep("t", "", tags, exc)
            st.write_failed(exc, namespace)

    def invalidate_pattern(self, namespace: str, pattern: str) -> int:
        st = self.state
        st.l1_drop_pattern(namespace, pattern)
        try:
            self._ready()
            removed = self.redis.scan_delete(_plan.key_pattern(st.prefix, namespace, pattern))
            self._publish("p", namespace, [pattern])
            self._changed([changelog.entry_op("p", namespace, [pattern])])
        except TierDown as exc:
            self._keep("p", namespace, [pattern], exc)
            st.write_failed(exc, namespace)
            return 0
        return removed

    def clear(self, namespace: str | None) -> int:
        st = self.state
        local = self.upper.clear(namespace)
        try:
            self._ready()
            removed = self.redis.scan_delete(_plan.namespace_pattern(st.prefix, namespace))
            self._publish("a" if namespace is None else "n", namespace or "", [])
            self._changed(
                [changelog.entry_op("a" if namespace is None else "n", namespace or "", [])]
            )
        except TierDown as exc:
            self._keep("a" if namespace is None else "n", namespace or "", [], exc)
            st.write_failed(exc, namespace or "")
            return local
        return max(local, removed)

    # Invalidations skipped while Redis was unreachable -------------------------------------
    def _keep(
        self, op: str, namespace: str, items: Iterable[str], exc: TierDown | None = None
    ) -> None:
        self._remember_loop()  # the subscriber thread replays through it once Redis is back
        items = tuple(items)
        if self.state.keep(op, namespace, items, exc):
            self._announce_skipped(op, namespace, items)

    def _announce_skipped(self, op: str, namespace: str, items: Sequence[str]) -> None:
        """Best effort, in the background: publishes an invalidation that did not reach Redis
        at once, marked skipped, so other processes drop their L1 copies and distrust what
        Redis still holds (`_tiered.Tombstones`) before the replay. On Cluster the pub/sub
        node is usually alive while a primary is down, so it goes out even while the breaker
        is open (off the caller's path, one at a time; the first failure drops the rest)."""
        if self.state.options.coherence is None:
            return
        if len(self._unannounced) < MAX_UNANNOUNCED:
            self._unannounced.append(self.state.message(op, namespace, items, skipped=True))
        if not self._announcing:
            self._announcing = True
            self._spawn(self._announce_pending)

    def _announce_pending(self) -> None:
        try:
            while self._unannounced:
                message = self._unannounced.pop(0)
                try:
                    self.redis.publish(self.state.channel, message, guarded=False)
                except TierDown:
                    self._unannounced.clear()  # Redis is down for us too: the replay tells
        finally:
            self._announcing = False

    def _ready(self) -> None:
        """Replays skipped invalidations first; raises TierDown while they cannot be (Redis
        would answer with what they should have removed: the tier counts as down)."""
        if self.state.log and not self._replay():
            msg = "skipped invalidations not replayed yet"
            raise TierDown(msg)

    def _replay(self) -> bool:
        """Applies and publishes the logged invalidations; False if Redis still fails."""
        logged = self.state.log.pending()
        done: list[Logged] = []
        try:
            for entry in logged:
                try:
                    self._apply_logged(entry)
                except Refused as exc:  # a permission lost meanwhile: no replay gets past it
                    self.state.refused_invalidation(exc)
                    self.state.log.done([entry])
                    continue
                done.append(entry)
        except TierDown:
            self.state.replayed(done)
            return False
        self.state.replayed(done)
        return True

    def _apply_logged(self, entry: Logged) -> None:
        st, op, ns, items = self.state, entry.op, entry.namespace, entry.items
        if op == "k":
            self.redis.delete([st.rkey(ns, k) for k in items], self._announce(op, ns, items))
        elif op == "t":
            self._bump(items, self._announce(op, "", items))
        elif op == "p":
            for pattern in items:
                self.redis.scan_delete(_plan.key_pattern(st.prefix, ns, pattern))
            self._publish(op, ns, items)
        else:  # "n" one namespace, "a" everything (maybe the collapse of an overflow)
            where = _plan.namespace_pattern(st.prefix, None if op == "a" else ns)
            self.redis.scan_delete(where)
            st.apply(_plan.Message(st.origin, op, ns, ()))  # L1 too: it forgot the keys
            self._publish(op, ns, ())
        if op != "t":  # a bump logs itself
            self._changed([changelog.entry_op(op, ns, items)])

    def _replay_quietly(self) -> None:
        """The subscriber's replay once Redis is back (a failure leaves it to the next call).
        Its subscription answering is news the breaker has not heard: without closing it,
        the replay would wait out the breaker's recovery time while other processes, whose
        breakers stayed closed, read from Redis what the log should have removed."""
        self.redis.breaker.success()
        try:
            self._replay()
        except Exception as exc:  # noqa: BLE001 - background work: report, never raise
            logger.warning("stratacache: replaying skipped invalidations failed: %s", type(exc))

    def _announce(self, op: str, namespace: str, items: Iterable[str]) -> Announce | None:
        """The message a change sends (None without coherence), for the same round trip."""
        if self.state.options.coherence is None:
            return None
        return self.state.channel, self.state.message(op, namespace, items)

    def _presence(self) -> bytes:
        """Our presence channel (`plan.presence`; the origin changes in a forked child)."""
        origin = self.state.origin
        if self._presence_of[0] != origin:
            self._presence_of = (origin, _plan.presence(self.state.channel, origin))
        return self._presence_of[1]

    def _publish(self, op: str, namespace: str, items: Iterable[str]) -> None:
        if self.state.options.coherence is not None:
            self.redis.publish(self.state.channel, self.state.message(op, namespace, items))

    # Loads (the decorator's miss path) -------------------------------------------------------
    def load(self, namespace: str, key: str, request: Load) -> Any:
        """A cached function's miss: Redis, else the function (once per cluster with a lock)."""
        generation = self.state.generation
        mark = _plan.LEASE_PREFIX + secrets.token_bytes(12)
        value, refresh, seen = self._read(
            namespace, key, allow_stale=self.state.stale_ttl > 0, lease=mark
        )
        if value is not MISS:
            if refresh:
                self._refresh_later(namespace, key, request, seen)
            return value
        own = hashlib.sha1(mark, usedforsecurity=False).hexdigest() == seen
        lease = mark if own else None
        return self._compute(namespace, key, request, seen, generation, lease=lease)

    def _compute(
        self,
        namespace: str,
        key: str,
        request: Load,
        seen: str | None,
        generation: int,
        *,
        lease: bytes | None = None,
    ) -> Any:
        """Runs the loader; its fill is stored only if the key still holds `seen` (see
        `_fill`), and in L1 only if no invalidation arrived since `generation`. `lease`: the
        lease this load took, released when the result is not to be stored."""
        compute, ttl, tags, unless = request[:4]
        versions = self.tag_versions(namespace, tags)  # before the load: a bump during it wins
        token = self._lock(namespace, key)
        try:
            if token is not None:  # another process may have loaded it before or meanwhile
                value, _ = self.read(namespace, key)
                if value is not MISS:
                    return value
            started = time.perf_counter()
            value = self._resolve(compute())
            spent_us = int((time.perf_counter() - started) * 1e6)
            if self._keeps(namespace, key, unless, value, lease):
                # Redis did not answer: L1 only
                stored: bytes | bool | None = versions is None or seen is None
                if not stored:
                    stored = self._fill(
                        namespace,
                        key,
                        value,
                        ttl=ttl,
                        tags=tags,
                        versions=versions,
                        compute_us=spent_us,
                        seen=seen,
                    )
                if stored and generation == self.state.generation:
                    envelope = stored if isinstance(stored, bytes) else None
                    ttl = self.state.resolve_ttl(ttl)
                    self.state.l1_store(namespace, key, value, ttl, tags, envelope=envelope)
            return value
        finally:
            if isinstance(token, bytes):
                self._unlock(namespace, key, token)

    def _keeps(
        self, namespace: str, key: str, unless: Any, value: Any, lease: bytes | None
    ) -> bool:
        """True if a load's result is to be stored (`unless`, the decorator's filter, does not
        refuse it). Otherwise, or when the filter raises (the error propagates), the load's own
        lease is released so the key is not left marked as loading."""
        try:
            keep = unless is None or not unless(value)
        except BaseException:
            self._release_lease(namespace, key, lease)
            raise
        if not keep:
            self._release_lease(namespace, key, lease)
        return keep

    def _release_lease(self, namespace: str, key: str, lease: bytes | None) -> None:
        if lease is not None:
            with contextlib.suppress(TierDown):  # else it expires on its own
                rkey = self.state.rkey(namespace, key)
                self.redis.script(self._release_lease_script, [rkey], [lease])

    def _fill(
        self,
        namespace: str,
        key: str,
        value: Any,
        *,
        ttl: float | None,
        tags: Sequence[str],
        versions: Sequence[bytes | None] | None,
        compute_us: int,
        seen: str | None,
    ) -> bytes | None:
        """Stores a load's result in Redis if the key still holds what the load saw when it
        began (its lease, or the value it replaces): a delete or write since then refuses it,
        as in memcache's leases (Nishtala et al., NSDI 2013). Its envelope if stored."""
        st = self.state
        ttl = st.resolve_ttl(ttl)
        if ttl == 0:
            return None
        rkey, data, px = st.encode(
            namespace, key, value, ttl, tags=tags, versions=versions or (), compute_us=compute_us
        )
        channel, message = self._announce("k", namespace, [key]) or (b"", b"")
        try:
            self._ready()
            args = [seen, data, px or 0, channel, message]
            stored = int(self.redis.script(self._fill_script, [rkey], args))
        except TierDown as exc:
            st.write_failed(exc, namespace)
            return None
        if not stored:
            st.counters.fills_refused += 1
            return None
        st.counters.sets += 1
        self._changed([changelog.entry_write(namespace, key, data, px)])
        return data

    def _changed(self, entries: Sequence[list[Any]]) -> None:
        """Appends what just reached Redis to the change log (`RedisOptions.change_log`); a
        failed append is logged and counted, never raised (the change itself is done)."""
        if self._log is not None and entries:
            try:
                self.redis.eval(changelog.APPEND, [self._log.call(entries)])
            except TierDown as exc:
                self._log.failed(exc)

    def _lock(self, namespace: str, key: str) -> bytes | bool | None:
        """Our token if we took the cross-process lock; False if another holder kept it until
        the wait ran out; None when locking is off or Redis did not answer."""
        if self.lock_timeout is None:
            return None
        lkey = _plan.lock_key(self.state.prefix, self.state.rkey(namespace, key))
        token = secrets.token_bytes(16)
        px = max(1, int(self.lock_timeout * 1000))
        deadline = time.monotonic() + self.lock_timeout
        delay = 0.002
        try:
            while True:
                taken = int(self.redis.script(self._acquire_lock, [lkey], [token, px]))
                if taken:
                    self.state.repaired("lock", int(taken == 2))
                    return token
                self.state.counters.lock_waits += 1
                value, _ = self.read(namespace, key)
                if value is not MISS or time.monotonic() >= deadline:
                    return False
                self._sleep(delay)
                delay = min(delay * 2, 0.05)
        except TierDown:
            return None

    def _unlock(self, namespace: str, key: str, token: bytes) -> None:
        lkey = _plan.lock_key(self.state.prefix, self.state.rkey(namespace, key))
        with contextlib.suppress(TierDown):  # else the lock expires on its own
            self.redis.release(lkey, token)

    def _refresh_later(self, namespace: str, key: str, request: Load, seen: str | None) -> None:
        """One background reload per key at a time (stale-while-revalidate, XFetch)."""
        rkey = self.state.rkey(namespace, key)
        if rkey in self._refreshing:
            return
        self._refreshing.add(rkey)
        self.state.counters.refreshes += 1
        generation = self.state.generation

        def run() -> None:
            try:
                self._compute(namespace, key, request, seen, generation)
            except Exception:  # noqa: BLE001 - a failed refresh leaves the old value in place
                self.state.counters.refresh_errors += 1
            finally:
                self._refreshing.discard(rkey)

        self._spawn(run)

    def refresh(self, namespace: str, key: str, request: Load) -> bool:
        """A refresh-ahead reload (`stratacache._refresh_ahead`), awaited by its caller: the
        loader runs while the key still holds a value, one reload per key at a time (shared
        with `_refresh_later`). The fill is refused if the key is deleted or rewritten
        meanwhile (`_fill`), and L1 is not filled after an invalidation (the generation).
        False when skipped: a reload is running, or the key holds nothing (expired or
        invalidated: never resurrected). A loader exception propagates; the old value stays."""
        rkey = self.state.rkey(namespace, key)
        if rkey in self._refreshing:
            return False
        self._refreshing.add(rkey)
        try:
            generation = self.state.generation
            mark = _plan.LEASE_PREFIX + secrets.token_bytes(12)
            value, _, seen = self._read(namespace, key, allow_stale=False, lease=mark)
            if value is MISS:
                if hashlib.sha1(mark, usedforsecurity=False).hexdigest() == seen:
                    self._release_lease(namespace, key, mark)
                return False
            self._compute(namespace, key, request, seen, generation)
            return True
        finally:
            self._refreshing.discard(rkey)

    def close(self) -> None:
        self._drain()
        self.redis.close()


if TYPE_CHECKING:  # mypy proves the link speaks the interface the caches call
    _checked: type[Driver] = SyncTiered
