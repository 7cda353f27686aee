"""The machinery of the `cache` decorator: memoise sync or async functions and methods.

``@stratacache.cache`` (bare, like `functools.cache`) and ``@stratacache.cache(ttl=...)`` use
the process-wide default cache (`stratacache._default`, which defines them; with a Redis tier,
``async def`` functions use its `AsyncCache` twin); ``@my_cache.cache(...)`` uses a given
`Cache` or `AsyncCache`. Both go through `make_cache_decorator`. Imports run one way:
`_default` -> `caches` -> `_base` -> here; this module knows the default cache only through
the `DefaultSites` it is handed.

At decoration time everything about the function is computed once into a `_CallSite` (key
builder, TTL, namespace, the cache's L1 get/set callables, the single-flight registry), and
one of two small wrappers is returned, chosen by `inspect.iscoroutinefunction`:

* hit: build the key, one L1 get, return. Nothing else runs; only a C-level counter ticks.
  The wrapper is compiled from a fixed template with the function's own parameter list,
  so CPython binds each call and the key of scalar arguments is a single f-string.
* miss: single-flight by key (`_flight`), so N concurrent misses make one loader call; the
  leader checks L1 again (a load may have just finished), calls the function, and stores
  the result unless ``unless(result)`` is true. Loader exceptions propagate unchanged to
  every caller waiting on that load and nothing is cached.

Methods: decorate the function inside the class. With ``@classmethod``/``@staticmethod``
both orders work at run time; put them above ``@cache``, as with `functools.cache`. Known
typing gap: mypy rejects a cached classmethod called through its class and a cached
staticmethod called through an instance (it applies `CachedFunction.__get__` through the
classmethod/staticmethod); instance methods and plain functions type-check fully.

A first ``self`` is part of the key: ``self.__cache_key__()`` when the class defines it, else
the instance's own encoding when its type is one `stratacache._keys` encodes (a str subclass,
a tuple subclass, ...), else the call raises TypeError naming the class and the fixes:
define ``__cache_key__``, pass ``ignore=("self",)`` (entries shared by every instance, the
old behaviour) or ``key=``. A first ``cls`` is keyed by the class's qualified name, so a
subclass has its own entries. Such a method is wrapped in a C descriptor
(`_core.cached_method`) that binds both the call and ``invalidate`` to the instance (or
class): ``obj.method.invalidate(item)`` deletes obj's entry, ``Class.method.invalidate(obj,
item)`` too; ``obj.method(...)`` passes obj first with no Python frame, as a function does.
With ``@classmethod`` above ``@cache`` on Python 3.13+ (classmethod no longer chains
descriptors), ``invalidate`` through the class needs the class first: put ``@cache`` above
``@classmethod`` there. Methods never take the C hit path (`_core.cached_call` formats no
instance): their key is built in Python, ``self``'s part by `stratacache._keys.identity`.
"""

from __future__ import annotations

import functools
import inspect
import itertools
from collections.abc import Awaitable, Callable, Collection, Coroutine
from typing import (
    TYPE_CHECKING,
    Any,
    Concatenate,
    Generic,
    NamedTuple,
    ParamSpec,
    Protocol,
    TypeVar,
    overload,
)

from . import _core
from ._flight import Flight
from ._keys import KeyBuilder, compile_function
from ._log import RateLimited
from ._options import TTL, check_namespace, check_ttl, require_callable
from .errors import ConfigError, SerializationError
from .tiers.chain import Load, check_tags, glob_escape

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = [
    "AsyncCachedFunction",
    "CacheInfo",
    "CachedFunction",
    "DefaultSites",
    "make_cache_decorator",
]

P = ParamSpec("P")
P2 = ParamSpec("P2")
R = TypeVar("R")
S = TypeVar("S")

_MISS: Any = object()
_UNKEYED: Any = object()  # the async probe built no key: the Python wrapper builds it


class CacheInfo(NamedTuple):
    """Counters of one decorated function.

    hits: calls answered from the cache (counted on the hit path by an `itertools.count`).
    misses: calls that did not find a value; each either ran the function or waited for a
    concurrent call of the same key to run it. loader_calls: times the function ran.
    in_flight: keys whose function call is under way now. unencodable: results the Redis
    tier's codec could not encode, kept in this process's L1 only (logged, rate-limited).
    maxsize, currsize: as in `functools.lru_cache`: the cache's max_entries (None when only
    max_bytes bounds it) and how many entries of this function L1 holds now (None with
    ``key=``, whose keys have no common prefix). `cache_clear` restarts the counters.
    """

    hits: int
    misses: int
    loader_calls: int
    in_flight: int
    unencodable: int = 0
    maxsize: int | None = None
    currsize: int | None = None


