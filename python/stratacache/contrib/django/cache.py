"""`StrataCache`: Django's cache API over a stratacache `Cache` (L1 alone, or L1 + Redis).

Django's semantics are kept: timeouts in seconds (DEFAULT_TIMEOUT = the entry's TIMEOUT,
None = forever, 0 or less = expire at once), keys made by KEY_PREFIX/VERSION/KEY_FUNCTION
and checked by `validate_key` (CacheKeyWarning), `add` and `incr` atomic (across processes
with Redis: `Cache.add`/`Cache.incr`), `incr` of a missing key raising ValueError.

Values are pickled, as every Django backend does: a later change to the object does not
change the cached copy, and any picklable object can be cached. ints are stored as ints so
that `incr` works on them in Redis (as Django's RedisCache does). OPTIONS ``pickle: False``
stores references in L1 instead (faster; the codec encodes them for Redis).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from ..._extras import require
from .._pickled import dumps, loads, same
from ._config import cache_for, split_options

_base = require("django.core.cache.backends.base", "django", "stratacache.contrib.django")
BaseCache: Any = _base.BaseCache
DEFAULT_TIMEOUT: Any = _base.DEFAULT_TIMEOUT

__all__ = ["StrataCache"]

_MISS: Any = object()


class StrataCache(BaseCache):  # type: ignore[misc]
    """A Django cache backend (``"BACKEND": "stratacache.contrib.django.StrataCache"``).

    LOCATION: a Redis URL (``redis://``, ``rediss://``, ``redis+sentinel://``,
    ``redis+cluster://``) for L1 + Redis; anything else (``""``, a name) for L1 alone, one
    store per name. Backends with equal LOCATION and OPTIONS share one `Cache` per process.

    OPTIONS: `Cache`'s arguments (max_entries, max_bytes, policy, namespace, shards, strict,
    weigher, codec, l1, stale_if_error, record, record_capacity, redis_options as a
    `RedisOptions` or a dict of its fields), Django's MAX_ENTRIES (= max_entries) and
    CULL_FREQUENCY (ignored: the policy evicts one entry at a time), and ``pickle`` (default
    True; see the module docstring).

    Raises:
        ConfigError: an unknown option, or one `Cache` refuses.
        TypeError: LOCATION or an option has the wrong type.
    """

    def __init__(self, server: str, params: Mapping[str, Any]) -> None:
        kwargs, pickled = split_options(params.get("OPTIONS", {}))  # before Django reads them
        super().__init__(params)
        self._cache = cache_for(server or "", kwargs)
        self._dumps = dumps if pickled else same
        self._loads = loads if pickled else same
        self._blocks = self._cache._tier is not None  # a Redis tier: calls wait on sockets

    def _ttl(self, timeout: Any) -> float:
        """Django's timeout as a `Cache` TTL: None = forever, <= 0 = expire at once."""
        if timeout is DEFAULT_TIMEOUT:
            timeout = self.default_timeout
        if timeout is None:
            return math.inf
        seconds = float(timeout)
        return seconds if seconds > 0 else 0.0

    def get(self, key: Any, default: Any = None, version: Any = None) -> Any:
        value = self._cache.get(self.make_and_validate_key(key, version=version), _MISS)
        return default if value is _MISS else self._loads(value)

    def set(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> None:
        made = self.make_and_validate_key(key, version=version)
        self._cache.set(made, self._dumps(value), self._ttl(timeout))

    def add(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> bool:
        made = self.make_and_validate_key(key, version=version)
        return self._cache.add(made, self._dumps(value), self._ttl(timeout))

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> bool:
        made = self.make_and_validate_key(key, version=version)
        return self._cache.touch(made, self._ttl(timeout))

    def delete(self, key: Any, version: Any = None) -> bool:
        return self._cache.delete(self.make_and_validate_key(key, version=version))

    def has_key(self, key: Any, version: Any = None) -> bool:
        return self._cache.contains(self.make_and_validate_key(key, version=version))

    def incr(self, key: Any, delta: int = 1, version: Any = None) -> int:
        made = self.make_and_validate_key(key, version=version)
        try:
            return self._cache.incr(made, delta)
        except KeyError:
            msg = f"Key '{key}' not found"
            raise ValueError(msg) from None

    def get_many(self, keys: Iterable[Any], version: Any = None) -> dict[Any, Any]:
        made = {self.make_and_validate_key(k, version=version): k for k in keys}
        found = self._cache.get_many(made)
        return {made[k]: self._loads(v) for k, v in found.items()}

    def set_many(
        self, data: Mapping[Any, Any], timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> list[Any]:
        items = {
            self.make_and_validate_key(k, version=version): self._dumps(v) for k, v in data.items()
        }
        self._cache.set_many(items, self._ttl(timeout))
        return []

    def delete_many(self, keys: Iterable[Any], version: Any = None) -> None:
        self._cache.delete_many([self.make_and_validate_key(k, version=version) for k in keys])

    def clear(self) -> None:
        self._cache.clear()

    def close(self, **kwargs: Any) -> None:
        """Django closes caches after each request; the shared `Cache` stays open."""


def _without_thread(name: str) -> Any:
    """The async twin of method `name`: the sync call itself when the cache is L1 alone (it
    never blocks, so Django's thread hop would be pure cost), else Django's sync_to_async."""
    inherited = getattr(BaseCache, "a" + name)

    async def method(self: StrataCache, *args: Any, **kwargs: Any) -> Any:
        if self._blocks:
            return await inherited(self, *args, **kwargs)
        return getattr(self, name)(*args, **kwargs)

    method.__name__ = method.__qualname__ = "a" + name
    method.__doc__ = f"See `{name}`."
    return method


for _name in (
    "get",
    "set",
    "add",
    "touch",
    "delete",
    "has_key",
    "incr",
    "get_many",
    "set_many",
    "delete_many",
    "clear",
):
    setattr(StrataCache, "a" + _name, _without_thread(_name))
