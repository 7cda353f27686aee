"""Flask integration: Flask-Caching's `Cache` (cached, memoize, ...) over a stratacache `Cache`.

    from stratacache.contrib.flask import Cache

    app.config["STRATACACHE_URL"] = "redis://127.0.0.1:6379/0"   # None: L1 alone
    cache = Cache(app)

    @app.get("/items/<int:n>")
    @cache.cached(timeout=60, query_string=True)
    def item(n): ...

    @cache.memoize(timeout=300)
    def price(sku): ...
    cache.delete_memoized(price, "A1")

The decorators are Flask-Caching's own (the API its users know, kept by its maintainers);
this module supplies the storage they call, `StrataBackend`. Config keys:

- ``STRATACACHE_URL``: a Redis URL for L1 + Redis; None (default) for L1 alone.
- ``STRATACACHE_OPTIONS``: a dict of `stratacache.Cache` arguments (max_entries, ...).
- ``STRATACACHE_PICKLE``: pickle values as cachelib's backends do (default True).
- ``CACHE_DEFAULT_TIMEOUT`` (Flask-Caching's): seconds; 0 = never expires, as in cachelib.

Or pass an existing cache: ``Cache(app, cache=stratacache.Cache(...))``. Needs the `flask`
extra (``pip install 'stratacache[flask]'``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from .. import caches
from .._extras import require
from ._pickled import dumps, loads, same

FlaskCaching: Any = require("flask_caching", "flask", "stratacache.contrib.flask").Cache
BaseCache: Any = require(
    "flask_caching.backends.base", "flask", "stratacache.contrib.flask"
).BaseCache

__all__ = ["Cache", "StrataBackend"]

_MISS: Any = object()
BACKEND = f"{__name__}.StrataBackend"


class StrataBackend(BaseCache):  # type: ignore[misc]
    """Flask-Caching's storage interface (cachelib's `BaseCache`) over a stratacache `Cache`.

    Timeouts follow cachelib: None = the default timeout, 0 = never expires, below 0 =
    expires at once. `inc` of a missing key starts it at `delta`, as cachelib's backends do.
    """

    def __init__(self, cache: object, default_timeout: int = 300, *, pickled: bool = True) -> None:
        if not isinstance(cache, caches.Cache):
            msg = f"cache must be a stratacache.Cache, not {type(cache).__name__}"
            raise TypeError(msg)
        super().__init__(default_timeout=default_timeout)
        self.cache = cache
        self._dumps = dumps if pickled else same
        self._loads = loads if pickled else same

    @classmethod
    def factory(  # the signature Flask-Caching calls
        cls,
        app: Any,  # noqa: ARG003
        config: Mapping[str, Any],
        args: Any,  # noqa: ARG003
        kwargs: Mapping[str, Any],
    ) -> StrataBackend:
        """Builds the backend from the app's config (see the module docstring).

        Raises:
            TypeError: STRATACACHE_URL is not a str, STRATACACHE_OPTIONS not a dict, or
                STRATACACHE_PICKLE not a bool; an unknown option (as `stratacache.Cache`).
            ConfigError, TierUnavailableError: as `stratacache.Cache`.
        """
        pickled = config.get("STRATACACHE_PICKLE", True)
        if not isinstance(pickled, bool):
            msg = f"STRATACACHE_PICKLE must be a bool, not {type(pickled).__name__}"
            raise TypeError(msg)
        cache = config.get("STRATACACHE_CACHE")
        if cache is None:
            url = config.get("STRATACACHE_URL")
            options = config.get("STRATACACHE_OPTIONS") or {}
            if url is not None and not isinstance(url, str):
                msg = f"STRATACACHE_URL must be a str or None, not {type(url).__name__}"
                raise TypeError(msg)
            if not isinstance(options, Mapping):
                msg = f"STRATACACHE_OPTIONS must be a dict, not {type(options).__name__}"
                raise TypeError(msg)
            cache = caches.Cache(redis=url, **options)
        return cls(cache, kwargs.get("default_timeout", 300), pickled=pickled)

    def _ttl(self, timeout: float | None) -> float:
        seconds = self._normalize_timeout(timeout)
        if seconds == 0:
            return math.inf
        return max(float(seconds), 0.0)

    def get(self, key: str) -> Any:
        value = self.cache.get(key, _MISS)
        return None if value is _MISS else self._loads(value)

    def set(self, key: str, value: Any, timeout: float | None = None) -> bool:
        self.cache.set(key, self._dumps(value), self._ttl(timeout))
        return True

    def add(self, key: str, value: Any, timeout: float | None = None) -> bool:
        return self.cache.add(key, self._dumps(value), self._ttl(timeout))

    def delete(self, key: str) -> bool:
        return self.cache.delete(key)

    def has(self, key: str) -> bool:
        return self.cache.contains(key)

    def get_many(self, *keys: str) -> list[Any]:
        found = self.cache.get_many(keys)
        return [self._loads(found[k]) if k in found else None for k in keys]

    def get_dict(self, *keys: str) -> dict[str, Any]:
        return dict(zip(keys, self.get_many(*keys), strict=True))

    def set_many(self, mapping: Mapping[str, Any], timeout: float | None = None) -> list[Any]:
        self.cache.set_many({k: self._dumps(v) for k, v in mapping.items()}, self._ttl(timeout))
        return list(mapping)

    def delete_many(self, *keys: str) -> list[Any]:
        self.cache.delete_many(keys)
        return list(keys)

    def clear(self) -> bool:
        self.cache.clear()
        return True

    def inc(self, key: str, delta: int = 1) -> int:
        """Adds `delta` atomically (`Cache.incr`); a missing key starts at `delta`."""
        for _ in range(100):  # each round lost a race with a delete or an add of the key
            try:
                return self.cache.incr(key, delta)
            except KeyError:
                if self.cache.add(key, delta, self._ttl(None)):
                    return delta
        msg = f"inc({key!r}) kept racing deletes of the key"
        raise RuntimeError(msg)

    def dec(self, key: str, delta: int = 1) -> int:
        return self.inc(key, -delta)


class Cache(FlaskCaching):  # type: ignore[misc]
    """Flask-Caching's `Cache` storing in stratacache: `cached`, `memoize`,
    `delete_memoized`, `clear`, `get`/`set` and the rest of its API, unchanged.

    Args:
        app: the Flask app (or call `init_app` later).
        config: overrides of app.config for this cache.
        cache: an existing `stratacache.Cache` to store in, instead of one built from
            STRATACACHE_URL / STRATACACHE_OPTIONS.
        kwargs: Flask-Caching's other arguments (with_jinja2_ext).
    """

    def __init__(
        self,
        app: Any = None,
        config: dict[str, Any] | None = None,
        *,
        cache: object = None,
        **kwargs: Any,
    ) -> None:
        if cache is not None and not isinstance(cache, caches.Cache):
            msg = f"cache must be a stratacache.Cache or None, not {type(cache).__name__}"
            raise TypeError(msg)
        self._strata = cache
        super().__init__(app=app, config=config, **kwargs)

    def init_app(self, app: Any, config: dict[str, Any] | None = None) -> None:
        config = dict(config or {})
        config["CACHE_TYPE"] = BACKEND
        if self._strata is not None:
            config["STRATACACHE_CACHE"] = self._strata
        super().init_app(app, config)

    @property
    def backend(self) -> StrataBackend:
        """The storage of the current app."""
        backend: StrataBackend = self.cache
        return backend