class CachedFunction(Protocol[P, R]):
    """A decorated function: the function's own signature plus cache controls."""

    __wrapped__: Callable[P, R]

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R: ...

    def invalidate(self, *args: P.args, **kwargs: P.kwargs) -> bool:
        """Deletes the entry of these arguments from every tier and process (with a Redis tier,
        as `Cache.delete` does); True if it existed. A method's: called through the instance."""
        ...

    def cache_info(self) -> CacheInfo:
        """This function's counters."""
        ...

    def cache_clear(self) -> None:
        """Deletes every entry of this function from every tier and process (one pattern
        invalidation) and restarts its counters, as `functools.lru_cache`'s does."""
        ...

    @overload
    def __get__(self, instance: None, owner: type[Any] | None = None, /) -> Self: ...
    @overload
    def __get__(
        self: CachedFunction[Concatenate[S, P2], R],
        instance: S,
        owner: type[Any] | None = None,
        /,
    ) -> CachedFunction[P2, R]: ...


class AsyncCachedFunction(Protocol[P, R]):
    """A decorated ``async def``: awaiting a call gives R; `invalidate` is awaited too."""

    __wrapped__: Callable[P, Coroutine[Any, Any, R]]

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> Coroutine[Any, Any, R]: ...

    def invalidate(self, *args: P.args, **kwargs: P.kwargs) -> Awaitable[bool]:
        """Deletes the entry of these arguments from every tier and process; await it for the
        Redis delete and its message (L1 is cleared before it returns). True if it existed."""
        ...

    def cache_info(self) -> CacheInfo:
        """This function's counters."""
        ...

    def cache_clear(self) -> Awaitable[None]:
        """Like `CachedFunction.cache_clear`; L1 at once, the lower tiers when awaited."""
        ...

    @overload
    def __get__(self, instance: None, owner: type[Any] | None = None, /) -> Self: ...
    @overload
    def __get__(
        self: AsyncCachedFunction[Concatenate[S, P2], R],
        instance: S,
        owner: type[Any] | None = None,
        /,
    ) -> AsyncCachedFunction[P2, R]: ...


class _CacheHooks(Protocol):
    """What the decorator needs from Cache/AsyncCache: plain sync calls, L1 never blocks."""

    namespace: str
    _tier: Any  # the TierState, None without a tier
    _max_entries: int | None

    def _getter(self, namespace: str) -> Callable[..., Any]: ...
    def _setter(self, namespace: str) -> Callable[..., None]: ...
    def _delete(self, namespace: str, key: str) -> bool: ...
    def _l1_delete(self, namespace: str, key: str) -> bool: ...
    async def _delete_async(self, namespace: str, key: str) -> bool: ...
    def _l1_count(self, namespace: str, head: str) -> int: ...
    def _l1_drop_pattern(self, namespace: str, pattern: str) -> None: ...
    def _drop_pattern(self, namespace: str, pattern: str) -> None: ...
    async def _drop_pattern_async(self, namespace: str, pattern: str) -> None: ...
    def _tier_loader(self, namespace: str) -> Callable[..., Any] | None: ...


