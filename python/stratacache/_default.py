"""The process-wide default cache behind a bare `@stratacache.cache`, and `configure()`.

The default `Cache` is created on first use, with default arguments, unless `configure()`
made one first. `configure()` may be called at any time: functions decorated earlier move
to the new cache, because each of them registers here and is rebound (two attribute writes)
instead of looking the default up on every call.
"""

from __future__ import annotations

import os
import threading
import weakref
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from .caches import Cache

__all__ = ["configure", "get"]

#: Environment variable naming the Redis tier of the default cache (a `Cache(redis=...)` URL).
URL_VARIABLE = "STRATACACHE_URL"


class _Site(Protocol):
    def bind(self, cache: Any) -> None: ...


# Reentrant: attach() binds with get(), both under the lock.
_lock = threading.RLock()
_current: Cache | None = None
_sites: weakref.WeakSet[_Site] = weakref.WeakSet()


def get() -> Cache:
    """The default cache, created with `Cache()`'s defaults if none exists yet (with a Redis
    tier when the environment variable STRATACACHE_URL holds its URL)."""
    global _current  # noqa: PLW0603 - the one process-wide default
    with _lock:
        if _current is None:
            from .caches import Cache  # noqa: PLC0415 - caches imports decorators, which imports us

            url = os.environ.get(URL_VARIABLE) or None
            _current = Cache() if url is None else Cache(redis=url)
        return _current


def configure(**kwargs: Any) -> Cache:
    """Replaces the default cache with `Cache(**kwargs)` and returns it.

    Functions decorated with `@stratacache.cache` before the call use the new cache from
    then on; entries of the old one are not carried over.

    Args:
        **kwargs: the arguments of `stratacache.Cache` (max_entries, max_bytes, policy,
            default_ttl, namespace, strict, ...).

    Raises:
        TypeError, ConfigError, InvalidTTLError: as `Cache`; the old default stays in place.
    """
    global _current  # noqa: PLW0603 - the one process-wide default
    from .caches import Cache  # noqa: PLC0415 - caches imports decorators, which imports us

    new = Cache(**kwargs)
    with _lock:
        _current = new
        for site in list(_sites):
            site.bind(new)
    return new


def track(site: _Site) -> None:
    """Registers a call site that uses the default cache, so configure() can rebind it."""
    with _lock:
        _sites.add(site)


def attach(site: _Site) -> None:
    """Binds a tracked call site to the current default (on its first call)."""
    with _lock:
        site.bind(get())
