"""What Cache and AsyncCache share: the L1 store, its hooks, validation and the tier wiring.

Everything here is synchronous: the L1 call never blocks. A cache's driver is chosen once,
here: `tiers/local.py`'s L1-only driver, or the tiered one (`tiers/redis/driver_sync.py`,
`tiers/redis/driver_async.py`) that `_attach_tier` builds; the methods call it without asking which.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable, Collection, Coroutine, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, overload

from . import _core
from ._deps import DEFAULT_LIMIT, Dependencies, link_local, walk_local
from ._options import (
    DEFAULT_MAX_ENTRIES,
    NAMESPACE_SEP,
    TTL,
    check_bound,
    check_namespace,
    check_positive,
    check_text,
    check_timing,
    check_ttl,
    is_auto_ttl,
    prefix_of,
    require_callable,
    require_type,
)
from ._recording import check_recording
from ._weigh import weigh
from .errors import ConfigError
from .tiers.chain import drop_matching
from .tiers.local import LocalDriver, tags_need_tier

# Imported where used, not here (issue 17: an L1-only `Cache()` loads no Redis, disk, predictor,
# events, stats or health module, nor pathlib; tests_py/test_imports.py checks it).
if TYPE_CHECKING:
    import os
    from pathlib import Path

    from ._autottl import AutoTTL
    from ._autottl_live import Tuner
    from ._predictor_live import LiveModel, PredictorOptions
    from ._refresh_options import RefreshAhead
    from .decorators import AsyncCachedFunction, CachedFunction, Decorator
    from .events import EventBroker
    from .health import HealthCheck
    from .mrc import MissRatioCurve
    from .stats import CacheStats, DiskTierStats, RedisTierStats
    from .tiers.redis.config import RedisOptions
    from .tiers.redis.state import TierState

__all__ = ["CacheBase", "no_tier_options", "tags_need_tier"]

P = ParamSpec("P")
R = TypeVar("R")
S = TypeVar("S", bound="CacheStats")

_MISS: Any = object()

Getter = Callable[..., Any]
Setter = Callable[..., None]


def builtin_entry(call: Callable[..., Any]) -> Callable[..., Any]:
    """A FastGet or FastSet as the same call in a builtin function, which CPython calls straight
    from the call site (`_core.builtin_call`); any other callable as it is."""
    if isinstance(call, _core.FastGet | _core.FastSet):
        return _core.builtin_call(call)
    return call


class CacheBase:
    """State and synchronous logic shared by Cache and AsyncCache."""

    _asyncio = False  # AsyncCache: its tier issues commands on a redis.asyncio client

    _driver: Any
    #: The event broker: subscribe to the cache's events and emit the application's own.
    events: EventBroker

    def __init__(
        self,
        max_entries: int | None = None,
        max_bytes: int | None = None,
        policy: str | None = None,
        default_ttl: TTL | AutoTTL = None,
        namespace: str = "",
        *,
        strict: bool = False,
        shards: int = 1,
        weigher: Callable[[Any], int] | None = None,
        redis: Any = None,
        redis_options: RedisOptions | None = None,
        codec: Any = None,
        l1: bool = True,
        stale_ttl: TTL = None,
        early_refresh: float | None = None,
        lock_timeout: TTL = None,
        stale_if_error: float | None = None,
        record: float | None = None,
        record_capacity: int | None = None,
        disk: Any = None,
        timing: float | None = None,
        events: bool = False,
        predictor: bool | PredictorOptions | None = None,
        dependency_limit: int = DEFAULT_LIMIT,
    ) -> None:
        entries = check_bound(max_entries, "max_entries")
        self._deps = Dependencies(dependency_limit)
        nbytes = check_bound(max_bytes, "max_bytes")
        if not entries and not nbytes:
            entries = DEFAULT_MAX_ENTRIES
        require_type(policy, (str, type(None)), "policy", "a str or None")
        require_callable(weigher, "weigher", "a callable taking a value and returning bytes")
        self._autottl_default, self._default_ttl = _check_auto(default_ttl)
        self.namespace = check_namespace(namespace)
        if self._autottl_default is not None:
            from ._autottl_live import record_rate  # noqa: PLC0415

            record = record_rate(self._autottl_default, record, predictor)
        predictor_options, record = _check_predictor(predictor, record)
        rate, capacity = check_recording(record, record_capacity)
        self._max_entries = entries or None  # cache_info().maxsize of its functions
        self._store = _core.Store(
            max_entries=entries,
            max_bytes=nbytes,
            policy=policy or _core.DEFAULT_POLICY,
            shards=shards,
            strict=bool(strict),
            record=rate,
            record_capacity=capacity,
            timing=check_timing(timing),
        )
        # Weighing costs a walk of the value, so it happens only when a byte bound is set.
        self._weigher = (weigher or weigh) if nbytes else None
        self._getters: dict[str, Getter] = {}
        self._setters: dict[str, Setter] = {}
        self._prefix = prefix_of(self.namespace)
        # The chain's first tier, L1; without redis= it is the whole chain. _attach_tier
        # replaces the driver, the setter factory and the L2 counters when there is a tier.
        self._local = LocalDriver(self._store, self._default_ttl, self._weigher)
        self._driver = self._local_driver(self._local)
        self._make_setter: Callable[[str], Setter] = self._local.setter
        self._l2_stats: Callable[[], RedisTierStats | None] = _no_l2
        self._disk_stats: Callable[[], DiskTierStats | None] = _no_l2
        self._disk: Any = None  # the disk tier (tiers/disk/tier.py), when there is one
        self._tier: TierState | None = None  # the tier's shared state (tests, the decorator)
        self._subscriber: Any = None
        # Health checks of tiers beyond L1 and Redis, by tier name (the disk tier adds one).
        self._health_checks: dict[str, HealthCheck] = {}
        self._parts: Any = None  # the tier's clients (_build.Parts)
        if disk is not None and redis is None:
            no_tier_options(
                codec=None,
                l1=l1,
                stale_ttl=stale_ttl,
                lock_timeout=lock_timeout,
                stale_if_error=stale_if_error,
            )
            self._attach_disk(disk, codec)
        elif redis is None:
            no_tier_options(
                codec=codec,
                l1=l1,
                stale_ttl=stale_ttl,
                lock_timeout=lock_timeout,
                stale_if_error=stale_if_error,
            )
        else:
            self._attach_tier(
                redis,
                redis_options,
                codec,
                l1=l1,
                stale_ttl=stale_ttl,
                early_refresh=early_refresh,
                lock_timeout=lock_timeout,
                stale_if_error=stale_if_error,
                disk=disk,
            )
        self._get = self._getter(self.namespace)
        self._set = self._setter(self.namespace)
        self._make_events(events)
        self._predictor = _start_predictor(self, predictor_options)
        self._autottl = _start_tuner(self, self._autottl_default)  # AutoTTL's retunes

    @property
    def policy(self) -> str:
        """Name of the eviction policy."""
        return str(self._store.policy)

    @property
    def default_ttl(self) -> float | None:
        """TTL in seconds applied when a set passes none; None means no expiry. With
        `default_ttl=AutoTTL(...)`, the TTL it currently applies to the cache's namespace."""
        return self._default_ttl

    def _apply_default_ttl(self, ttl: float) -> None:
        """AutoTTL's retune of the cache's own namespace (`_autottl_live.apply_default_ttl`)."""
        from ._autottl_live import apply_default_ttl  # noqa: PLC0415

        apply_default_ttl(self, ttl)

    # Internal hooks for decorators and tiers: plain sync calls, one per namespace.
    def _getter(self, namespace: str) -> Getter:
        getter = self._getters.get(namespace)
        if getter is None:
            getter = self._store.getter(prefix_of(check_namespace(namespace)))
            self._getters[namespace] = getter
        return getter

    def _peeker(self, namespace: str) -> Getter:
        """Like `_getter`, but counts nothing and leaves recency alone (single-flight re-checks)."""
        store, prefix = self._store, prefix_of(check_namespace(namespace))

        def peek(key: str, default: Any) -> Any:
            return store.peek(prefix, key, default)

        return peek

    def _setter(self, namespace: str) -> Setter:
        setter = self._setters.get(namespace)
        if setter is None:
            setter = self._make_setter(check_namespace(namespace))
            self._setters[namespace] = setter
        return setter

    def _local_driver(self, local: LocalDriver) -> Any:
        """The driver without lower tiers (AsyncCache's awaits the same calls)."""
        return local

    def _tier_setter(self, namespace: str) -> Setter:
        raise NotImplementedError  # Cache and AsyncCache define it

    def _tier_loader(self, namespace: str) -> Callable[..., Any] | None:
        """The decorator's miss path through the lower tiers (None when there are none)."""
        load = self._driver.load
        return None if load is None else functools.partial(load, check_namespace(namespace))

    def _attach_tier(
        self,
        redis: Any,
        redis_options: RedisOptions | None,
        codec: Any,
        *,
        l1: bool,
        stale_ttl: TTL,
        early_refresh: float | None,
        lock_timeout: TTL,
        stale_if_error: float | None = None,
        disk: Any = None,
    ) -> None:
        """Chains Redis below L1, and the disk tier between them when `disk` is given."""
        from .codec import Codec  # noqa: PLC0415 - the codec is needed only with a tier
        from .tiers.disk.options import DiskOptions  # noqa: PLC0415
        from .tiers.redis import build as _build  # noqa: PLC0415
        from .tiers.redis.state import TierState  # noqa: PLC0415

        codecs = dict(codec) if isinstance(codec, Mapping) else {None: codec}
        codecs.setdefault(None, None)
        for namespace, each in codecs.items():
            if namespace is not None:
                check_namespace(namespace)
            if each is None:
                codecs[namespace] = Codec()
            else:
                require_type(each, Codec, "codec", "a stratacache.Codec or a mapping to them")
        stale = check_ttl(stale_ttl, "stale_ttl") or 0.0
        lock_timeout = check_ttl(lock_timeout, "lock_timeout")
        stale_if_error = check_ttl(stale_if_error, "stale_if_error")
        if early_refresh is not None:
            check_positive(early_refresh, "early_refresh")
        disk_options = None
        if disk is not None:
            if not l1:
                msg = "disk= with redis= needs l1=True: the disk tier is filled through L1"
                raise ConfigError(msg)
            disk_options = DiskOptions.of(disk)  # a bad directory fails before any socket
        parts = _build.build(redis, redis_options, asyncio=self._asyncio)
        # The state backfills L1 through the L1 driver, not the cache: the subscriber thread
        # holds the state and must not keep the cache alive (its finalizer stops the thread).
        tier = self._tier = TierState(
            store=self._store,
            codec=codecs,
            options=parts.options,
            l1=bool(l1),
            default_ttl=self._default_ttl,
            stale_ttl=stale,
            early_refresh=early_refresh,
            upper=self._upper_of_redis(disk_options, codecs[None], parts.options.key_prefix),
            stale_if_error=stale_if_error or None,
        )
        if tier.upper is not self._local:  # the disk link tags what it stores with our origin
            tier.upper.origin = lambda: tier.origin  # type: ignore[attr-defined]
            if parts.sync is not None:  # and checks its own writes against Redis (tracking)
                tier.upper.current = parts.sync.mget  # type: ignore[attr-defined]
            self._watch_gap(tier, parts)
        self._make_driver(parts, lock_timeout)
        self._make_setter = self._tier_setter
        driver = self._driver
        if self._store.timing:  # the Redis commands go into the same histograms as L1
            driver.redis.record_latency = self._store.record_latency

        def l2_stats() -> RedisTierStats:
            from .stats import RedisTierStats  # noqa: PLC0415

            breaker = driver.redis.breaker
            return RedisTierStats(**tier.snapshot(breaker.state, breaker.opened))

        self._l2_stats = l2_stats
        self._parts = parts
        self._subscriber = _build.start_subscriber(self, parts, tier, tier.counters)

    def _upper_of_redis(self, options: Any, codec: Any, key_prefix: str) -> Any:
        """The link above Redis: L1, or the disk link (`tiers/disk/link.py`) above L1."""
        if options is None:
            return self._local
        from .tiers.disk.link import DiskLink  # noqa: PLC0415
        from .tiers.disk.tier import DiskTier  # noqa: PLC0415

        # The disk keeps Redis's envelopes under their Redis keys (the prefix is the root).
        tier = self._disk = DiskTier(options, codec, root=key_prefix)
        self._watch_disk(tier)
        return DiskLink(self._local, tier)

    def _watch_gap(self, tier: TierState, parts: Any) -> None:
        """The disk's heartbeat and its check at the first subscription (`tiers/disk/gap.py`:
        deletes made while no process of the host was subscribed)."""
        from .tiers.disk import gap  # noqa: PLC0415

        heart = gap.Heartbeat(self._disk)
        client, logged = parts.sync, parts.options.change_log
        tier.on_first_up = lambda: gap.catch_up(heart, client, logged)
        tier.on_tick = lambda: heart.beat(tier.origin)
        tier.on_stop = lambda: heart.beat(tier.origin, ended=True)

    def _watch_disk(self, tier: Any) -> None:
        """The disk tier's counters in `stats().disk` and its check in `health()`."""

        def disk_stats() -> DiskTierStats:
            from .stats import DiskTierStats  # noqa: PLC0415

            return DiskTierStats(**tier.stats())

        self._disk_stats = disk_stats
        self._health_checks["disk"] = tier.health

    def _make_driver(self, parts: Any, lock_timeout: float | None) -> None:
        raise NotImplementedError  # Cache and AsyncCache define it

    def _make_events(self, events: bool) -> None:
        """`self.events`, the event broker (`stratacache.events`), ended with the cache.

        With a tier, or events=True, it is built now (it hooks the tier's subscriber and
        breaker). An L1-only cache builds it on first use of ``cache.events`` (`__getattr__`),
        so a cache nobody subscribes to never loads the events package.
        """
        require_type(events, bool, "events", "a bool")
        if events and self._tier is None:
            msg = "events=True publishes cache events to other processes: it needs redis=..."
            raise ConfigError(msg)
        if events or self._tier is not None:
            self._new_broker(remote_changes=events)

    def _new_broker(self, *, remote_changes: bool) -> EventBroker:
        from .events import AsyncEventBroker, EventBroker  # noqa: PLC0415

        kind = AsyncEventBroker if self._asyncio else EventBroker
        broker = kind(self, remote_changes=remote_changes)
        self.__dict__["events"] = broker
        broker.start()
        weakref.finalize(self, broker.close)
        return broker

    def _start_events(self) -> None:
        """Starts the event broker again after the entry points changed, if there is one."""
        broker = self.__dict__.get("events")
        if broker is not None:
            broker.start()

    def _close_events(self) -> None:
        """Closes the event broker (one built now, if none was: a closed cache refuses
        subscriptions either way)."""
        broker = self.__dict__.get("events") or self._new_broker(remote_changes=False)
        broker.close()

    if not TYPE_CHECKING:  # hidden from mypy, which would accept any attribute name

        def __getattr__(self, name: str) -> Any:
            # Only for names the instance lacks: `events` of an L1-only cache, on first use.
            if name == "events" and "_store" in self.__dict__:
                return self._new_broker(remote_changes=False)
            msg = f"{type(self).__name__!r} object has no attribute {name!r}"
            raise AttributeError(msg)

    def invalidate_on(
        self,
        name: str,
        *,
        keys: Callable[[Any], Iterable[str] | None] | None = None,
        tags: Callable[[Any], Iterable[str] | None] | None = None,
    ) -> None:
        """Maps the application event `name` to invalidations: when this process emits it
        (`cache.events.emit(name, payload)`), `keys(payload)` are deleted from this cache's
        namespace and `tags(payload)` invalidated, once, before subscribers hear of the
        event; other processes drop their copies as after any delete or tag invalidation.
        Register it in every process that emits the event. See `EventBroker.invalidate_on`.

        Raises:
            TypeError: keys or tags is not callable, or name is not a str.
            ValueError: an invalid name.
            ConfigError: neither keys nor tags is given.
        """
        self.events.invalidate_on(name, keys=keys, tags=tags)

    def _attach_disk(self, disk: Any, codec: Any) -> None:
        """Chains the disk tier below L1 (`disk=`: a path or DiskOptions)."""
        from .codec import Codec  # noqa: PLC0415 - the codec is needed only with a tier
        from .tiers.disk.driver import DiskDriver  # noqa: PLC0415
        from .tiers.disk.options import DiskOptions  # noqa: PLC0415
        from .tiers.disk.tier import DiskTier  # noqa: PLC0415

        if codec is None:
            codec = Codec()
        require_type(codec, Codec, "codec", "a stratacache.Codec (one for the disk tier)")
        tier = self._disk = DiskTier(DiskOptions.of(disk), codec)
        self._driver = self._disk_driver(DiskDriver(self._local, tier, self._default_ttl))
        self._make_setter = self._tier_setter
        self._watch_disk(tier)

    def _disk_driver(self, sync: Any) -> Any:
        raise NotImplementedError  # Cache and AsyncCache define it

    def _link(self, namespace: str, key: str, on: Sequence[str], ttl: float | None) -> bool:
        """Records `key` as a dependent of `on` (L1-only: in memory; `Cache` adds Redis)."""
        del ttl  # in-memory edges have no TTL of their own: their dependents live in L1
        return link_local(self._deps, self._store, namespace, key, on)

    async def _link_async(
        self, namespace: str, key: str, on: Sequence[str], ttl: float | None
    ) -> bool:
        """`_link` for a cached async function (`AsyncCache` adds Redis)."""
        return self._link(namespace, key, on, ttl)

    def _l1_delete(self, namespace: str, key: str) -> bool:
        return bool(self._store.delete(prefix_of(check_namespace(namespace)), key))

    def _l1_count(self, namespace: str, head: str) -> int:
        """How many L1 keys of `namespace` start with `head` (a cached function's entries)."""
        prefix = prefix_of(check_namespace(namespace))
        return sum(1 for k in self._store.keys(prefix) if k.startswith(head, len(prefix)))

    def _drop_pattern(self, namespace: str, pattern: str) -> None:
        """A cached sync function's cache_clear: L1 here; `Cache` adds its Redis tier."""
        self._l1_drop_pattern(check_namespace(namespace), pattern)

    async def _drop_pattern_async(self, namespace: str, pattern: str) -> None:
        """A cached async function's cache_clear: L1 here; `AsyncCache` adds its Redis tier."""
        self._l1_drop_pattern(check_namespace(namespace), pattern)

    def _delete(self, namespace: str, key: str) -> bool:
        """A cached sync function's invalidate: L1 here, with the key's dependents; `Cache`
        adds its Redis tier."""
        ns = check_namespace(namespace)
        return bool(self._store.delete_many(prefix_of(ns), walk_local(self._deps, ns, [key])))

    async def _delete_async(self, namespace: str, key: str) -> bool:
        """A cached async function's invalidate: L1 here; `AsyncCache` adds its Redis tier."""
        return self._delete(namespace, key)

    # Shared synchronous bodies of the public methods.
    def _hot_keys(self, n: int, namespace: str | None) -> list[tuple[str, float]]:
        require_type(n, int, "n", "an int")
        if n < 1:
            msg = f"n must be at least 1, got {n!r}"
            raise ConfigError(msg)
        ns = self.namespace if namespace is None else check_namespace(namespace)
        if self._predictor is None:
            msg = "the predictor is off: create the cache with predictor=True"
            raise ConfigError(msg)
        return self._predictor.hot_keys(n, ns)

    def _get_many(self, keys: Iterable[str]) -> dict[str, Any]:
        keys = list(keys)
        values = self._store.get_many(self._prefix, keys, _MISS)
        return {k: v for k, v in zip(keys, values, strict=True) if v is not _MISS}

    def _export_trace(self, path: str | os.PathLike[str]) -> int:
        from ._recording import export_trace  # noqa: PLC0415

        return export_trace(self._store, path)

    def _miss_ratio_curve(self, policy: str, sizes: Iterable[int] | None) -> MissRatioCurve:
        from ._recording import recorded_curve  # noqa: PLC0415

        return recorded_curve(self._store, policy, sizes)

    def _stats(self, kind: type[S] | None = None) -> S:
        from ._refresh_options import refresh_stats_of  # noqa: PLC0415
        from .stats import (  # noqa: PLC0415
            LATENCY_BOUNDS_NS,
            LATENCY_QUANTILES,
            CacheStats,
            latency_views,
            namespace_views,
        )

        cls: type[S] = CacheStats if kind is None else kind  # type: ignore[assignment]
        store = self._store
        named, other = namespace_views(store.namespace_stats(), NAMESPACE_SEP)
        latency = latency_views(store.latencies(LATENCY_BOUNDS_NS, LATENCY_QUANTILES))
        return cls(
            **store.stats(),
            l2=self._l2_stats(),
            **self._deps.snapshot(),
            disk=self._disk_stats(),
            namespaces=named,
            other_namespaces=other,
            latency=latency,
            events=self.events.stats(),
            refresh_ahead=refresh_stats_of(self),
        )

    def _l1_drop_pattern(self, namespace: str, pattern: str) -> None:
        drop_matching(self._store, namespace, pattern)

    def _check_key(self, key: object) -> str:
        require_type(key, str, "cache key", "str")
        check_text(key)  # type: ignore[arg-type]
        return key  # type: ignore[return-value]

    def __len__(self) -> int:
        return len(self._store)

    def __contains__(self, key: str) -> bool:
        return bool(self._store.contains(self._prefix, key))

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(policy={self.policy!r}, namespace={self.namespace!r}, "
            f"entries={len(self)})"
        )

    @overload
    def cache(  # type: ignore[overload-overlap]
        self, func: Callable[P, Coroutine[Any, Any, R]], /
    ) -> AsyncCachedFunction[P, R]: ...
    @overload
    def cache(self, func: Callable[P, R], /) -> CachedFunction[P, R]: ...
    @overload
    def cache(
        self,
        func: None = ...,
        /,
        *,
        ttl: TTL | AutoTTL = ...,
        namespace: str | None = ...,
        key: Callable[..., str] | None = ...,
        unless: Callable[[Any], object] | None = ...,
        ignore: Collection[str] | None = ...,
        tags: Collection[str] | None = ...,
        condition: Callable[[Any], object] | None = ...,
        depends_on: Callable[..., Iterable[str]] | None = ...,
        refresh_ahead: str | RefreshAhead | None = ...,
    ) -> Decorator: ...
    def cache(self, func: Any = None, /, **options: Any) -> Any:
        """Decorator caching a function's results in this cache; see `stratacache.cache`."""
        from .decorators import make_cache_decorator  # noqa: PLC0415 - inspect: on first use

        return make_cache_decorator(self, func, **options)

    def expire(self) -> int:
        """Reclaims every expired entry now (they are otherwise reclaimed lazily); returns how
        many were removed."""
        return int(self._store.expire())


