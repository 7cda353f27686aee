"""AsyncWriteBehind: `WriteBehind` for asyncio callers.

`set` awaits the durable append (XADD + WAIT on an asyncio client) and the AsyncCache write;
the workers are `WriteBehind`'s threads (the store function is a plain one, called off the
event loop), and `flush`/`stats` run on a worker thread so the loop never blocks.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from .._options import TTL, require_type
from ._durable import AsyncStreamAppender
from ._stream import entry_fields
from .write_behind import Store, WriteBehind, WriteBehindStats, _cache_of

__all__ = ["AsyncWriteBehind"]


class AsyncWriteBehind:
    """See `WriteBehind`; `cache` is an AsyncCache (or a URL / asyncio redis-py client), and
    `store` a plain function called on the worker threads."""

    def __init__(self, cache: Any, store: Store, **options: Any) -> None:
        from ..tiers.redis.access import redis_access  # noqa: PLC0415

        self._cache = _cache_of(cache, "AsyncWriteBehind")
        self._sync = WriteBehind(cache, store, _for="AsyncWriteBehind", **options)
        timeout = float(options.get("timeout", 10.0))
        access = redis_access(cache, asyncio=True, socket_timeout=max(1.0, min(timeout, 5.0)))
        self._access = access
        inner = self._sync._appender
        self._appender = AsyncStreamAppender(
            access.client, inner.replicas, inner.wait_ms / 1000, timeout
        )
        self._codec = self._sync._codec
        self._layout = self._sync._layout

    async def set(self, key: str, value: Any, ttl: TTL = None) -> None:
        """See `WriteBehind.set`."""
        require_type(key, str, "key", "a str")
        data = self._codec.encode(key, value)
        stream = self._layout.stream(self._layout.partition(key))
        await self._appender.append_many_async([(stream, entry_fields(key, data))])
        if self._cache is not None:
            try:
                await self._cache.set(key, value, ttl)
            except Exception:  # noqa: BLE001 - fail-open: the stream holds the write
                await self._cache.delete(key)

    async def set_many(self, items: Mapping[str, Any], ttl: TTL = None) -> None:
        """See `WriteBehind.set_many`."""
        require_type(items, Mapping, "items", "a mapping of str keys to values")
        entries = []
        for key, value in items.items():
            require_type(key, str, "key", "a str")
            stream = self._layout.stream(self._layout.partition(key))
            entries.append((stream, entry_fields(key, self._codec.encode(key, value))))
        if not entries:
            return
        await self._appender.append_many_async(entries)
        if self._cache is not None:
            try:
                await self._cache.set_many(dict(items), ttl)
            except Exception:  # noqa: BLE001 - fail-open: the stream holds the writes
                await self._cache.delete_many(list(items))

    def start(self, threads: int = 1) -> None:
        """See `WriteBehind.start`."""
        self._sync.start(threads)

    async def flush(self, timeout: float = 30.0) -> None:
        """See `WriteBehind.flush`."""
        await asyncio.to_thread(self._sync.flush, timeout)

    async def stats(self) -> WriteBehindStats:
        """See `WriteBehind.stats`."""
        result = await asyncio.to_thread(self._sync.stats)
        return WriteBehindStats(**{**result.__dict__, "append_retries": self._appender.retries})

    async def close(self) -> None:
        """See `WriteBehind.close`."""
        await asyncio.to_thread(self._sync.close)
        if self._access.owned:
            await self._access.client.aclose()
