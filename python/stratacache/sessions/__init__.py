"""Server-side sessions on Redis: `SessionStore` (sync) and `AsyncSessionStore` (asyncio).

256-bit ids from `secrets`, records encrypted with the store's codec and kept under a hash of
the id, a per-user limit enforced atomically, optional IP / user-agent binding. Names load on
first use, so importing stratacache costs nothing for this package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_getattr

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


__getattr__ = lazy_getattr(__name__, _HOMES, globals())
