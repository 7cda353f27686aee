"""Cache and AsyncCache: the public cache objects (L1 in-process tier for now).

Both wrap the same C++ store and share every decision; AsyncCache's methods are coroutines
only so that callers switch classes by adding `await` (the L1 call itself never blocks).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, overload

from . import _core
from ._options import (
    DEFAULT_MAX_ENTRIES,
    check_bound,
    check_namespace,
    check_ttl,
    prefix_of,
    require_callable,
    require_type,
)
from ._weigh import weigh
from .stats import CacheStats

if TYPE_CHECKING:
    from .decorators import CachedFunction, Decorator

__all__ = ["AsyncCache", "Cache"]

P = ParamSpec("P")
R = TypeVar("R")

_MISS: Any = object()

Getter = Callable[..., Any]
Setter = Callable[..., None]


class _L1Cache:
    """State and synchronous logic shared by Cache and AsyncCache."""

    def __init__(
        self,
        max_entries: int | None = None,
        max_bytes: int | None = None,
        policy: str | None = None,
        default_ttl: float | None = None,
        namespace: str = "",
        *,
        strict: bool = False,
        shards: int = 1,
        weigher: Callable[[Any], int] | None = None,
    ) -> None:
        entries = check_bound(max_entries, "max_entries")
        nbytes = check_bound(max_bytes, "max_bytes")
        if not entries and not nbytes:
            entries = DEFAULT_MAX_ENTRIES
        require_type(policy, (str, type(None)), "policy", "a str or None")
        require_callable(weigher, "weigher", "a callable taking a value and returning bytes")
        self._default_ttl = check_ttl(default_ttl, "default_ttl")
        self.namespace = check_namespace(namespace)
        self._store = _core.Store(
            max_entries=entries,
            max_bytes=nbytes,
            policy=policy or _core.DEFAULT_POLICY,
            shards=shards,
            strict=bool(strict),
        )
        # Weighing costs a walk of the value, so it happens only when a byte bound is set.
        self._weigher = (weigher or weigh) if nbytes else None
        self._getters: dict[str, Getter] = {}
        self._setters: dict[str, Setter] = {}
        self._get = self._getter(self.namespace)
        self._set = self._setter(self.namespace)
        self._prefix = prefix_of(self.namespace)

    @property
    def policy(self) -> str:
        """Name of the eviction policy."""
        return str(self._store.policy)

    @property
    def default_ttl(self) -> float | None:
        """TTL in seconds applied when a set passes none; None means no expiry."""
        return self._default_ttl

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
            prefix = prefix_of(check_namespace(namespace))
            if self._weigher is None:
                setter = self._store.setter(prefix, self._default_ttl)
            else:
                setter = self._weighing_setter(prefix)
            self._setters[namespace] = setter
        return setter

    def _weighing_setter(self, prefix: str) -> Setter:
        store, weigher, default_ttl = self._store, self._weigher, self._default_ttl
        assert weigher is not None

        def set_weighed(key: str, value: Any, ttl: float | None = None) -> None:
            require_type(key, str, "cache key", "str")
            weight = len(key.encode("utf-8", "surrogatepass")) + int(weigher(value))
            store.set(prefix, key, value, max(weight, 1), default_ttl if ttl is None else ttl)

        return set_weighed

    def _delete(self, namespace: str, key: str) -> bool:
        return bool(self._store.delete(prefix_of(check_namespace(namespace)), key))

    # Shared synchronous bodies of the public methods.
    def _get_many(self, keys: Iterable[str]) -> dict[str, Any]:
        keys = list(keys)
        values = self._store.get_many(self._prefix, keys, _MISS)
        return {k: v for k, v in zip(keys, values, strict=True) if v is not _MISS}

    def _set_many(self, items: Mapping[str, Any], ttl: float | None) -> None:
        require_type(items, Mapping, "set_many's items", "a mapping of key to value")
        check_ttl(ttl)
        setter = self._set
        for key, value in items.items():
            setter(key, value, ttl)

    def _clear(self, namespace: str | None) -> int:
        prefix = "" if namespace is None else prefix_of(check_namespace(namespace))
        return int(self._store.clear(prefix))

    def _stats(self) -> CacheStats:
        return CacheStats(**self._store.stats())

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
    def cache(self, func: Callable[P, R], /) -> CachedFunction[P, R]: ...
    @overload
    def cache(
        self,
        func: None = ...,
        /,
        *,
        ttl: float | None = ...,
        namespace: str | None = ...,
        key: Callable[..., str] | None = ...,
        unless: Callable[[Any], object] | None = ...,
        ignore: Collection[str] | None = ...,
    ) -> Decorator: ...
    def cache(self, func: Any = None, /, **options: Any) -> Any:
        """Decorator caching a function's results in this cache; see `stratacache.cache`."""
        from .decorators import make_cache_decorator  # noqa: PLC0415 - decorators imports caches

        return make_cache_decorator(self, func, **options)

    def expire(self) -> int:
        """Reclaims every expired entry now (they are otherwise reclaimed lazily); returns how
        many were removed."""
        return int(self._store.expire())


