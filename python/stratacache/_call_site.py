"""The call site of a decorated function: what its wrapper and helpers share (`_CallSite`).

Built once per decorated function by `decorators._decorate`: key builder, TTL, namespace, the
bound cache's L1 callables and the single-flight registry, and the miss path (`load`), the
invalidation and the counters behind `cache_info()`.
"""

from __future__ import annotations

import inspect
import itertools
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, TypeVar

from . import _core
from ._decorated import CacheHooks, CacheInfo
from ._deps import check_depends_on
from ._flight import Flight
from ._keys import KeyBuilder
from ._log import RateLimited
from ._options import is_auto_ttl
from ._warm_calls import ArgMemory, arg_memory_of
from .errors import ConfigError, SerializationError
from .tiers.chain import Load, glob_escape

if TYPE_CHECKING:  # AutoTTL's modules load with the first AutoTTL (issue 17's import cost)
    from ._autottl import AutoTTL

__all__ = ["DefaultSites", "stores_only_if"]

P = ParamSpec("P")
R = TypeVar("R")

_MISS: Any = object()
_UNKEYED: Any = object()  # the async probe built no key: the Python wrapper builds it


class DefaultSites:
    """Stands for the process-wide default cache in `make_cache_decorator`: its call sites are
    tracked at decoration, bound on first use and rebound by configure(). `_default` defines
    the one implementation."""

    def track(self, site: _CallSite[Any, Any]) -> None:
        """Registers `site`, so configure() can rebind it."""
        raise NotImplementedError

    def attach(self, site: _CallSite[Any, Any]) -> None:
        """Binds `site` to the current default cache."""
        raise NotImplementedError


def stores_only_if(
    unless: Callable[[Any], object] | None, condition: Callable[[Any], object] | None
) -> Callable[[Any], object] | None:
    """The one filter the tiers apply to a result (`Load.unless`): true means "do not store".
    `unless(result)` true, or `condition(result)` false, skips it; `unless` runs first."""
    if condition is None:
        return unless
    if unless is None:
        return lambda value: not condition(value)
    return lambda value: bool(unless(value)) or not condition(value)


def _count(counter: itertools.count[int]) -> int:
    """Current value of an itertools.count without advancing it (its repr is "count(N)")."""
    return int(repr(counter)[6:-1])


