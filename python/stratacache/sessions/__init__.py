"""Server-side sessions on Redis: `SessionStore` (sync) and `AsyncSessionStore` (asyncio).

256-bit ids from `secrets`, records encrypted with the store's codec and kept under a hash of
the id, a per-user limit enforced atomically, optional IP / user-agent binding. Names load on
first use, so importing stratacache costs nothing for this package.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._logic import Session, SessionInfo, SessionStats
    from .store import AsyncSessionStore, SessionStore

__all__ = ["AsyncSessionStore", "Session", "SessionInfo", "SessionStats", "SessionStore"]

_HOMES = {
    "SessionStore": "store",
    "AsyncSessionStore": "store",
    "Session": "_logic",
    "SessionInfo": "_logic",
    "SessionStats": "_logic",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        msg = f"module {__name__!r} has no attribute {name!r}"
        raise AttributeError(msg)
    value = getattr(importlib.import_module(f".{home}", __name__), name)
    globals()[name] = value
    return value
