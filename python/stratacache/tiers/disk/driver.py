"""The L1 + disk chain: drivers of the `tiers.local.Driver` shape that read L1's misses from
disk, backfill L1 with the TTL the entry has left, and send every write and invalidation to
both tiers (L1 first).

Reads call the store directly, in async code too: an LMDB read is a mapped-memory lookup of
microseconds, far below an executor hop. Writes are direct too, except with durability "sync",
whose fsync per write would stall the event loop; those go to a worker thread.
"""

# ruff: noqa: ARG002 - tag invalidation has the L1-only rule: its arguments are not read

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..chain import MISS, Load
from ..local import LocalDriver, tags_need_tier
from .tier import DiskTier

__all__ = ["AsyncDiskDriver", "DiskDriver"]


class DiskDriver:
    """L1, then the disk tier (`Cache(disk=...)`)."""

    def __init__(self, local: LocalDriver, disk: DiskTier, default_ttl: float | None) -> None:
        self.local = local
        self.disk = disk
        self._default_ttl = default_ttl

    def _ttl(self, ttl: float | None) -> float | None:
        return self._default_ttl if ttl is None else ttl

    def read(self, namespace: str, key: str) -> tuple[Any, bool]:
        value, left = self.disk.read(namespace, key)
        if value is not MISS:
            self.local.setter(namespace)(key, value, left)  # L1 keeps it for what is left
        return value, False

    def read_many(self, namespace: str, keys: Sequence[str]) -> dict[str, Any]:
        setter = self.local.setter(namespace)
        found = {}
        for key, (value, left) in zip(keys, self.disk.read_many(namespace, keys), strict=True):
            if value is not MISS:
                setter(key, value, left)
                found[key] = value
        return found

    def remaining(self, namespace: str, key: str) -> float | None:
        return self.disk.remaining(namespace, key)

    def write(
        self, namespace: str, key: str, value: Any, ttl: float | None, *, tags: Sequence[str] = ()
    ) -> None:
        if tags:
            tags_need_tier()
        ttl = self._ttl(ttl)
        self.local.setter(namespace)(key, value, ttl)
        self.disk.write(namespace, key, value, ttl)

    def write_many(self, namespace: str, items: Mapping[str, Any], ttl: float | None) -> None:
        for key, value in items.items():
            self.write(namespace, key, value, ttl)

    def delete(self, namespace: str, keys: Sequence[str]) -> int:
        in_l1 = self.local.delete(namespace, keys)
        return max(in_l1, self.disk.delete(namespace, keys))

    def invalidate_tags(self, namespace: str, tags: Sequence[str]) -> None:
        tags_need_tier()

    def invalidate_pattern(self, namespace: str, pattern: str) -> int:
        in_l1 = self.local.invalidate_pattern(namespace, pattern)
        return max(in_l1, self.disk.invalidate_pattern(namespace, pattern))

    def clear(self, namespace: str | None) -> int:
        in_l1 = self.local.clear(namespace)
        return max(in_l1, self.disk.clear(namespace))

    def load(self, namespace: str, key: str, request: Load) -> Any:
        """A cached function's miss: the disk, else the function (stored in both tiers)."""
        value, _ = self.read(namespace, key)
        if value is not MISS:
            return value
        value = request.compute()
        if request.unless is None or not request.unless(value):
            self.write(namespace, key, value, request.ttl, tags=request.tags)
        return value

    def close(self) -> None:
        """The store stays open for other caches of the process; LMDB needs no close."""


class AsyncDiskDriver:
    """`DiskDriver` for AsyncCache: the same calls as coroutines."""

    def __init__(self, sync: DiskDriver) -> None:
        self.sync = sync
        self._offload = sync.disk.options.durability == "sync"

    async def _run(self, call: Callable[..., Any], *args: Any) -> Any:
        if self._offload:
            return await asyncio.to_thread(call, *args)
        return call(*args)

    async def read(self, namespace: str, key: str) -> tuple[Any, bool]:
        return self.sync.read(namespace, key)

    async def read_many(self, namespace: str, keys: Sequence[str]) -> dict[str, Any]:
        return self.sync.read_many(namespace, keys)

    async def remaining(self, namespace: str, key: str) -> float | None:
        return self.sync.remaining(namespace, key)

    async def write(
        self, namespace: str, key: str, value: Any, ttl: float | None, *, tags: Sequence[str] = ()
    ) -> None:
        if tags:
            tags_need_tier()
        await self._run(self.sync.write, namespace, key, value, ttl)

    async def write_many(self, namespace: str, items: Mapping[str, Any], ttl: float | None) -> None:
        await self._run(self.sync.write_many, namespace, items, ttl)

    async def delete(self, namespace: str, keys: Sequence[str]) -> int:
        return int(await self._run(self.sync.delete, namespace, keys))

    async def invalidate_tags(self, namespace: str, tags: Sequence[str]) -> None:
        tags_need_tier()

    async def invalidate_pattern(self, namespace: str, pattern: str) -> int:
        return int(await self._run(self.sync.invalidate_pattern, namespace, pattern))

    async def clear(self, namespace: str | None) -> int:
        return int(await self._run(self.sync.clear, namespace))

    async def load(self, namespace: str, key: str, request: Load) -> Any:
        value, _ = self.sync.read(namespace, key)
        if value is not MISS:
            return value
        value = request.compute()
        if inspect.isawaitable(value):
            value = await value
        if request.unless is None or not request.unless(value):
            await self.write(namespace, key, value, request.ttl, tags=request.tags)
        return value

    async def close(self) -> None:
        """Nothing to close (see `DiskDriver.close`)."""