class _CallSite(Generic[P, R]):
    """Everything one decorated function shares between its wrapper and its helpers.

    `get`/`set` are the bound cache's L1 callables. `globals` is the wrapper's global
    namespace: the wrapper reads the getter as the global ``_sc_get`` (cheaper than an
    attribute), so `bind` writes it there too and `configure()` can rebind a default-cache
    function while it is in use.
    """

    def __init__(
        self,
        func: Callable[P, R],
        cache: CacheHooks | DefaultSites,
        *,
        ttl: float | AutoTTL | None,
        namespace: str | None,
        keys: KeyBuilder,
        unless: Callable[[Any], object] | None,
        tags: tuple[str, ...] = (),
        refresh_ahead: Any = None,
    ) -> None:
        self.func = func
        self.is_async = inspect.iscoroutinefunction(func)
        self.keys = keys
        # The TTL as given (an AutoTTL too), and the float every set passes (AutoTTL's
        # tuner rewrites it; `_autottl_live`).
        self.ttl_given = ttl
        self.ttl: float | None = ttl.min if is_auto_ttl(ttl) else ttl
        self.auto_feed: Callable[[str, Any], None] | None = None
        self.namespace = namespace
        self.unless = unless
        self.tags = tags
        # Keys a call's result depends on (fn(*args, **kwargs)); set by decorators._decorate.
        self.depends_on: Callable[..., Iterable[str]] | None = None
        # The cache's tiered miss path (Redis, then the function), None for an L1-only cache.
        self.tier_load: Callable[..., Any] | None = None
        self.flight = Flight()
        self.hits = itertools.count()
        self.loads = itertools.count()
        self.unencodable = itertools.count()
        self._zero = (0, 0, 0, 0)  # the counters at the last cache_clear()
        self._unencodable_log = RateLimited(
            "%s returned a value the Redis tier's codec cannot encode (%s): kept in L1 only"
        )
        self.cache: CacheHooks | None = None
        self.arg_memory: ArgMemory | None = None  # with a predictor: f.warm()'s calls
        # refresh_ahead= (`_refresh_options.RefreshAhead` or None); each bind makes the
        # refresher (`_refresh_ahead.Refresher`) for its cache.
        self.refresh_ahead: Any = refresh_ahead
        self.refresher: Any = None
        self._sites = cache if isinstance(cache, DefaultSites) else None
        self.get: Callable[..., Any] = self._attach_then_get
        self.set: Callable[..., None] = self._attach_then_set
        self.peek: Callable[..., Any] = self._attach_then_get
        self.globals: dict[str, Any] = {"_sc_get": self.get}
        # The C hit path (sync: the decorated function itself; async: a probe the wrapper
        # calls first), bound to the cache's getter whenever the site is bound.
        arity = keys.fast_arity()
        self.fast: Any = None
        xfetch = refresh_ahead is not None and refresh_ahead.mode == "xfetch"
        if arity is not None and not xfetch:  # XFetch's getter is Python: no C hit path
            self.fast = _core.cached_call(None, _MISS, keys.head, arity, unkeyed=_UNKEYED)
        if isinstance(cache, DefaultSites):
            cache.track(self)
        else:
            self.bind(cache)

    def bind(self, cache: CacheHooks) -> None:
        """Points this site at `cache` (called once, or again by configure())."""
        ns = cache.namespace if self.namespace is None else self.namespace
        get = cache._getter(ns)
        peeker = getattr(cache, "_peeker", None)
        self.peek = get if peeker is None else peeker(ns)
        self.set = cache._setter(ns)
        self.tier_load = cache._tier_loader(ns)
        if self.tags and self.tier_load is None:
            msg = f"{self.keys.func_name}: tags need a cache with a Redis tier"
            raise ConfigError(msg)
        if self.tier_load is not None and inspect.iscoroutinefunction(
            self.tier_load.func  # type: ignore[attr-defined]
        ) != inspect.iscoroutinefunction(self.func):
            kind = "an async" if inspect.iscoroutinefunction(self.func) else "a sync"
            msg = (
                f"{self.keys.func_name} is {kind} function: with a Redis tier, cache async "
                "functions in an AsyncCache and sync ones in a Cache"
            )
            raise ConfigError(msg)
        self.cache = cache
        self.auto_feed = None  # no tuner and no AutoTTL: site_feed's answer, without loading it
        if getattr(cache, "_autottl", None) is not None or is_auto_ttl(self.ttl_given):
            from ._autottl_live import site_feed  # noqa: PLC0415

            self.auto_feed = site_feed(cache, self, ns)
        self.arg_memory = arg_memory_of(cache, ns)
        self.refresher = None
        if self.refresh_ahead is not None:  # concurrent.futures and all: loaded when asked for
            from ._refresh_ahead import attach  # noqa: PLC0415

            get = attach(self, cache, ns, get)
        self.get = self.globals["_sc_get"] = get
        if self.fast is not None:
            self.fast.bind(get)

    def _attach(self) -> None:
        """First use of a default-cache site: create or fetch the default cache now."""
        assert self._sites is not None  # a site given its cache is bound from the start
        self._sites.attach(self)

    def _attach_then_get(self, key: str, default: Any) -> Any:
        self._attach()
        return self.get(key, default)

    def _attach_then_set(self, key: str, value: Any, ttl: float | None = None) -> None:
        self._attach()
        self.set(key, value, ttl)

    def current_cache(self) -> CacheHooks:
        if self.cache is None:
            self._attach()
        assert self.cache is not None
        return self.cache

    def _ns(self) -> str:
        cache = self.current_cache()
        return cache.namespace if self.namespace is None else self.namespace

    def _dependencies(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[str, ...]:
        """The keys this call's result depends on (none without ``depends_on=``), recorded
        before the function runs so an invalidation during the call still reaches it."""
        if self.depends_on is None:
            return ()
        return check_depends_on(self.depends_on(*args, **kwargs))

    def _store(self, key: str, value: Any) -> None:
        if self.unless is None or not self.unless(value):
            self.set(key, value, self.ttl)

    def _keep_in_l1(self, key: str, value: Any, error: SerializationError) -> Any:
        """A result the tier could not encode: kept in this process's L1 only, counted, logged
        (the type of the error only: its message may describe the value)."""
        cache = self.current_cache()
        tier = cache._tier
        ns = cache.namespace if self.namespace is None else self.namespace
        tier.l1_store(ns, key, value, tier.resolve_ttl(self.ttl), self.tags)
        next(self.unencodable)
        self._unencodable_log.hit(self.keys.func_name, type(error.__cause__ or error).__name__)
        return value

    def load(self, key: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Miss path of a sync function, given the key the C entry or the wrapper built after
        its one counted L1 miss. The leader re-checks L1 with an uncounted peek (a load of the
        same key may have finished in another thread since that miss); waiters do not look."""
        result: list[Any] = []  # what the function returned, if it ran
        if self.arg_memory is not None:
            self.arg_memory.remember(key, args, kwargs)

        def loader() -> Any:
            # A load that finished between our miss and our lead has stored the value.
            value = self.peek(key, _MISS)
            if value is not _MISS:
                return value
            on = self._dependencies(args, kwargs)
            if on and not self.current_cache()._link(self._ns(), key, on, self.ttl):
                return compute()  # refused (a key has too many dependents): not stored
            if self.tier_load is not None:
                try:
                    return self.tier_load(key, Load(compute, self.ttl, self.tags, self.unless))
                except SerializationError as e:
                    if not result:  # raised by the function itself
                        raise
                    return self._keep_in_l1(key, result[0], e)
            value = compute()
            self._store(key, value)
            return value

        def compute() -> Any:
            next(self.loads)
            started = time.perf_counter()
            value = self.func(*args, **kwargs)
            if self.refresher is not None:
                self.refresher.timed(time.perf_counter() - started)
            result.append(value)
            if self.auto_feed is not None:
                self.auto_feed(key, value)
            return value

        value = self.flight.run(key, loader)
        if self.refresher is not None:
            self.refresher.loaded(key, args, kwargs)
        return value

    async def load_async(self, key: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Miss path of an async function."""

        result: list[Any] = []
        if self.arg_memory is not None:
            self.arg_memory.remember(key, args, kwargs)

        async def loader() -> Any:
            value = self.peek(key, _MISS)
            if value is not _MISS:
                return value
            on = self._dependencies(args, kwargs)
            if on and not await self.current_cache()._link_async(self._ns(), key, on, self.ttl):
                return await compute()  # refused: not stored
            if self.tier_load is not None:
                try:
                    load = Load(compute, self.ttl, self.tags, self.unless)
                    return await self.tier_load(key, load)
                except SerializationError as e:
                    if not result:
                        raise
                    return self._keep_in_l1(key, result[0], e)
            value = await compute()
            self._store(key, value)
            return value

        async def compute() -> Any:
            next(self.loads)
            started = time.perf_counter()
            value = await self.func(*args, **kwargs)  # type: ignore[misc]
            if self.refresher is not None:
                self.refresher.timed(time.perf_counter() - started)
            result.append(value)
            if self.auto_feed is not None:
                self.auto_feed(key, value)
            return value

        value = await self.flight.run_async(key, loader)
        if self.refresher is not None:
            self.refresher.loaded(key, args, kwargs)
        return value

    def invalidate(self, *args: Any, **kwargs: Any) -> bool | Awaitable[bool]:
        """A sync function's: deletes the key from every tier now. An async function's: deletes
        it from L1 now and returns the coroutine that deletes it from the lower tiers."""
        key = self.keys.invalidation_key(args, kwargs)
        cache = self.current_cache()
        ns = cache.namespace if self.namespace is None else self.namespace
        if not self.is_async:
            return cache._delete(ns, key)
        # L1 at once, so a caller that forgets to await still stops reading the old value here.
        local = cache._l1_delete(ns, key)
        return self._invalidate_rest(cache, ns, key, local)

    @staticmethod
    async def _invalidate_rest(cache: CacheHooks, ns: str, key: str, local: bool) -> bool:
        return await cache._delete_async(ns, key) or local

    def _counters(self) -> tuple[int, int, int, int]:
        hits = _count(self.hits) + (0 if self.fast is None else self.fast.hits)
        return hits, self.flight.misses, _count(self.loads), _count(self.unencodable)

    def cache_info(self) -> CacheInfo:
        hits, misses, loads, unencodable = (
            now - then for now, then in zip(self._counters(), self._zero, strict=True)
        )
        cache = self.current_cache()
        head = self.keys.stored_head()
        ns = cache.namespace if self.namespace is None else self.namespace
        size = None if head is None else cache._l1_count(ns, head)
        return CacheInfo(
            hits, misses, loads, self.flight.in_flight, unencodable, cache._max_entries, size
        )

    def cache_clear(self) -> Awaitable[None] | None:
        """Deletes this function's entries by the pattern of its key prefix (every tier, every
        process) and restarts the counters; an async function's returns the awaitable."""
        head = self.keys.stored_head()
        if head is None:
            msg = (
                f"cache_clear() of {self.keys.func_name}: its key= function chooses keys "
                "without a common prefix; delete them with invalidate() or invalidate_pattern()"
            )
            raise TypeError(msg)
        pattern = glob_escape(head) + "*"
        cache = self.current_cache()
        ns = cache.namespace if self.namespace is None else self.namespace
        self._zero = self._counters()
        if not self.is_async:
            cache._drop_pattern(ns, pattern)
            return None
        cache._l1_drop_pattern(ns, pattern)  # at once, as invalidate() does
        return cache._drop_pattern_async(ns, pattern)
