"""Cache and AsyncCache: the public cache objects, an in-process L1 and an optional Redis L2.

Both wrap the same C++ store and share every decision (`_base.CacheBase`, `_tiered`);
AsyncCache (in `_async_cache`, re-exported here) has the same methods as coroutines, so that
callers switch classes by adding `await` (the L1 call itself never blocks), and its Redis
calls are awaited and auto-pipelined.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ._async_cache import AsyncCache
from ._base import CacheBase, Getter, Setter, builtin_entry, path_or_none
from ._deps import check_depends_on, link_local, walk_local
from ._options import TTL, check_namespace, check_text, check_ttl, require_type
from .tiers.chain import MISS, check_items, check_tags
from .tiers.local import LocalDriver, tags_need_tier

# The Redis tier's, the health check's, the warmer's and the recommender's modules load where
# they are used (issue 17: an L1-only Cache loads none of them).
if TYPE_CHECKING:
    import os

    from typing_extensions import Self

    from ._recommend import Recommendations
    from ._warm import WarmReport
    from .backup import BackupInfo, RestoreInfo
    from .health import Health
    from .mrc import MissRatioCurve
    from .stats import AwaitableCacheStats, CacheStats
    from .tiers.redis.driver_sync import SyncTiered

__all__ = ["AsyncCache", "AwaitableCacheStats", "Cache"]


def __getattr__(name: str) -> Any:
    if name == "AwaitableCacheStats":  # lives in stats, which an L1-only cache never loads
        from .stats import AwaitableCacheStats  # noqa: PLC0415

        return AwaitableCacheStats
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)


class Cache(CacheBase):
    """A cache for synchronous code.

    Args:
        max_entries: most entries held (default 100,000 when max_bytes is not given either).
        max_bytes: most bytes held, values weighed as described in `stratacache._weigh`.
        policy: eviction policy, one of `stratacache.POLICIES` (default: the best on the
            benchmark traces, `stratacache.DEFAULT_POLICY`).
        default_ttl: seconds an entry lives when a set gives no ttl; None = no expiry.
        namespace: prefix isolating this cache's keys; `clear(namespace=...)` drops one.
        strict: raise ValueTooLargeError for a value heavier than a shard's byte budget
            instead of counting it in `stats().rejected`.
        shards: number of lock shards (a power of two; 0 picks one from the capacity). One by
            default: every call holds the GIL, so more shards add no concurrency, and with one
            shard the bound is exact and the hit ratio is the one `simulate` reports.
        weigher: function value -> bytes replacing the default estimate.
        redis: adds a shared L2 on Redis: a URL (``redis://``, ``rediss://``,
            ``redis+sentinel://h:p,h:p/service``, ``redis+cluster://h:p,h:p``) or a redis-py
            client (``redis.Redis``/``RedisCluster``; asyncio ones for AsyncCache).
        redis_options: timeouts, pool size, retries, breaker, key prefix, coherence mode and
            fail-open policy (`stratacache.RedisOptions`); URL query parameters override it.
        codec: how values are encoded for Redis (default ``stratacache.Codec()``: msgpack, lz4).
        l1: False keeps nothing in process (every read goes to Redis).
        stale_ttl: seconds a value may be served past its TTL by a cached function while one
            background call refreshes it (stale-while-revalidate); None/0 = never.
        early_refresh: XFetch's beta (e.g. 1.0): a cached function's hot entries are
            refreshed in the background shortly before they expire; None = off.
        lock_timeout: seconds a cached function's miss waits for another process that loads
            the same key (one Redis lock per key); None = no cross-process lock.
        stale_if_error: seconds L1 keeps serving what it holds while coherence with Redis
            is lost (RFC 5861's stale-if-error), instead of being flushed at once; L1 is still
            flushed when coherence returns. None = strict: flushed when it is lost.
        record: records a sample of the L1 accesses (get hits and misses, sets, deletes) for
            `export_trace` and `miss_ratio_curve`: the share of keys sampled, in (0, 1], each
            sampled key with all its accesses; None = off (the hot path then pays one branch).
        record_capacity: the most recent records kept (default 2**18, 32 bytes each; rounded
            up to a power of two); older ones are overwritten.
        disk: adds a persistent tier on local disk below L1, shared by every process of the
            host that opens the same directory: a path, or `stratacache.DiskOptions` for its
            byte bound and durability. L1 misses read it and keep what they find for the TTL
            it has left; writes and invalidations (key, pattern, namespace) reach it; values
            go through `codec`. With redis= the chain is L1 -> disk -> Redis: Redis hits
            backfill the disk, tag invalidations and other processes' messages reach it, and
            a disk copy is checked like a Redis value (tag versions, skipped invalidations,
            recovery grace); it is not read while coherence is degraded, and is cleared when
            a live subscription drops. Needs l1=True.
        timing: the fraction of calls, in (0, 1], whose latency goes into the per-tier,
            per-operation histograms of `stats().latency` (L1 get/set/delete, Redis commands);
            None = off, and the L1 hot path then pays one branch. 1/64 costs a few ns per call.
        events: True publishes the cache's own events (set, delete, invalidate, evict,
            tier_down, tier_up) to the other processes (`cache.events`); needs redis=. Off,
            they reach this process's subscribers only, and cost nothing while nobody
            subscribes; application events (`cache.events.emit`) go out either way.
        predictor: True or `stratacache.PredictorOptions`: a sample of the keys (by hash, as
            record= does; the two share one recorder and rate) feeds an access model trained
            off the request path, which ranks keys for `hot_keys` and `warm`, and with Redis
            publishes each namespace's hot set for new processes to warm from. None = off.
        dependency_limit: most dependents (``set(..., depends_on=...)``) one key may have,
            and most one delete invalidates transitively (default 10,000; see `set`). 0
            turns dependencies off: deletes skip the walk (with Redis, a small script per
            delete) and depends_on= raises ConfigError. Every process sharing a Redis tier
            must agree: a process with 0 does not delete what depends on its deletes.

    Raises:
        ConfigError: a bound is zero or negative, the policy is unknown, a Redis option is
            invalid, record is outside (0, 1], or record_capacity is given without record;
            the disk directory is unusable (see `DiskOptions`), or disk= and redis= come
            with l1=False.
        DiskError: the disk tier's store file is damaged or truncated.
        RedisAuthError: Redis refused the credentials or a permission the cache needs.
        TierUnavailableError: Redis is unreachable and fail_open is off.
        InvalidTTLError: default_ttl is negative.
        TypeError: an argument has the wrong type.
    """

    _driver: SyncTiered | LocalDriver

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._entry_points = self._local_entry_points
        super().__init__(*args, **kwargs)
        # The hit path is the C callable itself: no Python frame between caller and engine,
        # and a builtin function, which CPython calls straight from the call site.
        self._get, self._public_set = self._entry_points()
        self.__dict__["get"] = builtin_entry(self._get)
        self.__dict__["set"] = builtin_entry(self._public_set)
        self._start_events()  # reports this set's writes too, when set events are wanted

    def _local_entry_points(self) -> tuple[Getter, Setter]:
        """get and set of an L1-only cache: the C getter, and a setter refusing tags."""
        # A call with tags= reaches the fallback, which raises the documented ConfigError.
        # Without self: no cycle through the setter.
        link = functools.partial(link_local, self._deps, self._store, self.namespace)
        fallback = functools.partial(_set_without_tier, self._set, link)
        if self._weigher is not None:
            return self._get, fallback
        return self._get, self._store.setter(self._prefix, self._default_ttl, fallback)

    def _tiered_entry_points(self) -> tuple[Getter, Setter]:
        """get and set of a tiered cache: L1 misses read the tier; set takes tags=."""
        driver: Any = self._driver
        return self._store.getter(self._prefix, _l2_reader(driver, self.namespace)), self._set

    def _make_driver(self, parts: Any, lock_timeout: float | None) -> None:
        from .tiers.redis.driver_sync import SyncTiered  # noqa: PLC0415
        from .tiers.redis.executor_sync import SyncRedisTier  # noqa: PLC0415

        assert self._tier is not None
        redis = SyncRedisTier(parts.client, parts.options, self._tier.counters)
        self._driver = SyncTiered(self._tier, redis, lock_timeout)
        from .tiers.redis.deps import RedisGraph  # noqa: PLC0415

        self._graph = RedisGraph(redis, self._tier, self._deps)
        self._entry_points = self._tiered_entry_points

    def _disk_driver(self, sync: Any) -> Any:
        self._entry_points = self._tiered_entry_points
        return sync

    def _tier_setter(self, namespace: str) -> Setter:
        driver: Any = self._driver

        def set_tiered(
            key: str,
            value: Any,
            ttl: TTL = None,
            *,
            tags: Iterable[str] | None = None,
            depends_on: Iterable[str] | None = None,
        ) -> None:
            self._check_key(key)
            ttl, tags = check_ttl(ttl), check_tags(tags)
            on = () if depends_on is None else check_depends_on(depends_on)
            if on and not self._link(namespace, key, on, ttl):
                driver.delete(namespace, [key])  # not cached: nor may an older value stay
                return
            driver.write(namespace, key, value, ttl, tags=tags)

        return set_tiered

    def _delete(self, namespace: str, key: str) -> bool:
        # A tiered driver deletes from L1 and Redis and publishes the message other processes drop.
        ns = check_namespace(namespace)
        return bool(self._delete_keys(ns, [self._check_key(key)]))

    def _delete_keys(self, namespace: str, keys: list[str]) -> int:
        """Deletes `keys` and what depends on them, transitively (`stratacache._deps`)."""
        if self._tier is None:
            return int(self._driver.delete(namespace, walk_local(self._deps, namespace, keys)))
        return self._graph.delete_sync(self._driver, namespace, keys)

    def _link(self, namespace: str, key: str, on: Sequence[str], ttl: float | None) -> bool:
        """Records `key` as a dependent of `on` before it is written; False if refused."""
        if self._tier is None:
            return link_local(self._deps, self._store, namespace, key, on)
        from .tiers.redis.plan import redis_ttl_ms  # noqa: PLC0415

        px = redis_ttl_ms(self._tier.resolve_ttl(ttl), self._tier.stale_ttl)
        return self._graph.link_sync(namespace, key, on, px)

    def _drop_pattern(self, namespace: str, pattern: str) -> None:
        # A tiered driver SCAN-deletes in Redis and publishes the pattern to every process.
        self._driver.invalidate_pattern(check_namespace(namespace), pattern)

    def get(self, key: str, default: Any = None) -> Any:
        """The value stored under `key`, or `default` when there is none.

        A stored None is returned as None (use `contains` to tell it from a miss). With a
        Redis tier, an L1 miss reads Redis and keeps what it finds in L1 for the TTL it has
        left; an undecodable value or an unreachable Redis is a miss (counted in stats().l2).

        Raises:
            TypeError: key is not a str.
            ValueError: key holds a lone surrogate (the message names its index); every
                method taking keys raises the same.
            TierUnavailableError: Redis is unreachable and fail_open is off.
        """
        return self._get(key, default)

    def set(
        self,
        key: str,
        value: Any,
        ttl: TTL = None,
        *,
        tags: Iterable[str] | None = None,
        depends_on: Iterable[str] | None = None,
    ) -> None:
        """Stores `value` under `key` (in L1, and encoded once into Redis when there is one).

        Args:
            key: the key.
            value: any object; L1 keeps a reference, it does not copy.
            ttl: seconds to live (or a datetime.timedelta; every TTL argument takes one);
                None = the cache's default_ttl; math.inf = never expires;
                0 = expires at once (nothing is stored and an older value is removed).
            tags: names the entry can be invalidated by (`invalidate_tags`); Redis tier only.
            depends_on: keys (of this namespace) the value depends on: deleting or
                invalidating one of them (`delete`, `delete_many`, a cached function's
                ``invalidate``) deletes this key too, and what depends on it, in every
                process. The edges are recorded before the value is written, in Redis with
                a Redis tier (in the dependency's hash slot, with this value's TTL), else in
                memory. A key with ``dependency_limit`` dependents refuses more: the value
                is then not cached (any older value is deleted), counted in
                ``stats().dependency_links_refused`` and logged.

        Raises:
            TypeError: key is not a str, ttl is not a number, depends_on is not an iterable
                of str, or (Redis tier) the codec cannot serialize the value.
            InvalidTTLError: ttl is negative, NaN, or finite and above 1e15 seconds.
            ValueError: key holds a lone surrogate (the message names its index).
            ValueTooLargeError: in strict mode, the value outweighs the byte budget.
            ConfigError: tags given to a cache without a Redis tier, or a tag is invalid.
        """
        # The instance's own set (the C setter, or the tier's) is what callers reach; this
        # runs only when called through the class.
        self._public_set(key, value, ttl, tags=tags, depends_on=depends_on)

    def delete(self, key: str) -> bool:
        """Removes `key` (from every tier) and, transitively, the keys that depend on it (see
        `set`; at most ``dependency_limit`` of them); True if a live value was removed."""
        return bool(self._delete_keys(self.namespace, [self._check_key(key)]))

    def get_many(self, keys: Iterable[str]) -> dict[str, Any]:
        """The stored values of `keys`, as a dict holding only the keys found."""
        keys = list(keys)
        found = self._get_many(keys)
        if len(found) < len(keys):
            missing = [k for k in keys if k not in found]
            found |= self._driver.read_many(self.namespace, missing)
        return found

    def set_many(self, items: Mapping[str, Any], ttl: TTL = None) -> None:
        """Stores every key/value pair of `items` with the same ttl (see `set`)."""
        items = check_items(items)
        for key in items:
            self._check_key(key)
        self._driver.write_many(self.namespace, items, check_ttl(ttl))

    def delete_many(self, keys: Iterable[str]) -> int:
        """Removes `keys` and what depends on them (see `delete`); returns how many live
        values were removed, dependents included."""
        return self._delete_keys(self.namespace, [self._check_key(k) for k in keys])

    def contains(self, key: str) -> bool:
        """True if a live value (possibly None) is stored under `key`; not counted as a hit."""
        if self._store.contains(self._prefix, key):
            return True
        return self._driver.read(self.namespace, key)[0] is not MISS

    def ttl(self, key: str) -> float | None:
        """Seconds `key` has left: math.inf if it never expires, None if it is missing (L1's
        view, else Redis's when there is a tier)."""
        remaining: float | None = self._store.ttl(self._prefix, key)
        if remaining is None:
            remaining = self._driver.remaining(self.namespace, self._check_key(key))
        return remaining

    def touch(self, key: str, ttl: TTL = None) -> bool:
        """Restarts the TTL of `key` (None = default_ttl; 0 removes it), in Redis too when
        there is a tier (a compare-and-set of its envelope); False if the key is missing."""
        return bool(self._driver.touch(self.namespace, self._check_key(key), check_ttl(ttl)))

    def add(self, key: str, value: Any, ttl: TTL = None) -> bool:
        """Stores `value` only if `key` holds no live value; True if it did.

        Atomic across processes with a Redis tier (SET NX, or a compare-and-set over an
        expired value); L1-only, atomic against other add/incr calls (a lock), while a plain
        `set` racing it may be overwritten. ttl as in `set` (0: nothing is kept).

        Raises:
            TypeError, ValueError, InvalidTTLError: as `set`.
            TierUnavailableError: Redis is unreachable and fail_open is off.
        """
        key = self._check_key(key)
        return bool(self._driver.add(self.namespace, key, value, check_ttl(ttl)))

    def incr(self, key: str, delta: int = 1) -> int:
        """Adds `delta` (may be negative) to the int stored under `key`, keeping its TTL;
        returns the new value. Atomic as `add` is (Redis: optimistic compare-and-set).

        Raises:
            KeyError: no live value under `key`.
            TypeError: delta or the stored value is not an int.
            TierUnavailableError: Redis is unreachable and fail_open is off.
        """
        key = self._check_key(key)
        require_type(delta, int, "delta", "an int")
        return int(self._driver.incr(self.namespace, key, delta))

    def clear(self, namespace: str | None = None) -> int:
        """Removes every entry (namespace None: every namespace, and with a Redis tier every
        key under its key prefix) or those of one namespace; returns how many were removed."""
        return int(self._driver.clear(None if namespace is None else check_namespace(namespace)))

    def invalidate_tags(self, *tags: str) -> None:
        """Invalidates every entry written with any of `tags`, in every process (one INCR per
        tag and one message). Raises ConfigError without a Redis tier."""
        self._driver.invalidate_tags(self.namespace, check_tags(tags))

    def invalidate_pattern(self, pattern: str, namespace: str | None = None) -> int:
        """Deletes the keys of `namespace` (default: the cache's) matching the Redis glob
        `pattern` (``*``, ``?``, ``[a-z]``), with SCAN on every primary and in every process's
        L1; returns how many Redis keys were deleted."""
        ns = self.namespace if namespace is None else check_namespace(namespace)
        require_type(pattern, str, "pattern", "a str")
        return int(self._driver.invalidate_pattern(ns, pattern))

    def backup(
        self,
        path: str | os.PathLike[str],
        namespaces: Iterable[str] | None = None,
        incremental_from: str | os.PathLike[str] | None = None,
        **options: Any,
    ) -> BackupInfo:
        """Writes what the Redis tier or the disk tier holds to the file `path`
        (`stratacache.backup`).

        Args:
            path: the backup file (written as ``<path>.partial``, renamed when complete).
            namespaces: only these namespaces (tag versions are always saved); None: all.
            incremental_from: a backup to follow: only the changes since it are saved (Redis:
                needs ``RedisOptions(change_log=True)`` since before that backup; disk: the
                entries written since it, not what was deleted or evicted since).
            options: ``encrypt`` (True: the cache's codec, or a Codec with encryption_keys),
                ``compression`` ("lz4", "zstd" or None), ``progress`` (a callable).

        Raises:
            ConfigError: the cache has no Redis or disk tier, or the codec does not encrypt.
            BackupError: the base backup is unreadable or of another tier, the change log
                lost entries, or the disk store is not the one the base backup read.
        """
        from pathlib import Path  # noqa: PLC0415

        from .backup import backup_cache  # noqa: PLC0415 - only backups need it

        return backup_cache(self, Path(path), namespaces, path_or_none(incremental_from), **options)

    def restore(self, path: str | os.PathLike[str], at: Any = None, **options: Any) -> RestoreInfo:
        """Restores a backup (and the backups it follows) into the Redis or disk tier,
        announcing what it overwrites: with Redis every process drops those keys from L1,
        with a disk tier this process does (other processes' L1 copies live out their TTL).

        Args:
            path: the backup file.
            at: restore the state at this time (unix seconds or an aware datetime), replaying
                the change log up to it (Redis only); None: the newest state the backups hold.
            options: ``codec`` (for an encrypted backup; default the cache's), ``progress``.

        Raises:
            BackupError: a file of the chain is missing, truncated, corrupted, sealed with
                another key or of another tier: nothing is restored.
            ValueError: `at` is outside what the backups cover.
            ConfigError: `at` given for a disk tier.
        """
        from pathlib import Path  # noqa: PLC0415

        from .backup import restore_cache  # noqa: PLC0415

        return restore_cache(self, Path(path), at, **options)

    def stats(self) -> CacheStats:
        """A snapshot of the counters (L1, and the Redis tier's under `.l2`)."""
        return self._stats()

    def health(self) -> Health:
        """Per-tier health: L1; Redis (one PING's round trip, breaker, coherence); the tiers
        that registered a check (disk). Blocks for at most the Redis socket timeout.

        Returns:
            A Health; `healthy` is False while a tier is down.
        """
        from .health import compose, ping_round_trip  # noqa: PLC0415

        redis = None
        if self._tier is not None:
            redis = ping_round_trip(self._driver.redis.client.ping)  # type: ignore[union-attr]
        return compose(self._stats(), redis, self._health_checks)

    def export_trace(self, path: str | os.PathLike[str]) -> int:
        """Writes the recorded accesses to `path` as a gzip trace; returns how many records.

        The format is described in `stratacache._recording` and the README; `simulate` and
        `miss_ratio_curve(path)` read it (its reads are the requests). Runs without the GIL.

        Raises:
            ConfigError: the cache was created without record=.
            TraceIOError: the file cannot be written.
            TypeError: path is not a str or os.PathLike.
        """
        return self._export_trace(path)

    def miss_ratio_curve(
        self, policy: str = "lru", sizes: Iterable[int] | None = None
    ) -> MissRatioCurve:
        """The miss-ratio curve of the recorded reads: the miss ratio `policy` would have had
        on them at each cache size (in entries of the whole cache).

        The recorded keys are a rate-R sample (`record=R`) with all their reads, replayed
        exactly; a cache of S entries is modelled by one of S * R entries of the sample, as in
        SHARDS and miniature simulation, so sizes below about 32 / R are coarse. `requests` and
        `distinct_keys` are estimated from the sample. Covers the reads still in the ring.

        Args:
            policy: one of `stratacache.POLICIES`, or "opt".
            sizes: cache sizes in entries (ints > 0). None: about 40 sizes from 1 / R to the
                estimated number of distinct keys.

        Returns:
            The curve; empty (no points) when no read was recorded yet.

        Raises:
            ConfigError: the cache was created without record=, the policy is unknown, or a
                size is <= 0.
            TypeError: an argument has the wrong type.
        """
        return self._miss_ratio_curve(policy, sizes)

    def recommendations(
        self, target_hit_ratio: float = 0.9, max_stale: float = 0.01
    ) -> Recommendations:
        """Per namespace: the TTL in force, the TTL the AutoTTL estimator recommends (also for
        fixed-TTL namespaces, within `max_stale`), its predicted hit ratio and stale share;
        and the L1 size the live miss-ratio curve needs for `target_hit_ratio`. Needs
        `record=` or `default_ttl=AutoTTL(...)`. See `stratacache.Recommendations`.

        Raises:
            TypeError: an argument is not a number.
            ConfigError: an argument outside (0, 1), or the cache records nothing.
        """
        from ._recommend import recommendations  # noqa: PLC0415

        return recommendations(self, target_hit_ratio, max_stale)

    def hot_keys(self, n: int = 10, namespace: str | None = None) -> list[tuple[str, float]]:
        """The keys most likely to be read within the predictor's horizon, best first.

        Keys are ranked by the reads expected within the horizon (the model's probability of
        a read times the reads a key's mean gap gives, once read), so that warming them earns
        the most hits; each comes with its probability. Only keys in the predictor's sample (`PredictorOptions.sample_rate`) are ranked.

        Args:
            n: most keys returned (>= 1).
            namespace: whose keys; None: the cache's namespace.

        Returns:
            (key, probability of a read within the horizon) pairs.

        Raises:
            ConfigError: the predictor is off, or n < 1.
            TypeError: an argument has the wrong type.
        """
        return self._hot_keys(n, namespace)

    def warm(
        self, n: int | None = None, namespace: str | None = None, timeout: float | None = None
    ) -> WarmReport:
        """Fills L1 from the lower tier (Redis or disk) with the predicted hot keys.

        The keys are this process's predicted hot set or, when its model ranks none yet, the
        hot set its peers published to Redis; those L1 lacks are read in batches (one MGET
        each) and kept in L1 for the TTL they have left. Keys found nowhere are skipped.
        Called before the cache's invalidation subscription is up (just after the cache was
        built), it first waits for it, up to a second within `timeout`: the subscription's
        coming up flushes L1, which would drop what a warm loaded before it.

        Args:
            n: most keys to warm; None: `PredictorOptions.publish_keys` (1000 without one).
            namespace: whose keys; None: the cache's namespace.
            timeout: seconds after which no further batch is read; None: no bound.

        Returns:
            A `WarmReport` (keys warmed, their bytes, seconds, where the list came from).

        Raises:
            ConfigError: n < 1 or timeout <= 0.
            TypeError: an argument has the wrong type.
        """
        from ._warm import warm_sync  # noqa: PLC0415

        return warm_sync(self, n, namespace, timeout)

    def close(self) -> None:
        """Ends the event subscriptions, stops the predictor's thread and the invalidation
        subscriber, and closes the Redis connections."""
        self._close_events()
        if self._predictor is not None:
            self._predictor.stop()
        if self._autottl is not None:
            self._autottl.stop()
        if self._subscriber is not None:
            self._subscriber.stop()
        self._driver.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _set_without_tier(
    setter: Setter,
    link: Callable[[str, Sequence[str]], bool],
    key: str,
    value: Any,
    ttl: TTL = None,
    *,
    tags: Any = None,
    depends_on: Iterable[str] | None = None,
) -> None:
    """Cache.set of an L1-only cache called with keywords the C setter does not take."""
    if tags is not None:
        tags_need_tier()
    ttl = check_ttl(ttl)
    if depends_on is not None:
        require_type(key, str, "cache key", "str")
        check_text(key)
        on = check_depends_on(depends_on)
        if on and not link(key, on):
            return  # refused: not cached (see Cache.set)
    setter(key, value, ttl)


def _l2_reader(driver: SyncTiered, namespace: str) -> Callable[[str, Any], Any]:
    """The on-miss hook of Cache.get: Redis, then `default` (holds no reference to the cache)."""

    def read(key: str, default: Any) -> Any:
        value, _ = driver.read(namespace, key)
        return default if value is MISS else value

    return read
