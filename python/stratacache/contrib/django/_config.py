"""How a CACHES entry becomes a stratacache `Cache`: LOCATION and OPTIONS, checked.

Backends whose LOCATION and OPTIONS are equal share one `Cache` per process, as Django's
LocMemCache shares one store per LOCATION: the aliases of one store (another KEY_PREFIX,
VERSION or KEY_FUNCTION) then see each other's writes at once, and one process holds one
set of Redis connections and one invalidation subscriber per Redis, not one per alias.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from ...caches import Cache
from ...errors import ConfigError
from ...tiers.redis.config import RedisOptions

__all__ = ["REDIS_SCHEMES", "cache_for", "close_shared", "split_options"]

REDIS_SCHEMES = ("redis://", "rediss://", "redis+sentinel://", "redis+cluster://")

#: OPTIONS passed to `Cache` unchanged (see its docstring).
CACHE_OPTIONS = frozenset(
    {
        "max_entries",
        "max_bytes",
        "policy",
        "namespace",
        "strict",
        "shards",
        "weigher",
        "codec",
        "l1",
        "stale_if_error",
        "record",
        "record_capacity",
    }
)

#: Django's own OPTIONS: MAX_ENTRIES is max_entries; CULL_FREQUENCY is accepted and ignored
#: (the eviction policy picks one victim at a time instead of culling a fraction).
DJANGO_OPTIONS = frozenset({"MAX_ENTRIES", "CULL_FREQUENCY"})

#: The backend's own: whether values are pickled (see `StrataCache`).
BACKEND_OPTIONS = frozenset({"pickle"})

_shared: dict[tuple[str, str], Cache] = {}
_lock = threading.Lock()


def split_options(options: object) -> tuple[dict[str, Any], bool]:
    """(keyword arguments of `Cache`, pickle) from a CACHES entry's OPTIONS.

    Raises:
        ConfigError: an option is unknown, or both MAX_ENTRIES and max_entries are given.
        TypeError: OPTIONS is not a mapping, `pickle` is not a bool, or redis_options is
            neither a RedisOptions nor a mapping of its fields.
    """
    if not isinstance(options, Mapping):
        msg = f"OPTIONS must be a dict, not {type(options).__name__}"
        raise TypeError(msg)
    known = CACHE_OPTIONS | DJANGO_OPTIONS | BACKEND_OPTIONS | {"redis_options"}
    unknown = sorted(str(k) for k in options if k not in known)
    if unknown:
        msg = f"unknown OPTIONS for StrataCache: {', '.join(unknown)} (known: {sorted(known)})"
        raise ConfigError(msg)
    kwargs = {k: v for k, v in options.items() if k in CACHE_OPTIONS}
    if "MAX_ENTRIES" in options:
        if "max_entries" in options:
            msg = "give MAX_ENTRIES or max_entries in OPTIONS, not both"
            raise ConfigError(msg)
        kwargs["max_entries"] = options["MAX_ENTRIES"]
    pickle = options.get("pickle", True)
    if not isinstance(pickle, bool):
        msg = f"OPTIONS['pickle'] must be a bool, not {type(pickle).__name__}"
        raise TypeError(msg)
    redis_options = options.get("redis_options")
    if isinstance(redis_options, Mapping):
        redis_options = RedisOptions(**redis_options)
    elif redis_options is not None and not isinstance(redis_options, RedisOptions):
        msg = f"redis_options must be a RedisOptions or a dict, not {type(redis_options).__name__}"
        raise TypeError(msg)
    if redis_options is not None:
        kwargs["redis_options"] = redis_options
    return kwargs, pickle


def cache_for(location: object, kwargs: Mapping[str, Any]) -> Cache:
    """The process's `Cache` for `location` (a Redis URL: L1 + Redis; else L1 alone).

    Raises:
        TypeError: LOCATION is not a str.
        ConfigError, TierUnavailableError, RedisAuthError: as `Cache`.
    """
    if not isinstance(location, str):
        msg = f"LOCATION must be a str, not {type(location).__name__}"
        raise TypeError(msg)
    ident = (location, repr(sorted(kwargs.items())))
    with _lock:
        cache = _shared.get(ident)
        if cache is None:
            redis = location if location.startswith(REDIS_SCHEMES) else None
            cache = Cache(redis=redis, **kwargs)
            _shared[ident] = cache
        return cache


def close_shared() -> None:
    """Closes every shared `Cache` (its Redis connections); the next backend opens anew."""
    with _lock:
        caches = list(_shared.values())
        _shared.clear()
    for cache in caches:
        cache.close()