class Decorator(Protocol):
    """What ``cache(...)`` with options returns: applied to a function, its cached form."""

    @overload
    def __call__(  # type: ignore[overload-overlap]
        self, func: Callable[P, Coroutine[Any, Any, R]], /
    ) -> AsyncCachedFunction[P, R]: ...
    @overload
    def __call__(self, func: Callable[P, R], /) -> CachedFunction[P, R]: ...


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
        cache: _CacheHooks | DefaultSites,
        *,
        ttl: float | None,
        namespace: str | None,
        keys: KeyBuilder,
        unless: Callable[[Any], object] | None,
        tags: tuple[str, ...] = (),
    ) -> None:
        self.func = func
        self.is_async = inspect.iscoroutinefunction(func)
        self.keys = keys
        self.ttl = ttl
        self.namespace = namespace
        self.unless = unless
        self.tags = tags
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
        self.cache: _CacheHooks | None = None
        self._sites = cache if isinstance(cache, DefaultSites) else None
        self.get: Callable[..., Any] = self._attach_then_get
        self.set: Callable[..., None] = self._attach_then_set
        self.peek: Callable[..., Any] = self._attach_then_get
        self.globals: dict[str, Any] = {"_sc_get": self.get}
        # The C hit path (sync: the decorated function itself; async: a probe the wrapper
        # calls first), bound to the cache's getter whenever the site is bound.
        arity = keys.fast_arity()
        self.fast: Any = None
        if arity is not None:
            self.fast = _core.cached_call(None, _MISS, keys.head, arity, unkeyed=_UNKEYED)
        if isinstance(cache, DefaultSites):
            cache.track(self)
        else:
            self.bind(cache)

    def bind(self, cache: _CacheHooks) -> None:
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

    def current_cache(self) -> _CacheHooks:
        if self.cache is None:
            self._attach()
        assert self.cache is not None
        return self.cache

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

        def loader() -> Any:
            # A load that finished between our miss and our lead has stored the value.
            value = self.peek(key, _MISS)
            if value is not _MISS:
                return value
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
            value = self.func(*args, **kwargs)
            result.append(value)
            return value

        return self.flight.run(key, loader)

    async def load_async(self, key: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Miss path of an async function."""

        result: list[Any] = []

        async def loader() -> Any:
            value = self.peek(key, _MISS)
            if value is not _MISS:
                return value
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
            value = await self.func(*args, **kwargs)  # type: ignore[misc]
            result.append(value)
            return value

        return await self.flight.run_async(key, loader)

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
    async def _invalidate_rest(cache: _CacheHooks, ns: str, key: str, local: bool) -> bool:
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


# The two wrappers. They take the decorated function's own parameters (see
# KeyBuilder.template), so CPython binds each call and no *args/**kwargs packing happens.
_SYNC_WRAPPER = """\
def _sc_wrapper({params}):
{key_lines}\
    _sc_value = _sc_get(_sc_key, _sc_MISS)
    if _sc_value is _sc_MISS:
        return _sc_site.load(_sc_key, {call_args}, {call_kwargs})
    _sc_next(_sc_hits)
    return _sc_value
"""
_ASYNC_WRAPPER = """\
async def _sc_wrapper({params}):
{probe}\
{key_lines}\
    _sc_value = _sc_get(_sc_key, _sc_MISS)
    if _sc_value is _sc_MISS:
        return await _sc_site.load_async(_sc_key, {call_args}, {call_kwargs})
    _sc_next(_sc_hits)
    return _sc_value
"""


def _make_wrapper(site: _CallSite[P, R], is_async: bool) -> Callable[..., Any]:
    """Compiles the sync or async wrapper of `site`'s function."""
    t = site.keys.template()
    probe = ""
    if site.fast is not None:  # all parameters are positional: pass them as they were bound
        # A miss the probe counted goes to the miss path with the probe's key; only a call it
        # builds no key for runs the key lines and the L1 lookup below.
        args = t.call_args[1:-1]
        probe = (
            f"    _sc_value = _sc_probe({args})\n"
            "    if _sc_value is _sc_MISS:\n"
            f"        return await _sc_site.load_async(_sc_probe.key({args}), {t.call_args}, {{}})\n"
            "    if _sc_value is not _sc_UNKEYED:\n"
            "        return _sc_value\n"
        )
    src = (_ASYNC_WRAPPER if is_async else _SYNC_WRAPPER).format(
        params=t.params,
        key_lines=t.key_lines,
        call_args=t.call_args,
        call_kwargs=t.call_kwargs,
        probe=probe,
    )
    namespace = site.globals  # holds _sc_get, kept current by site.bind
    namespace.update(
        t.namespace,
        _sc_site=site,
        _sc_MISS=_MISS,
        _sc_UNKEYED=_UNKEYED,
        _sc_next=next,
        _sc_hits=site.hits,
        _sc_probe=site.fast,
    )
    return compile_function(src, "_sc_wrapper", namespace, site.keys.func_name)


def _decorate(
    func: Any,
    cache: _CacheHooks | DefaultSites,
    *,
    ttl: float | None,
    namespace: str | None,
    key: Callable[..., str] | None,
    unless: Callable[[Any], object] | None,
    ignore: Collection[str] | None,
    tags: tuple[str, ...] = (),
    bind_owner: bool = False,
) -> Any:
    if isinstance(func, classmethod):  # @cache above @classmethod: the descriptor binds cls
        return _decorate(
            func.__func__,
            cache,
            ttl=ttl,
            namespace=namespace,
            key=key,
            unless=unless,
            ignore=ignore,
            tags=tags,
            bind_owner=True,
        )
    if isinstance(func, staticmethod):  # @cache above @staticmethod works too
        inner = _decorate(
            func.__func__,
            cache,
            ttl=ttl,
            namespace=namespace,
            key=key,
            unless=unless,
            ignore=ignore,
            tags=tags,
        )
        return type(func)(inner)
    if not callable(func):
        msg = f"cache() decorates a function, not {type(func).__name__}; pass options by name"
        raise TypeError(msg)
    if inspect.isgeneratorfunction(func) or inspect.isasyncgenfunction(func):
        msg = f"cannot cache generator function {func.__qualname__}: its result is single-use"
        raise TypeError(msg)
    keys = KeyBuilder(func, ignore=ignore, key=key)
    site = _CallSite(func, cache, ttl=ttl, namespace=namespace, keys=keys, unless=unless, tags=tags)
    is_async = inspect.iscoroutinefunction(func)
    wrapper: Any = functools.wraps(func)(_make_wrapper(site, is_async))
    arity = keys.fast_arity()
    if arity is not None and not is_async:
        # The decorated function is the C entry itself: a miss goes straight to the miss path
        # with the key it built; a call it builds no key for, to the Python wrapper.
        fast = _core.cached_call(wrapper, _MISS, keys.head, arity, on_miss=site.load)
        if site.cache is not None:
            fast.bind(site.get)
        site.fast = fast
        wrapper = functools.wraps(func)(fast)
    wrapper.invalidate = site.invalidate
    wrapper.cache_info = site.cache_info
    wrapper.cache_clear = site.cache_clear
    wrapper.__stratacache_site__ = site
    if keys.identity_param is not None:  # self/cls is in the key: bind invalidate() to it too
        return _cached_method(wrapper, bind_owner=bind_owner, signature=keys.signature)
    return wrapper


def _cached_method(wrapper: Any, *, bind_owner: bool, signature: inspect.Signature) -> Any:
    """The decorated form of a function whose first parameter is a keyed self/cls.

    A plain function would bind to the instance as a method does, but its ``invalidate``
    would not know the instance; the C descriptor `_core.cached_method` binds both, with no
    Python frame (a call through an instance is passed the instance as a function's is).
    `bind_owner`: bind the class even through an instance (a classmethod decorated from
    outside).
    """
    method: Any = _core.cached_method(wrapper, bind_owner)
    functools.update_wrapper(method, wrapper)
    # Function-like to inspect (code, defaults), so inspect.iscoroutinefunction(Class.m)
    # tells an async method from a sync one as it did for the plain function.
    method.__code__ = wrapper.__code__
    method.__defaults__ = wrapper.__defaults__
    method.__kwdefaults__ = wrapper.__kwdefaults__
    # What inspect.signature(obj.method) gives: the bound method's, without self/cls.
    method._sc_bound_signature = signature.replace(
        parameters=list(signature.parameters.values())[1:]
    )
    return method


@overload
def make_cache_decorator(  # type: ignore[overload-overlap]
    cache: _CacheHooks | DefaultSites,
    func: Callable[P, Coroutine[Any, Any, R]],
    /,
    *,
    ttl: TTL = ...,
    namespace: str | None = ...,
    key: Callable[..., str] | None = ...,
    unless: Callable[[Any], object] | None = ...,
    ignore: Collection[str] | None = ...,
    tags: Collection[str] | None = ...,
) -> AsyncCachedFunction[P, R]: ...
@overload
def make_cache_decorator(
    cache: _CacheHooks | DefaultSites,
    func: Callable[P, R],
    /,
    *,
    ttl: TTL = ...,
    namespace: str | None = ...,
    key: Callable[..., str] | None = ...,
    unless: Callable[[Any], object] | None = ...,
    ignore: Collection[str] | None = ...,
    tags: Collection[str] | None = ...,
) -> CachedFunction[P, R]: ...
@overload
def make_cache_decorator(
    cache: _CacheHooks | DefaultSites,
    func: None = ...,
    /,
    *,
    ttl: TTL = ...,
    namespace: str | None = ...,
    key: Callable[..., str] | None = ...,
    unless: Callable[[Any], object] | None = ...,
    ignore: Collection[str] | None = ...,
    tags: Collection[str] | None = ...,
) -> Decorator: ...
def make_cache_decorator(
    cache: _CacheHooks | DefaultSites,
    func: Callable[..., Any] | None = None,
    /,
    *,
    ttl: TTL = None,
    namespace: str | None = None,
    key: Callable[..., str] | None = None,
    unless: Callable[[Any], object] | None = None,
    ignore: Collection[str] | None = None,
    tags: Collection[str] | None = None,
) -> Any:
    """The decorator of `cache` (a `DefaultSites`: the process-wide default); see
    `stratacache.cache` for the options.

    Raises:
        TypeError: an option has the wrong type, or `func` is not a function.
        InvalidTTLError: ttl is negative or NaN.
        ConfigError: namespace contains U+001F.
    """
    ttl = check_ttl(ttl)
    if namespace is not None:
        namespace = check_namespace(namespace)
    require_callable(key, "key", "a callable returning a str")
    require_callable(unless, "unless", "a callable taking the result and returning a bool")
    checked_tags = check_tags(tags)

    def decorate(f: Any, /) -> Any:
        return _decorate(
            f,
            cache,
            ttl=ttl,
            namespace=namespace,
            key=key,
            unless=unless,
            ignore=ignore,
            tags=checked_tags,
        )

    return decorate if func is None else decorate(func)
