"""The process-wide default cache behind a bare `@stratacache.cache`, and `configure()`.

The default `Cache` is created on first use, with default arguments (and a Redis tier when
STRATACACHE_URL is set), unless `configure()` made one first. `configure()` may be called at
any time: functions decorated earlier move to the new cache, because each of them registers
here and is rebound (two attribute writes) instead of looking the default up on every call.

With a Redis tier, ``async def`` functions cannot share the sync `Cache` (its tier issues
blocking commands), so they get an `AsyncCache` twin built from the same arguments on first
use: the two are coherent as two processes on one Redis are. Without a tier both kinds share
the one `Cache`.
"""

from __future__ import annotations

import os
import threading
import weakref
from typing import TYPE_CHECKING, Any, Protocol

from .errors import ConfigError

if TYPE_CHECKING:
    from .caches import AsyncCache, Cache

__all__ = ["configure", "get", "get_async"]

#: Environment variable naming the Redis tier of the default cache (a `Cache(redis=...)` URL).
URL_VARIABLE = "STRATACACHE_URL"


class _Site(Protocol):
    is_async: bool

    def bind(self, cache: Any) -> None: ...


# Reentrant: attach() binds with get(), both under the lock.
_lock = threading.RLock()
_current: Cache | None = None
_current_async: AsyncCache | None = None
_config: dict[str, Any] = {}  # the arguments _current was built with, for its async twin
_sites: weakref.WeakSet[_Site] = weakref.WeakSet()


def get() -> Cache:
    """The default cache, created with `Cache()`'s defaults if none exists yet (with a Redis
    tier when the environment variable STRATACACHE_URL holds its URL)."""
    global _current, _config
    with _lock:
        if _current is None:
            from .caches import Cache  # noqa: PLC0415 - caches imports decorators, which imports us

            url = os.environ.get(URL_VARIABLE) or None
            config: dict[str, Any] = {} if url is None else {"redis": url}
            _current, _config = Cache(**config), config
        return _current


def get_async() -> Cache | AsyncCache:
    """The default cache of ``async def`` functions: `get()` itself without a Redis tier, else
    its `AsyncCache` twin (same arguments), created on first use.

    Raises:
        ConfigError: the default's tier was given as a redis-py client, which an AsyncCache
            cannot use; configure it with a URL.
    """
    global _current_async  # noqa: PLW0603 - the one process-wide default
    with _lock:
        cache = get()
        if cache._tier is None:
            return cache
        if _current_async is None:
            if not isinstance(_config.get("redis"), str):
                msg = (
                    "the default cache's Redis tier is a client object: async functions need "
                    "configure(redis='redis://...') (a URL), or a cache of their own "
                    "(@AsyncCache(...).cache)"
                )
                raise ConfigError(msg)
            from .caches import AsyncCache  # noqa: PLC0415 - as in get()

            _current_async = AsyncCache(**_config)
        return _current_async


def configure(**kwargs: Any) -> Cache:
    """Replaces the default cache with `Cache(**kwargs)` and returns it.

    Functions decorated with `@stratacache.cache` before the call use the new cache from
    then on; entries of the old one are not carried over. With ``redis=`` (a URL), ``async
    def`` functions use an `AsyncCache` built from the same arguments (see `get_async`).

    Args:
        **kwargs: the arguments of `stratacache.Cache` (max_entries, max_bytes, policy,
            default_ttl, namespace, strict, redis, ...).

    Raises:
        TypeError, ConfigError, InvalidTTLError: as `Cache`; the old default stays in place.
    """
    global _current, _current_async, _config
    from .caches import Cache  # noqa: PLC0415 - caches imports decorators, which imports us

    new = Cache(**kwargs)
    with _lock:
        _current, _current_async, _config = new, None, dict(kwargs)
        for site in list(_sites):
            site.bind(_for(site))
    return new


def _for(site: _Site) -> Cache | AsyncCache:
    return get_async() if site.is_async else get()


def track(site: _Site) -> None:
    """Registers a call site that uses the default cache, so configure() can rebind it."""
    with _lock:
        _sites.add(site)


def attach(site: _Site) -> None:
    """Binds a tracked call site to the current default (on its first call)."""
    with _lock:
        site.bind(_for(site))


def reset() -> None:
    """Forgets the default caches (tests): the next use builds them again from the environment.
    Sites bound earlier keep theirs until `configure()`."""
    global _current, _current_async, _config
    with _lock:
        _current, _current_async, _config = None, None, {}
