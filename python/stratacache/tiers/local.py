"""The driver of a cache without lower tiers: L1 alone, the shortest tier chain.

A cache talks to one driver, chosen when it is built: this one, or the tiered driver of
`redis/driver_sync.py`/`redis/driver_async.py` (L1, then Redis). Both take the same calls (`Driver`); the
cache itself reads L1 first (its C getter) and asks its driver only for what L1 lacks, so it
never asks which tiers it has. A tier inserted below L1 (a disk tier, ahead of Redis) is a
driver of the same shape wrapping the next one; the caches do not change.
"""

# ruff: noqa: ARG002 - an L1-only driver ignores what the Driver calls pass for lower tiers

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from .._options import prefix_of, require_type
from ..errors import ConfigError
from .chain import MISS, drop_matching

if TYPE_CHECKING:
    from .._core import Store
    from .chain import UpperLink

__all__ = ["AsyncDriver", "AsyncLocalDriver", "Driver", "LocalDriver", "tags_need_tier"]

Setter = Callable[..., None]


class Driver(Protocol):
    """What Cache asks of its driver; AsyncCache's drivers take the same calls, awaited.

    Namespaces and keys arrive validated. `read` and `read_many` ask the tiers below L1 (the
    cache has looked in L1 already); writes, deletes and invalidations cover every tier, L1
    first. `load` is the decorator's miss path through the lower tiers; None when there are
    none (the decorator then calls the function and stores the result in L1 itself).
    """

    @property
    def load(self) -> Callable[..., Any] | None: ...

    def read(self, namespace: str, key: str) -> tuple[Any, bool]: ...
    def read_many(self, namespace: str, keys: Sequence[str]) -> dict[str, Any]: ...
    def remaining(self, namespace: str, key: str) -> float | None: ...
    def write(
        self, namespace: str, key: str, value: Any, ttl: float | None, *, tags: Sequence[str]
    ) -> None: ...
    def write_many(self, namespace: str, items: Mapping[str, Any], ttl: float | None) -> None: ...
    def delete(self, namespace: str, keys: Sequence[str]) -> int: ...
    def add(self, namespace: str, key: str, value: Any, ttl: float | None) -> bool: ...
    def incr(self, namespace: str, key: str, delta: int) -> int: ...
    def touch(self, namespace: str, key: str, ttl: float | None) -> bool: ...
    def invalidate_tags(self, namespace: str, tags: Sequence[str]) -> None: ...
    def invalidate_pattern(self, namespace: str, pattern: str) -> int: ...
    def clear(self, namespace: str | None) -> int: ...
    def close(self) -> None: ...


class AsyncDriver(Protocol):
    """What AsyncCache asks of its driver: `Driver`'s calls as coroutines."""

    @property
    def load(self) -> Callable[..., Any] | None: ...

    async def read(self, namespace: str, key: str) -> tuple[Any, bool]: ...
    async def read_many(self, namespace: str, keys: Sequence[str]) -> dict[str, Any]: ...
    async def remaining(self, namespace: str, key: str) -> float | None: ...
    async def write(
        self, namespace: str, key: str, value: Any, ttl: float | None, *, tags: Sequence[str]
    ) -> None: ...
    async def write_many(
        self, namespace: str, items: Mapping[str, Any], ttl: float | None
    ) -> None: ...
    async def delete(self, namespace: str, keys: Sequence[str]) -> int: ...
    async def add(self, namespace: str, key: str, value: Any, ttl: float | None) -> bool: ...
    async def incr(self, namespace: str, key: str, delta: int) -> int: ...
    async def touch(self, namespace: str, key: str, ttl: float | None) -> bool: ...
    async def invalidate_tags(self, namespace: str, tags: Sequence[str]) -> None: ...
    async def invalidate_pattern(self, namespace: str, pattern: str) -> int: ...
    async def clear(self, namespace: str | None) -> int: ...
    async def close(self) -> None: ...


