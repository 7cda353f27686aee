"""Write paths beside cache-aside: write-through, and durable write-behind on Redis Streams.

`WriteThrough` / `AsyncWriteThrough` write the store first, then the cache.
`WriteBehind` / `AsyncWriteBehind` make each write durable in a Redis Stream before returning,
and workers (threads, or processes calling `work`) apply them to the store in batches.
Names load on first use: importing the package costs nothing until one is touched.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

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


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        msg = f"module {__name__!r} has no attribute {name!r}"
        raise AttributeError(msg)
    value = getattr(importlib.import_module(f".{home}", __name__), name)
    globals()[name] = value
    return value