def _no_l2() -> None:
    """The counters of a tier the cache does not have: none."""


def no_tier_options(
    *,
    codec: Any,
    l1: bool,
    stale_ttl: TTL,
    lock_timeout: TTL,
    stale_if_error: float | None = None,
) -> None:
    """Refuses tier options given without `redis=` (they would silently do nothing)."""
    for name, value in (
        ("codec", codec),
        ("stale_ttl", stale_ttl),
        ("lock_timeout", lock_timeout),
        ("stale_if_error", stale_if_error),
    ):
        if value is not None:
            msg = f"{name} needs a Redis tier: pass redis=... too"
            raise ConfigError(msg)
    if not l1:
        msg = "l1=False needs a Redis tier: without one the cache would hold nothing"
        raise ConfigError(msg)


def path_or_none(path: str | os.PathLike[str] | None) -> Path | None:
    """`path` as a Path, None kept."""
    from pathlib import Path  # noqa: PLC0415 - backup and restore only

    return None if path is None else Path(path)


# An L1-only cache with default arguments loads neither AutoTTL's nor the predictor's modules
# (their dataclasses load inspect; issue 17).
def _check_auto(ttl: object) -> tuple[AutoTTL | None, float | None]:
    """`_autottl_live.check_auto` of default_ttl, loading it only for an AutoTTL."""
    if not is_auto_ttl(ttl):
        return None, check_ttl(ttl, "default_ttl")
    from ._autottl_live import check_auto  # noqa: PLC0415

    return check_auto(ttl, "default_ttl")


def _check_predictor(
    predictor: object, record: float | None
) -> tuple[PredictorOptions | None, float | None]:
    """`_predictor_live.check_predictor`, loaded only when a predictor is asked for."""
    if predictor is None or predictor is False:
        return None, record
    from ._predictor_live import check_predictor  # noqa: PLC0415

    return check_predictor(predictor, record)


def _start_tuner(cache: CacheBase, auto: AutoTTL | None) -> Tuner | None:
    """`_autottl_live.start_tuner`: a tuner only for a cache that records accesses."""
    if cache._store.recording() is None:
        return None
    from ._autottl_live import start_tuner  # noqa: PLC0415

    return start_tuner(cache, auto)


def _start_predictor(cache: CacheBase, options: PredictorOptions | None) -> LiveModel | None:
    """The predictor's live model (`_warm.start_predictor`), loaded only when it is on."""
    if options is None:
        return None
    from ._warm import start_predictor  # noqa: PLC0415

    return start_predictor(cache, options)