def tags_need_tier() -> None:
    msg = "tags need a Redis tier (Cache(redis=...)): L1-only caches have no tag versions"
    raise ConfigError(msg)


class LocalDriver:
    """L1 only: nothing below it to read, writes and deletes reach the store alone.

    Also the L1 link of a tiered cache, the `upper` of the link below (`chain.UpperLink`):
    the tiered driver backfills through its `fill` and deletes and clears through it.
    """

    load = None  # no lower tier to load through

    def __init__(
        self, store: Store, default_ttl: float | None, weigher: Callable[[Any], int] | None
    ) -> None:
        self.store = store
        self._default_ttl = default_ttl
        self._weigher = weigher  # None: every entry weighs 1 (no byte bound)
        self._setters: dict[str, Setter] = {}
        # The store has no set-if-absent: add and incr are a read then a write, made atomic
        # against each other by this lock (a plain set does not take it, so a set racing an
        # add may be overwritten by the add). One uncontended acquire is cheaper than a new
        # engine call through every layer, and single-process code is all this driver serves.
        self.lock = threading.Lock()

    def setter(self, namespace: str) -> Setter:
        """The L1 set(key, value, ttl=None) of `namespace` (the C setter without a weigher)."""
        setter = self._setters.get(namespace)
        if setter is None:
            prefix = prefix_of(namespace)
            if self._weigher is None:
                setter = self.store.setter(prefix, self._default_ttl)
            else:
                setter = self._weighing_setter(prefix, self._weigher)
            self._setters[namespace] = setter
        return setter

    def _weighing_setter(self, prefix: str, weigher: Callable[[Any], int]) -> Setter:
        store, default_ttl = self.store, self._default_ttl

        def set_weighed(key: str, value: Any, ttl: float | None = None) -> None:
            require_type(key, str, "cache key", "str")
            weight = len(key.encode("utf-8", "surrogatepass")) + int(weigher(value))
            store.set(prefix, key, value, max(weight, 1), default_ttl if ttl is None else ttl)

        return set_weighed

    def fill(
        self, namespace: str, key: str, value: Any, ttl: float | None, envelope: Any = None
    ) -> None:
        """Keeps in L1 a value a lower link read or wrote (its tags are that link's business;
        L1 keeps objects, not envelopes)."""
        self.setter(namespace)(key, value, ttl)

    def held(self, namespace: str, key: str) -> bytes | None:
        """L1 keeps no envelopes (the cache has looked in L1 itself)."""
        return None

    def drop_announced(self, namespace: str, keys: Sequence[str], origin: str) -> None:
        """L1 copies are this process's own: each goes."""
        self.delete(namespace, keys)

    def drop_changed(self, namespace: str, keys: Sequence[str]) -> None:
        """L1 copies go (the next read asks the tier below)."""
        self.delete(namespace, keys)

    def refused(self, namespace: str, key: str, *, corrupt: bool) -> None:
        """Never called: `held` gives nothing."""

    def forget(self) -> None:
        """Flushes L1 (coherence lost or back: what it holds may have missed invalidations)."""
        self.store.clear("")

    def distrust(self) -> None:
        """L1 holds no persistent copies."""

    def read(self, namespace: str, key: str) -> tuple[Any, bool]:
        return MISS, False

    def read_many(self, namespace: str, keys: Sequence[str]) -> dict[str, Any]:
        return {}

    def remaining(self, namespace: str, key: str) -> float | None:
        return None

    def write(
        self, namespace: str, key: str, value: Any, ttl: float | None, *, tags: Sequence[str] = ()
    ) -> None:
        if tags:
            tags_need_tier()
        self.setter(namespace)(key, value, ttl)

    def write_many(self, namespace: str, items: Mapping[str, Any], ttl: float | None) -> None:
        setter = self.setter(namespace)
        for key, value in items.items():
            setter(key, value, ttl)

    def delete(self, namespace: str, keys: Sequence[str]) -> int:
        return int(self.store.delete_many(prefix_of(namespace), list(keys)))

    def add(self, namespace: str, key: str, value: Any, ttl: float | None) -> bool:
        """Stores `value` if `key` holds no live value; True if it did (ttl 0: nothing kept)."""
        prefix = prefix_of(namespace)
        with self.lock:
            if self.store.contains(prefix, key):
                return False
            self.setter(namespace)(key, value, ttl)
            return True

    def incr(self, namespace: str, key: str, delta: int) -> int:
        """Adds `delta` to the int under `key`, keeping its TTL; returns the new value.

        Raises:
            KeyError: the key holds no live value.
            TypeError: delta or the stored value is not an int.
        """
        from .redis.atomic import incremented  # noqa: PLC0415 - hashlib: not on every import

        prefix = prefix_of(namespace)
        with self.lock:
            value = self.store.peek(prefix, key, MISS)
            if value is MISS:
                raise KeyError(key)
            value = incremented(value, delta)
            left = self.store.ttl(prefix, key)
            self.setter(namespace)(key, value, self._default_ttl if left is None else left)
            return value

    def touch(self, namespace: str, key: str, ttl: float | None) -> bool:
        ttl = self._default_ttl if ttl is None else ttl
        return bool(self.store.touch(prefix_of(namespace), key, ttl))

    def invalidate_tags(self, namespace: str, tags: Sequence[str]) -> None:
        tags_need_tier()

    def invalidate_pattern(self, namespace: str, pattern: str) -> int:
        """Drops the matching L1 keys; returns how many."""
        before = len(self.store)
        drop_matching(self.store, namespace, pattern)
        return before - len(self.store)

    def clear(self, namespace: str | None) -> int:
        return int(self.store.clear("" if namespace is None else prefix_of(namespace)))

    def close(self) -> None:
        """Nothing to close: L1 lives as long as the cache."""


