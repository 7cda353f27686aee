"""The write path's cache events: a thin wrapper around a cache's driver, installed only while
some subscriber (or `events=True`) wants set, delete or invalidate events.

A cache without such subscribers runs exactly its usual code (the wrapper is not there at all,
and `Cache.set` stays the engine's setter). The wrappers report a change after the tiers took
it; a call that raised reports nothing. Values stored by a cached function (the decorator's
fills) and L1 backfills from Redis are not writes of the application and are not reported.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

__all__ = ["AsyncChangeDriver", "ChangeDriver", "Changed", "reporting_setter"]


class Changed(Protocol):
    """What the wrappers report to (the broker)."""

    def changed(
        self,
        kind: str,
        name: str,
        namespace: str | None,
        *,
        keys: Sequence[str] = (),
        tags: Sequence[str] = (),
        pattern: str | None = None,
    ) -> None: ...


class _Forwarding:
    """Forwards everything it does not wrap to the driver it wraps."""

    def __init__(self, inner: Any, broker: Changed) -> None:
        self.inner = inner
        self._broker = broker

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class ChangeDriver(_Forwarding):
    """A sync driver (`tiers.local.Driver`) that reports the changes it makes."""

    def write(
        self, namespace: str, key: str, value: Any, ttl: float | None, *, tags: Sequence[str] = ()
    ) -> None:
        self.inner.write(namespace, key, value, ttl, tags=tags)
        self._broker.changed("set", "set", namespace, keys=(key,), tags=tuple(tags))

    def write_many(self, namespace: str, items: Mapping[str, Any], ttl: float | None) -> None:
        self.inner.write_many(namespace, items, ttl)
        self._broker.changed("set", "set", namespace, keys=tuple(items))

    def delete(self, namespace: str, keys: Sequence[str], *rider: Any) -> int:
        """`rider`: what the Redis driver's delete carries along (a dependency walk's read)."""
        removed = int(self.inner.delete(namespace, keys, *rider))
        self._broker.changed("delete", "delete", namespace, keys=tuple(keys))
        return removed

    def add(self, namespace: str, key: str, value: Any, ttl: float | None) -> bool:
        stored = bool(self.inner.add(namespace, key, value, ttl))
        if stored:
            self._broker.changed("set", "set", namespace, keys=(key,))
        return stored

    def incr(self, namespace: str, key: str, delta: int) -> int:
        value = int(self.inner.incr(namespace, key, delta))
        self._broker.changed("set", "set", namespace, keys=(key,))
        return value

    def invalidate_tags(self, namespace: str, tags: Sequence[str]) -> None:
        self.inner.invalidate_tags(namespace, tags)
        self._broker.changed("invalidate", "tags", None, tags=tuple(tags))

    def invalidate_pattern(self, namespace: str, pattern: str) -> int:
        removed = int(self.inner.invalidate_pattern(namespace, pattern))
        self._broker.changed("invalidate", "pattern", namespace, pattern=pattern)
        return removed

    def clear(self, namespace: str | None) -> int:
        removed = int(self.inner.clear(namespace))
        self._broker.changed("invalidate", "clear", namespace)
        return removed


class AsyncChangeDriver(_Forwarding):
    """`ChangeDriver` for AsyncCache's drivers: the same calls, awaited."""

    async def write(
        self, namespace: str, key: str, value: Any, ttl: float | None, *, tags: Sequence[str] = ()
    ) -> None:
        await self.inner.write(namespace, key, value, ttl, tags=tags)
        self._broker.changed("set", "set", namespace, keys=(key,), tags=tuple(tags))

    async def write_many(self, namespace: str, items: Mapping[str, Any], ttl: float | None) -> None:
        await self.inner.write_many(namespace, items, ttl)
        self._broker.changed("set", "set", namespace, keys=tuple(items))

    async def delete(self, namespace: str, keys: Sequence[str], *rider: Any) -> int:
        """`rider`: what the Redis driver's delete carries along (a dependency walk's read)."""
        removed = int(await self.inner.delete(namespace, keys, *rider))
        self._broker.changed("delete", "delete", namespace, keys=tuple(keys))
        return removed

    async def add(self, namespace: str, key: str, value: Any, ttl: float | None) -> bool:
        stored = bool(await self.inner.add(namespace, key, value, ttl))
        if stored:
            self._broker.changed("set", "set", namespace, keys=(key,))
        return stored

    async def incr(self, namespace: str, key: str, delta: int) -> int:
        value = int(await self.inner.incr(namespace, key, delta))
        self._broker.changed("set", "set", namespace, keys=(key,))
        return value

    async def invalidate_tags(self, namespace: str, tags: Sequence[str]) -> None:
        await self.inner.invalidate_tags(namespace, tags)
        self._broker.changed("invalidate", "tags", None, tags=tuple(tags))

    async def invalidate_pattern(self, namespace: str, pattern: str) -> int:
        removed = int(await self.inner.invalidate_pattern(namespace, pattern))
        self._broker.changed("invalidate", "pattern", namespace, pattern=pattern)
        return removed

    async def clear(self, namespace: str | None) -> int:
        removed = int(await self.inner.clear(namespace))
        self._broker.changed("invalidate", "clear", namespace)
        return removed


def reporting_setter(setter: Callable[..., None], broker: Changed, namespace: str) -> Any:
    """`Cache.set` (the instance's own: the engine's setter, or the tier's) reporting its
    writes; the cache installs it in place of `setter` while set events are wanted."""

    def set_reported(key: str, value: Any, ttl: Any = None, *, tags: Any = None) -> None:
        if tags is None:
            setter(key, value, ttl)
            broker.changed("set", "set", namespace, keys=(key,))
        else:
            setter(key, value, ttl, tags=tags)
            broker.changed("set", "set", namespace, keys=(key,), tags=tuple(tags))

    return set_reported
