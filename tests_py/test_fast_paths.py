"""The C hit paths build the same keys as the Python ones: whichever path stored an entry,
the other finds it, for every argument kind the C formatter handles and every one it defers."""

from __future__ import annotations

import math
import traceback
from typing import Any

import pytest

import stratacache

from .conftest import call

ARGS = [
    (1, 2),
    (-(2**63), 2**63 - 1),  # int64 bounds: formatted in C
    (2**64, 1),  # beyond int64: the Python path formats it
    (1.5, -0.0),
    (math.inf, 1e300),
    (None, True),
    (False, b"bytes"),
    ("plain", "it's"),  # a quote: repr() picks other quotes, the Python path formats it
    ("tab\there", "back\\slash"),
    ("ünï", "€"),  # non-ASCII: Python path
    (b"\x00\xff", ""),
]


@pytest.mark.parametrize("args", ARGS, ids=repr)
def test_sync_hit_after_python_miss_and_keyword_call(args: tuple[Any, Any]) -> None:
    c = stratacache.Cache(max_entries=100)
    calls: list[tuple[Any, Any]] = []

    @c.cache
    def f(a: Any, b: Any) -> tuple[Any, Any]:
        calls.append((a, b))
        return (a, b)

    assert f(*args) == args  # miss: the Python wrapper builds and stores the key
    assert f(*args) == args  # positional: the C path must find the same key
    assert f(a=args[0], b=args[1]) == args  # keywords: the Python path again
    assert calls == [args]
    info = f.cache_info()
    assert (info.hits, info.loader_calls) == (2, 1)


@pytest.mark.parametrize("args", ARGS, ids=repr)
async def test_async_probe_finds_the_python_key(args: tuple[Any, Any]) -> None:
    c = stratacache.AsyncCache(max_entries=100)
    calls = 0

    @c.cache
    async def f(a: Any, b: Any) -> tuple[Any, Any]:
        nonlocal calls
        calls += 1
        return (a, b)

    assert await f(*args) == args
    assert await f(*args) == args
    assert await f(args[0], b=args[1]) == args
    assert calls == 1
    assert f.cache_info().hits == 2


def test_engine_counts_one_miss_per_loader_call() -> None:
    c = stratacache.Cache(max_entries=100)

    @c.cache
    def f(a: int) -> int:
        return a

    for i in range(10):
        f(i)
        f(i)
    stats = c.stats()
    assert (stats.hits, stats.misses) == (10, 10)


def test_configure_rebinds_the_fast_path() -> None:
    stratacache.configure(max_entries=10)

    @stratacache.cache
    def f(a: int) -> object:
        return object()

    first = f(1)
    assert f(1) is first
    stratacache.configure(max_entries=10)  # a new default cache: the old entry is gone
    second = f(1)
    assert second is not first
    assert f(1) is second


def test_decorated_function_keeps_its_metadata() -> None:
    c = stratacache.Cache(max_entries=10)

    def original(a: int, b: int = 2) -> int:
        """Adds."""
        return a + b

    f = c.cache(original)
    assert f.__name__ == "original"
    assert f.__doc__ == "Adds."
    assert f.__wrapped__ is original
    assert f(1) == f(1, 2) == f(a=1) == 3
    assert f.invalidate(1) is True
    assert f.invalidate(1) is False


# The miss path: the C entry hands its key to the miss handler, so a decorated miss is one
# counted L1 lookup (plus the leader's uncounted re-check, `_CallSite.load`), on every path.
MISS_CALLS = [((1, 2), {}), (([1], 2), {}), ((1,), {"b": 2})]  # C key, Python key, keywords


