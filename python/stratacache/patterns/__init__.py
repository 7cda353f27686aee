"""Write paths beside cache-aside: write-through, and durable write-behind on Redis Streams.

`WriteThrough` / `AsyncWriteThrough` write the store first, then the cache.
`WriteBehind` / `AsyncWriteBehind` make each write durable in a Redis Stream before returning,
and workers (threads, or processes calling `work`) apply them to the store in batches.
Names load on first use: importing the package costs nothing until one is touched.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_getattr

if TYPE_CHECKING:
    from .write_behind import WriteBehind, WriteBehindStats
    from .write_behind_async import AsyncWriteBehind
    from .write_through import AsyncWriteThrough, WriteThrough

__all__ = [
    "AsyncWriteBehind",
    "AsyncWriteThrough",
    "WriteBehind",
    "WriteBehindStats",
    "WriteThrough",
]

_HOMES = {
    "WriteThrough": "write_through",
    "AsyncWriteThrough": "write_through",
    "WriteBehind": "write_behind",
    "WriteBehindStats": "write_behind",
    "AsyncWriteBehind": "write_behind_async",
}


__getattr__ = lazy_getattr(__name__, _HOMES, globals())
