"""The process-wide default cache, `@stratacache.cache` (the decorator using it) and
`configure()`.

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
from collections.abc import Callable, Collection, Coroutine, Iterable
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, overload

from .caches import AsyncCache, Cache
from .decorators import DefaultSites, make_cache_decorator
from .errors import ConfigError

if TYPE_CHECKING:
    from ._call_site import _CallSite
    from ._options import TTL
    from ._refresh_options import RefreshAhead
    from .decorators import AsyncCachedFunction, CachedFunction, Decorator

__all__ = ["cache", "configure", "get", "get_async"]

P = ParamSpec("P")
R = TypeVar("R")

#: Environment variable naming the Redis tier of the default cache (a `Cache(redis=...)` URL).
URL_VARIABLE = "STRATACACHE_URL"


# Reentrant: attach() binds with get(), both under the lock.
_lock = threading.RLock()
_current: Cache | None = None
_current_async: AsyncCache | None = None
_config: dict[str, Any] = {}  # the arguments _current was built with, for its async twin
_sites: weakref.WeakSet[_CallSite[Any, Any]] = weakref.WeakSet()


def get() -> Cache:
    """The default cache, created with `Cache()`'s defaults if none exists yet (with a Redis
    tier when the environment variable STRATACACHE_URL holds its URL)."""
    global _current, _config
    with _lock:
        if _current is None:
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
    new = Cache(**kwargs)
    with _lock:
        _current, _current_async, _config = new, None, dict(kwargs)
        for site in list(_sites):
            site.bind(_for(site))
    return new


def _for(site: _CallSite[Any, Any]) -> Cache | AsyncCache:
    return get_async() if site.is_async else get()


def track(site: _CallSite[Any, Any]) -> None:
    """Registers a call site that uses the default cache, so configure() can rebind it."""
    with _lock:
        _sites.add(site)


def attach(site: _CallSite[Any, Any]) -> None:
    """Binds a tracked call site to the current default (on its first call)."""
    with _lock:
        site.bind(_for(site))


def reset() -> None:
    """Forgets the default caches (tests): the next use builds them again from the environment.
    Sites bound earlier keep theirs until `configure()`."""
    global _current, _current_async, _config
    with _lock:
        _current, _current_async, _config = None, None, {}


class _DefaultSites(DefaultSites):
    """The call sites of `cache` (the decorator below): tracked and bound here."""

    def track(self, site: _CallSite[Any, Any]) -> None:
        track(site)

    def attach(self, site: _CallSite[Any, Any]) -> None:
        attach(site)


_DEFAULT_SITES = _DefaultSites()


@overload
def cache(  # type: ignore[overload-overlap]
    func: Callable[P, Coroutine[Any, Any, R]], /
) -> AsyncCachedFunction[P, R]: ...
@overload
def cache(func: Callable[P, R], /) -> CachedFunction[P, R]: ...
@overload
def cache(
    func: None = ...,
    /,
    *,
    ttl: TTL = ...,
    namespace: str | None = ...,
    key: Callable[..., str] | None = ...,
    unless: Callable[[Any], object] | None = ...,
    ignore: Collection[str] | None = ...,
    tags: Collection[str] | None = ...,
    condition: Callable[[Any], object] | None = ...,
    depends_on: Callable[..., Iterable[str]] | None = ...,
    refresh_ahead: str | RefreshAhead | None = ...,
) -> Decorator: ...
def cache(func: Callable[..., Any] | None = None, /, **options: Any) -> Any:
    """Caches a function's results in the process-wide default cache.

    Use it bare (``@cache``) or with options (``@cache(ttl=60)``). Works on functions,
    ``async def`` functions and methods; the decorated function keeps its signature and gains
    ``invalidate(*args, **kwargs)``, ``cache_clear()`` and ``cache_info() -> CacheInfo``
    (functools' hits, misses, maxsize and currsize, and ours). ``cache_clear`` deletes every
    entry of the function (one pattern invalidation of its key prefix: with a Redis tier, a
    SCAN in Redis and a message to every process) and restarts the counters; it refuses a
    function with ``key=``. ``invalidate`` deletes
    the entry of those arguments from every tier and, through the Redis tier's message, from
    every process, as `Cache.delete` does; it returns True if the entry existed. A sync
    function's returns that bool; an ``async def``'s returns an awaitable of it (like
    `AsyncCache.delete`): L1 is cleared before it returns, Redis and the other processes once
    it is awaited.

    Args:
        func: the function, when used bare.
        **options: ttl: seconds a result lives (None = the cache's default_ttl; 0 = never
            stored). namespace: the cache namespace of the entries (None = the cache's).
            key: a callable receiving the call's arguments and returning the whole key (a
            str), instead of ``<module>.<qualname>:<canonical arguments>``. unless: a
            callable receiving the result; when it returns true the result is returned but
            not cached. ignore: parameter names left out of the key (default: none; a first
            ``self``/``cls`` is keyed by ``__cache_key__()``, its encoding or its class name,
            see the module docstring). tags: names the entries can be invalidated by
            (`Cache.invalidate_tags`); needs a cache with a Redis tier. condition: a
            callable receiving the result; only results it returns true for are cached
            (the others are returned; it runs after ``unless`` and, like it, an exception
            it raises propagates to the caller and nothing is stored). depends_on: a
            callable receiving the call's arguments and returning the keys (str, in the
            entry's namespace) its result depends on: deleting or invalidating one of them
            invalidates the entry too, transitively, in every process (`Cache.set`).
            refresh_ahead: "predict", "xfetch" or a `stratacache.RefreshAhead`: reload
            entries in the background before they expire (README, "Refresh-ahead").

    With a Redis tier, a result its codec cannot encode (a `SerializationError` once the
    function has run) is returned and kept in this process's L1 only, for the same TTL:
    other processes compute their own. It is counted in ``cache_info().unencodable`` and
    logged at WARNING on the ``stratacache`` logger (rate-limited; no value in the line).

    Returns:
        The decorated function, or a decorator when called with options only.

    Raises:
        TypeError: an option has the wrong type; at call time, an argument cannot be part
            of a key (the message names it), or a method's ``self`` has neither
            ``__cache_key__`` nor an encoding (the message names the class and the fixes).
        InvalidTTLError: ttl is negative or NaN.
        RuntimeError: at call time, the function asked for its own result while computing it.
    """
    return make_cache_decorator(_DEFAULT_SITES, func, **options)