@pytest.mark.parametrize(("args", "kwargs"), MISS_CALLS, ids=["c", "python", "keywords"])
async def test_a_decorated_miss_is_one_counted_l1_lookup(
    cache_cls: type[Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    c = cache_cls(max_entries=100, record=1.0)

    @c.cache
    def f(a: Any, b: Any = 0) -> str:
        return repr((a, b))

    @c.cache
    async def g(a: Any, b: Any = 0) -> str:
        return repr((a, b))

    for fn in (f, g):
        before = c.stats()
        result = await call(fn(*args, **kwargs))
        after = c.stats()
        assert (after.misses - before.misses, after.hits - before.hits) == (1, 0)
        assert await call(fn(*args, **kwargs)) == result
        assert (c.stats().misses, c.stats().hits) == (after.misses, after.hits + 1)
        assert fn.cache_info().loader_calls == 1


def test_a_fast_path_miss_skips_the_python_wrapper() -> None:
    c = stratacache.Cache(max_entries=10)

    @c.cache
    def f(a: int) -> int:
        raise ValueError(a)

    with pytest.raises(ValueError, match="1") as caught:
        f(1)
    frames = [frame.name for frame in traceback.extract_tb(caught.value.__traceback__)]
    assert "_sc_wrapper" not in frames  # the C entry called the miss path itself
    with pytest.raises(ValueError, match="2") as caught:
        f(a=2)  # a keyword: the C entry builds no key, the wrapper does
    assert "_sc_wrapper" in [
        frame.name for frame in traceback.extract_tb(caught.value.__traceback__)
    ]


@pytest.mark.parametrize("args", ARGS, ids=repr)
async def test_the_probe_key_is_the_python_key(args: tuple[Any, Any]) -> None:
    c = stratacache.AsyncCache(max_entries=10)

    @c.cache
    async def f(a: Any, b: Any) -> None: ...

    site = f.__stratacache_site__  # type: ignore[attr-defined]
    built = site.fast.key(*args)
    assert built is None or built == site.keys.invalidation_key(args, {})
    assert site.fast.key(args[0]) is None  # a missing argument: no key


def test_the_c_hash_matches_str_hash_at_every_key_length() -> None:
    # The C path hashes keys itself, resuming SipHash after the function's constant head
    # (bindings/fast_cached_call.cpp): a hash unequal to hash(str) of the same key would miss
    # what the Python path stored. Heads of every length mod 8, keys across word boundaries.
    c = stratacache.Cache(max_entries=10_000)
    for n in range(1, 17):
        namespace: dict[str, Any] = {}
        exec(f"def f{'x' * n}(a, b):\n    return (a, b)", namespace)  # noqa: S102
        f = c.cache(namespace[f"f{'x' * n}"])
        args = [(i, "y" * j) for i in (0, 7, -12345) for j in range(10)]
        for a, b in args:  # keywords: the Python path builds the key and stores it
            assert f(a=a, b=b) == (a, b)
        for a, b in args:  # positional: the C path must find each one
            assert f(a, b) == (a, b)
        info = f.cache_info()
        assert (info.hits, info.loader_calls) == (len(args), len(args)), n


def test_cache_get_and_set_are_builtin_calls_with_the_fast_paths_rules() -> None:
    """Cache.get/set are builtin functions over FastGet/FastSet (`_core.builtin_call`): the
    interpreter's fast call of builtins, with the same arguments, defaults and errors."""
    from stratacache import _core  # noqa: PLC0415

    cache = stratacache.Cache(max_entries=10)
    assert type(cache.get).__name__ == "builtin_function_or_method"
    assert type(cache.set).__name__ == "builtin_function_or_method"
    cache.set("a", 1)
    cache.set("b", 2, 60)
    cache.set("c", 3, ttl=60)
    assert [cache.get("a"), cache.get("b"), cache.get("c")] == [1, 2, 3]
    assert cache.get("missing", 5) == 5
    assert cache.get("missing", default=6) == 6
    with pytest.raises(TypeError, match="takes a key"):
        cache.get()
    with pytest.raises(TypeError, match="takes a key, a value"):
        cache.set("only-key")
    with pytest.raises(TypeError, match="FastGet or a FastSet"):
        _core.builtin_call(len)
