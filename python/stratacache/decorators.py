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
  the result unless ``unless(result)`` is true or ``condition(result)`` is false (both are
  folded into one filter, `stores_only_if`; an exception either raises propagates to the
  callers and nothing is stored, as for the function's own). Loader exceptions propagate
  unchanged to every caller waiting on that load and nothing is cached. With
  ``depends_on=fn``, ``fn(*args, **kwargs)`` names the keys the result depends on; the
  edges are recorded before the function runs (`stratacache._deps`), so invalidating one of
  those keys during the call still reaches the result.

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
from collections.abc import Callable, Collection, Coroutine, Iterable
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, overload

from . import _core
from ._call_site import _MISS, _UNKEYED, DefaultSites, _CallSite, stores_only_if
from ._decorated import (
    AsyncCachedFunction,
    CachedFunction,
    CacheHooks,
    CacheInfo,
    Decorator,
)
from ._keys import KeyBuilder, compile_function
from ._options import TTL, check_namespace, check_ttl, is_auto_ttl, require_callable
from ._warm_calls import warm_calls
from .tiers.chain import check_tags

if TYPE_CHECKING:  # loaded only by the functions that use them (issue 17's import cost)
    from ._autottl import AutoTTL
    from ._refresh_options import RefreshAhead

__all__ = [
    "AsyncCachedFunction",
    "CacheInfo",
    "CachedFunction",
    "Decorator",
    "DefaultSites",
    "make_cache_decorator",
]


P = ParamSpec("P")
R = TypeVar("R")


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
    cache: CacheHooks | DefaultSites,
    *,
    ttl: float | AutoTTL | None,
    namespace: str | None,
    key: Callable[..., str] | None,
    unless: Callable[[Any], object] | None,
    ignore: Collection[str] | None,
    tags: tuple[str, ...] = (),
    bind_owner: bool = False,
    depends_on: Callable[..., Iterable[str]] | None = None,
    refresh_ahead: RefreshAhead | None = None,
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
            depends_on=depends_on,
            refresh_ahead=refresh_ahead,
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
            depends_on=depends_on,
            refresh_ahead=refresh_ahead,
        )
        return type(func)(inner)
    if not callable(func):
        msg = f"cache() decorates a function, not {type(func).__name__}; pass options by name"
        raise TypeError(msg)
    if inspect.isgeneratorfunction(func) or inspect.isasyncgenfunction(func):
        msg = f"cannot cache generator function {func.__qualname__}: its result is single-use"
        raise TypeError(msg)
    keys = KeyBuilder(func, ignore=ignore, key=key)
    site = _CallSite(
        func,
        cache,
        ttl=ttl,
        namespace=namespace,
        keys=keys,
        unless=unless,
        tags=tags,
        refresh_ahead=refresh_ahead,
    )
    site.depends_on = depends_on
    is_async = inspect.iscoroutinefunction(func)
    wrapper: Any = functools.wraps(func)(_make_wrapper(site, is_async))
    arity = keys.fast_arity()
    if arity is not None and site.fast is not None and not is_async:
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
    wrapper.warm = functools.partial(warm_calls, site)
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
    cache: CacheHooks | DefaultSites,
    func: Callable[P, Coroutine[Any, Any, R]],
    /,
    *,
    ttl: TTL | AutoTTL = ...,
    namespace: str | None = ...,
    key: Callable[..., str] | None = ...,
    unless: Callable[[Any], object] | None = ...,
    ignore: Collection[str] | None = ...,
    tags: Collection[str] | None = ...,
    condition: Callable[[Any], object] | None = ...,
    depends_on: Callable[..., Iterable[str]] | None = ...,
    refresh_ahead: str | RefreshAhead | None = ...,
) -> AsyncCachedFunction[P, R]: ...
@overload
def make_cache_decorator(
    cache: CacheHooks | DefaultSites,
    func: Callable[P, R],
    /,
    *,
    ttl: TTL | AutoTTL = ...,
    namespace: str | None = ...,
    key: Callable[..., str] | None = ...,
    unless: Callable[[Any], object] | None = ...,
    ignore: Collection[str] | None = ...,
    tags: Collection[str] | None = ...,
    condition: Callable[[Any], object] | None = ...,
    depends_on: Callable[..., Iterable[str]] | None = ...,
    refresh_ahead: str | RefreshAhead | None = ...,
) -> CachedFunction[P, R]: ...
@overload
def make_cache_decorator(
    cache: CacheHooks | DefaultSites,
    func: None = ...,
    /,
    *,
    ttl: TTL | AutoTTL = ...,
    namespace: str | None = ...,
    key: Callable[..., str] | None = ...,
    unless: Callable[[Any], object] | None = ...,
    ignore: Collection[str] | None = ...,
    tags: Collection[str] | None = ...,
    condition: Callable[[Any], object] | None = ...,
    depends_on: Callable[..., Iterable[str]] | None = ...,
    refresh_ahead: str | RefreshAhead | None = ...,
) -> Decorator: ...
def make_cache_decorator(
    cache: CacheHooks | DefaultSites,
    func: Callable[..., Any] | None = None,
    /,
    *,
    ttl: TTL | AutoTTL = None,
    namespace: str | None = None,
    key: Callable[..., str] | None = None,
    unless: Callable[[Any], object] | None = None,
    ignore: Collection[str] | None = None,
    tags: Collection[str] | None = None,
    condition: Callable[[Any], object] | None = None,
    depends_on: Callable[..., Iterable[str]] | None = None,
    refresh_ahead: str | RefreshAhead | None = None,
) -> Any:
    """The decorator of `cache` (a `DefaultSites`: the process-wide default); see
    `stratacache.cache` for the options.

    Raises:
        TypeError: an option has the wrong type, or `func` is not a function.
        InvalidTTLError: ttl is negative or NaN.
        ConfigError: namespace contains U+001F.
    """
    # AutoTTL passes as is: the call site turns it into the float it retunes.
    ttl = ttl if is_auto_ttl(ttl) else check_ttl(ttl)
    if namespace is not None:
        namespace = check_namespace(namespace)
    require_callable(key, "key", "a callable returning a str")
    require_callable(unless, "unless", "a callable taking the result and returning a bool")
    require_callable(condition, "condition", "a callable taking the result and returning a bool")
    require_callable(depends_on, "depends_on", "a callable taking the arguments, returning keys")
    unless = stores_only_if(unless, condition)
    checked_tags = check_tags(tags)
    refresh = None
    if refresh_ahead is not None:
        from ._refresh_options import check_refresh_ahead  # noqa: PLC0415

        refresh = check_refresh_ahead(refresh_ahead)

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
            depends_on=depends_on,
            refresh_ahead=refresh,
        )

    return decorate if func is None else decorate(func)