class AsyncLocalDriver:
    """`LocalDriver` for AsyncCache: the same calls as coroutines (L1 never blocks)."""

    load = None

    def __init__(self, local: LocalDriver) -> None:
        self.local = local

    async def read(self, namespace: str, key: str) -> tuple[Any, bool]:
        return MISS, False

    async def read_many(self, namespace: str, keys: Sequence[str]) -> dict[str, Any]:
        return {}

    async def remaining(self, namespace: str, key: str) -> float | None:
        return None

    async def write(
        self, namespace: str, key: str, value: Any, ttl: float | None, *, tags: Sequence[str] = ()
    ) -> None:
        self.local.write(namespace, key, value, ttl, tags=tags)

    async def write_many(self, namespace: str, items: Mapping[str, Any], ttl: float | None) -> None:
        self.local.write_many(namespace, items, ttl)

    async def delete(self, namespace: str, keys: Sequence[str]) -> int:
        return self.local.delete(namespace, keys)

    async def add(self, namespace: str, key: str, value: Any, ttl: float | None) -> bool:
        return self.local.add(namespace, key, value, ttl)

    async def incr(self, namespace: str, key: str, delta: int) -> int:
        return self.local.incr(namespace, key, delta)

    async def touch(self, namespace: str, key: str, ttl: float | None) -> bool:
        return self.local.touch(namespace, key, ttl)

    async def invalidate_tags(self, namespace: str, tags: Sequence[str]) -> None:
        tags_need_tier()

    async def invalidate_pattern(self, namespace: str, pattern: str) -> int:
        return self.local.invalidate_pattern(namespace, pattern)

    async def clear(self, namespace: str | None) -> int:
        return self.local.clear(namespace)

    async def close(self) -> None:
        """Nothing to close."""


if TYPE_CHECKING:  # mypy proves each L1 link speaks the interfaces its callers use
    _sync_l1: type[Driver] = LocalDriver
    _async_l1: type[AsyncDriver] = AsyncLocalDriver
    _upper_l1: type[UpperLink] = LocalDriver
