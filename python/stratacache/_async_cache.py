"""AsyncCache: `Cache`'s arguments and methods, as coroutines (re-exported by `caches`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from ._base import _MISS, CacheBase, Setter, path_or_none
from ._deps import check_depends_on, link_local, walk_local
from ._options import TTL, check_namespace, check_ttl, require_type
from .tiers.chain import MISS, check_items, check_tags
from .tiers.local import AsyncLocalDriver, LocalDriver

# The Redis tier's, the health check's, the warmer's and the recommender's modules load where
# they are used (issue 17: an L1-only AsyncCache loads none of them).
if TYPE_CHECKING:
    import os

    from typing_extensions import Self

    from ._recommend import Recommendations
    from ._warm import WarmReport
    from .backup import BackupInfo, RestoreInfo
    from .events import AsyncEventBroker
    from .health import Health
    from .mrc import MissRatioCurve
    from .stats import AwaitableCacheStats
    from .tiers.redis.driver_async import AsyncTiered

__all__ = ["AsyncCache"]

_P = ParamSpec("_P")
_T = TypeVar("_T")


class AsyncCache(CacheBase):
    """A cache for asyncio code: the same arguments and methods as `Cache`, awaited.

    With a Redis tier, concurrent L1 misses of one event-loop turn leave together (MGETs on
    one pipelined connection; a lone miss is written at once). With
    disk= too (L1 -> disk -> Redis), disk reads and writes run on the loop: LMDB reads are
    microseconds; with durability="sync" each write's fsync blocks the loop (L1 + disk alone
    sends those writes to a thread).
    """

    _driver: AsyncTiered | AsyncLocalDriver
    _asyncio = True
    events: AsyncEventBroker

    def _local_driver(self, local: LocalDriver) -> AsyncLocalDriver:
        return AsyncLocalDriver(local)

    def _make_driver(self, parts: Any, lock_timeout: float | None) -> None:
        from .tiers.redis.driver_async import AsyncTiered  # noqa: PLC0415
        from .tiers.redis.executor_async import AsyncRedisTier  # noqa: PLC0415

        assert self._tier is not None
        redis = AsyncRedisTier(
            parts.client, parts.options, self._tier.counters, parts.ready, parts.target
        )
        self._driver = AsyncTiered(self._tier, redis, lock_timeout)
        from .tiers.redis.deps import RedisGraph  # noqa: PLC0415

        self._graph = RedisGraph(redis, self._tier, self._deps)

    def _disk_driver(self, sync: Any) -> Any:
        from .tiers.disk.driver import AsyncDiskDriver  # noqa: PLC0415

        return AsyncDiskDriver(sync)

    def _tier_setter(self, namespace: str) -> Setter:
        tier = self._tier
        if tier is None:  # the disk tier: its sync calls serve this hook as they are
            disk: Any = self._driver

            def set_both(key: str, value: Any, ttl: float | None = None) -> None:
                self._check_key(key)
                disk.sync.write(namespace, key, value, check_ttl(ttl))

            return set_both

        def set_l1_only(key: str, value: Any, ttl: float | None = None) -> None:
            # Sync hook for code that cannot await (never used by AsyncCache's own paths).
            self._check_key(key)
            tier.l1_store(namespace, key, value, tier.resolve_ttl(check_ttl(ttl)))

        return set_l1_only

    async def _delete_async(self, namespace: str, key: str) -> bool:
        ns = check_namespace(namespace)
        return bool(await self._delete_keys_async(ns, [self._check_key(key)]))

    async def _delete_keys_async(self, namespace: str, keys: list[str]) -> int:
        """See `Cache._delete_keys`."""
        if self._tier is None:
            keys = walk_local(self._deps, namespace, keys)
            return int(await self._driver.delete(namespace, keys))
        return await self._graph.delete_async(self._driver, namespace, keys)

    async def _link_async(
        self, namespace: str, key: str, on: Sequence[str], ttl: float | None
    ) -> bool:
        """See `Cache._link`."""
        if self._tier is None:
            return link_local(self._deps, self._store, namespace, key, on)
        from .tiers.redis.plan import redis_ttl_ms  # noqa: PLC0415

        px = redis_ttl_ms(self._tier.resolve_ttl(ttl), self._tier.stale_ttl)
        return await self._graph.link_async(namespace, key, on, px)

    async def _drop_pattern_async(self, namespace: str, pattern: str) -> None:
        await self._driver.invalidate_pattern(check_namespace(namespace), pattern)

    async def get(self, key: str, default: Any = None) -> Any:
        """See `Cache.get`."""
        value = self._get(key, _MISS)
        if value is not _MISS:
            return value
        if type(key) is not str or not key.isascii():  # the common key passes with no call
            self._check_key(key)
        value, _ = await self._driver.read(self.namespace, key)
        return default if value is MISS else value

    async def set(
        self,
        key: str,
        value: Any,
        ttl: TTL = None,
        *,
        tags: Iterable[str] | None = None,
        depends_on: Iterable[str] | None = None,
    ) -> None:
        """See `Cache.set`."""
        self._check_key(key)
        ttl, tags = check_ttl(ttl), check_tags(tags)
        on = () if depends_on is None else check_depends_on(depends_on)
        if on and not await self._link_async(self.namespace, key, on, ttl):
            await self._driver.delete(self.namespace, [key])  # see Cache.set
            return
        await self._driver.write(self.namespace, key, value, ttl, tags=tags)

    async def delete(self, key: str) -> bool:
        """See `Cache.delete`."""
        return bool(await self._delete_keys_async(self.namespace, [self._check_key(key)]))

    async def get_many(self, keys: Iterable[str]) -> dict[str, Any]:
        """See `Cache.get_many`."""
        keys = list(keys)
        found = self._get_many(keys)
        if len(found) < len(keys):
            missing = [k for k in keys if k not in found]
            found |= await self._driver.read_many(self.namespace, missing)
        return found

    async def set_many(self, items: Mapping[str, Any], ttl: TTL = None) -> None:
        """See `Cache.set_many`."""
        items = check_items(items)
        for key in items:
            self._check_key(key)
        await self._driver.write_many(self.namespace, items, check_ttl(ttl))

    async def delete_many(self, keys: Iterable[str]) -> int:
        """See `Cache.delete_many`."""
        keys = [self._check_key(k) for k in keys]
        return await self._delete_keys_async(self.namespace, keys)

    async def contains(self, key: str) -> bool:
        """See `Cache.contains`."""
        if self._store.contains(self._prefix, key):
            return True
        return (await self._driver.read(self.namespace, key))[0] is not MISS

    async def ttl(self, key: str) -> float | None:
        """See `Cache.ttl`."""
        remaining: float | None = self._store.ttl(self._prefix, key)
        if remaining is None:
            remaining = await self._driver.remaining(self.namespace, self._check_key(key))
        return remaining

    async def touch(self, key: str, ttl: TTL = None) -> bool:
        """See `Cache.touch`."""
        return bool(await self._driver.touch(self.namespace, self._check_key(key), check_ttl(ttl)))

    async def add(self, key: str, value: Any, ttl: TTL = None) -> bool:
        """See `Cache.add`."""
        key = self._check_key(key)
        return bool(await self._driver.add(self.namespace, key, value, check_ttl(ttl)))

    async def incr(self, key: str, delta: int = 1) -> int:
        """See `Cache.incr`."""
        key = self._check_key(key)
        require_type(delta, int, "delta", "an int")
        return int(await self._driver.incr(self.namespace, key, delta))

    async def clear(self, namespace: str | None = None) -> int:
        """See `Cache.clear`."""
        ns = None if namespace is None else check_namespace(namespace)
        return int(await self._driver.clear(ns))

    async def invalidate_tags(self, *tags: str) -> None:
        """See `Cache.invalidate_tags`."""
        await self._driver.invalidate_tags(self.namespace, check_tags(tags))

    async def invalidate_pattern(self, pattern: str, namespace: str | None = None) -> int:
        """See `Cache.invalidate_pattern`."""
        ns = self.namespace if namespace is None else check_namespace(namespace)
        require_type(pattern, str, "pattern", "a str")
        return int(await self._driver.invalidate_pattern(ns, pattern))

    async def backup(
        self,
        path: str | os.PathLike[str],
        namespaces: Iterable[str] | None = None,
        incremental_from: str | os.PathLike[str] | None = None,
        **options: Any,
    ) -> BackupInfo:
        """See `Cache.backup` (runs on a thread: it is a batch job of many round trips)."""
        from pathlib import Path  # noqa: PLC0415

        from .backup import backup_cache  # noqa: PLC0415

        base = path_or_none(incremental_from)
        return await _to_thread(backup_cache, self, Path(path), namespaces, base, **options)

    async def restore(
        self, path: str | os.PathLike[str], at: Any = None, **options: Any
    ) -> RestoreInfo:
        """See `Cache.restore` (runs on a thread)."""
        from pathlib import Path  # noqa: PLC0415

        from .backup import restore_cache  # noqa: PLC0415

        return await _to_thread(restore_cache, self, Path(path), at, **options)

    def stats(self) -> AwaitableCacheStats:
        """See `Cache.stats`. Synchronous (L1 and the tier's counters are read in process,
        without I/O), so metric collectors may call it from any thread; the snapshot is also
        awaitable, so ``await cache.stats()`` works as it did."""
        from .stats import AwaitableCacheStats  # noqa: PLC0415

        return self._stats(AwaitableCacheStats)

    async def health(self) -> Health:
        """See `Cache.health`; the PING is awaited on this loop."""
        from .health import async_ping_round_trip, compose  # noqa: PLC0415

        redis = None
        if self._tier is not None:
            redis = await async_ping_round_trip(self._driver.redis.client.ping)  # type: ignore[union-attr]
        return compose(self._stats(), redis, self._health_checks)

    async def export_trace(self, path: str | os.PathLike[str]) -> int:
        """See `Cache.export_trace`; the file is written on a worker thread."""
        return await _to_thread(self._export_trace, path)

    async def miss_ratio_curve(
        self, policy: str = "lru", sizes: Iterable[int] | None = None
    ) -> MissRatioCurve:
        """See `Cache.miss_ratio_curve`; the replays run on a worker thread."""
        return await _to_thread(self._miss_ratio_curve, policy, sizes)

    async def recommendations(
        self, target_hit_ratio: float = 0.9, max_stale: float = 0.01
    ) -> Recommendations:
        """See `Cache.recommendations` (the recorder is read in a worker thread)."""
        from ._recommend import recommendations  # noqa: PLC0415

        return await _to_thread(recommendations, self, target_hit_ratio, max_stale)

    async def hot_keys(self, n: int = 10, namespace: str | None = None) -> list[tuple[str, float]]:
        """See `Cache.hot_keys`; the keys are scored on a worker thread."""
        return await _to_thread(self._hot_keys, n, namespace)

    async def warm(
        self, n: int | None = None, namespace: str | None = None, timeout: float | None = None
    ) -> WarmReport:
        """See `Cache.warm`."""
        from ._warm import warm_async  # noqa: PLC0415

        return await warm_async(self, n, namespace, timeout)

    async def close(self) -> None:
        """See `Cache.close`."""
        self._close_events()
        if self._predictor is not None:
            self._predictor.stop()
        if self._autottl is not None:
            self._autottl.stop()
        if self._subscriber is not None:
            self._subscriber.stop()
        await self._driver.close()
        sync = getattr(self._parts, "sync", None)  # the subscriber's and connect check's client
        if sync is not None:
            from .tiers.redis.executor_sync import close_sync_client  # noqa: PLC0415

            close_sync_client(sync)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


async def _to_thread(fn: Callable[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs) -> _T:
    """`asyncio.to_thread`, imported here: a sync-only program never loads asyncio."""
    import asyncio  # noqa: PLC0415

    return await asyncio.to_thread(fn, *args, **kwargs)