class Cache(_L1Cache):
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

    Raises:
        ConfigError: a bound is zero or negative, or the policy is unknown.
        InvalidTTLError: default_ttl is negative.
        TypeError: an argument has the wrong type.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The hit path is the C callable itself: no Python frame between caller and engine.
        self.__dict__["get"] = self._get
        self.__dict__["set"] = self._set

    def get(self, key: str, default: Any = None) -> Any:
        """The value stored under `key`, or `default` when there is none.

        A stored None is returned as None (use `contains` to tell it from a miss).

        Raises:
            TypeError: key is not a str.
        """
        return self._get(key, default)

    def set(self, key: str, value: Any, ttl: float | None = None) -> None:
        """Stores `value` under `key`.

        Args:
            key: the key.
            value: any object; the cache keeps a reference, it does not copy.
            ttl: seconds to live; None = the cache's default_ttl; math.inf = never expires;
                0 = expires at once (nothing is stored and an older value is removed).

        Raises:
            TypeError: key is not a str, or ttl is not a number.
            InvalidTTLError: ttl is negative or NaN.
            ValueTooLargeError: in strict mode, the value outweighs the byte budget.
        """
        self._set(key, value, ttl)

    def delete(self, key: str) -> bool:
        """Removes `key`; True if a live value was removed."""
        return bool(self._store.delete(self._prefix, key))

    def get_many(self, keys: Iterable[str]) -> dict[str, Any]:
        """The stored values of `keys`, as a dict holding only the keys found."""
        return self._get_many(keys)

    def set_many(self, items: Mapping[str, Any], ttl: float | None = None) -> None:
        """Stores every key/value pair of `items` with the same ttl (see `set`)."""
        self._set_many(items, ttl)

    def delete_many(self, keys: Iterable[str]) -> int:
        """Removes `keys`; returns how many live values were removed."""
        return int(self._store.delete_many(self._prefix, list(keys)))

    def contains(self, key: str) -> bool:
        """True if a live value (possibly None) is stored under `key`; not counted as a hit."""
        return bool(self._store.contains(self._prefix, key))

    def ttl(self, key: str) -> float | None:
        """Seconds `key` has left: math.inf if it never expires, None if it is missing."""
        remaining: float | None = self._store.ttl(self._prefix, key)
        return remaining

    def touch(self, key: str, ttl: float | None = None) -> bool:
        """Restarts the TTL of `key` (None = default_ttl); False if the key is missing."""
        ttl = check_ttl(ttl)
        return bool(self._store.touch(self._prefix, key, self._default_ttl if ttl is None else ttl))

    def clear(self, namespace: str | None = None) -> int:
        """Removes every entry (namespace None) or those of one namespace; returns the count."""
        return self._clear(namespace)

    def stats(self) -> CacheStats:
        """A snapshot of the counters."""
        return self._stats()


class AsyncCache(_L1Cache):
    """A cache for asyncio code: the same arguments and methods as `Cache`, awaited."""

    async def get(self, key: str, default: Any = None) -> Any:
        """See `Cache.get`."""
        return self._get(key, default)

    async def set(self, key: str, value: Any, ttl: float | None = None) -> None:
        """See `Cache.set`."""
        self._set(key, value, ttl)

    async def delete(self, key: str) -> bool:
        """See `Cache.delete`."""
        return bool(self._store.delete(self._prefix, key))

    async def get_many(self, keys: Iterable[str]) -> dict[str, Any]:
        """See `Cache.get_many`."""
        return self._get_many(keys)

    async def set_many(self, items: Mapping[str, Any], ttl: float | None = None) -> None:
        """See `Cache.set_many`."""
        self._set_many(items, ttl)

    async def delete_many(self, keys: Iterable[str]) -> int:
        """See `Cache.delete_many`."""
        return int(self._store.delete_many(self._prefix, list(keys)))

    async def contains(self, key: str) -> bool:
        """See `Cache.contains`."""
        return bool(self._store.contains(self._prefix, key))

    async def ttl(self, key: str) -> float | None:
        """See `Cache.ttl`."""
        remaining: float | None = self._store.ttl(self._prefix, key)
        return remaining

    async def touch(self, key: str, ttl: float | None = None) -> bool:
        """See `Cache.touch`."""
        ttl = check_ttl(ttl)
        return bool(self._store.touch(self._prefix, key, self._default_ttl if ttl is None else ttl))

    async def clear(self, namespace: str | None = None) -> int:
        """See `Cache.clear`."""
        return self._clear(namespace)

    async def stats(self) -> CacheStats:
        """See `Cache.stats`."""
        return self._stats()
