"""The `cache` decorator, written once and run over sync/async functions and every cache kind:
the process-wide default, a given Cache, a given AsyncCache."""

from __future__ import annotations

import asyncio
import functools
import inspect
import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest

import stratacache
from stratacache import InvalidTTLError

TIMEOUT = 10.0


@dataclass
class Target:
    """Where decorated functions store their results, and the decorator that puts them there."""

    cache: Any
    cache_deco: Callable[..., Any]


@pytest.fixture(params=["default", "Cache", "AsyncCache"])
def target(request: pytest.FixtureRequest) -> Target:
    if request.param == "default":
        return Target(stratacache.configure(), stratacache.cache)
    c = getattr(stratacache, request.param)()
    return Target(c, c.cache)


@pytest.fixture(params=["sync", "async"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def define(kind: str, body: Callable[..., Any]) -> Callable[..., Any]:
    """`body` itself, or an async function with its signature and name running it."""
    if kind == "sync":
        return body

    @functools.wraps(body)
    async def run(*args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(0)
        return body(*args, **kwargs)

    return run


async def call(result: Any) -> Any:
    return await result if inspect.isawaitable(result) else result


class Recorder:
    """A loader body that records its calls."""

    def __init__(self, result: Callable[..., Any] = lambda *a, **k: (a, k)) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.result = result

    def __call__(self, a: Any, b: Any = 2) -> Any:
        self.calls.append((a, b))
        return self.result(a, b)


@pytest.mark.asyncio
async def test_equivalent_calls_run_the_loader_once(target: Target, kind: str) -> None:
    rec = Recorder(lambda a, b: a + b)
    f = target.cache_deco(define(kind, rec))
    results = [await call(f(1, 2)), await call(f(1, b=2)), await call(f(a=1, b=2))]
    results.append(await call(f(1)))
    assert results == [3, 3, 3, 3]
    assert rec.calls == [(1, 2)]
    assert await call(f(1, 3)) == 4
    assert f.cache_info()[:4] == (3, 2, 2, 0)  # hits, misses, loader_calls, in_flight


@pytest.mark.asyncio
async def test_types_are_distinct_keys(target: Target, kind: str) -> None:
    rec = Recorder(lambda a, b: repr(a))
    f = target.cache_deco(define(kind, rec))
    assert [await call(f(v)) for v in (1, 1.0, True, "1")] == ["1", "1.0", "True", "'1'"]
    assert len(rec.calls) == 4


@pytest.mark.asyncio
async def test_none_is_cached(target: Target, kind: str) -> None:
    rec = Recorder(lambda a, b: None)
    f = target.cache_deco(define(kind, rec))
    assert await call(f(1)) is None
    assert await call(f(1)) is None
    assert len(rec.calls) == 1


@pytest.mark.asyncio
async def test_exception_propagates_unchanged_and_is_not_cached(target: Target, kind: str) -> None:
    error = KeyError("missing")

    def fail(a: Any, b: Any) -> Any:
        raise error

    rec = Recorder(fail)
    f = target.cache_deco(define(kind, rec))
    for _ in range(2):
        with pytest.raises(KeyError) as info:
            await call(f(1))
        assert info.value is error
    assert len(rec.calls) == 2


@pytest.mark.asyncio
async def test_unless_returns_but_does_not_cache(target: Target, kind: str) -> None:
    rec = Recorder(lambda a, b: a)
    f = target.cache_deco(unless=lambda result: result < 0)(define(kind, rec))
    assert [await call(f(-1)), await call(f(-1)), await call(f(5)), await call(f(5))] == [
        -1,
        -1,
        5,
        5,
    ]
    assert rec.calls == [(-1, 2), (-1, 2), (5, 2)]


@pytest.mark.asyncio
async def test_ttl_expires_entries(target: Target, kind: str) -> None:
    rec = Recorder()
    f = target.cache_deco(ttl=0.05)(define(kind, rec))
    await call(f(1))
    deadline = time.monotonic() + TIMEOUT
    while len(rec.calls) == 1:
        assert time.monotonic() < deadline, "the entry never expired"
        await asyncio.sleep(0.01)
        await call(f(1))
    assert len(rec.calls) == 2


@pytest.mark.asyncio
async def test_zero_ttl_never_stores(target: Target, kind: str) -> None:
    rec = Recorder()
    f = target.cache_deco(ttl=0)(define(kind, rec))
    await call(f(1))
    await call(f(1))
    assert len(rec.calls) == 2


@pytest.mark.asyncio
async def test_invalidate(target: Target, kind: str) -> None:
    rec = Recorder()
    f = target.cache_deco(define(kind, rec))
    await call(f(1, 2))
    assert await call(f.invalidate(1)) is True  # same canonical key as f(1, 2)
    assert await call(f.invalidate(1, b=2)) is False
    await call(f(1, 2))
    assert len(rec.calls) == 2


@pytest.mark.asyncio
async def test_unsupported_argument_is_a_type_error_before_loading(
    target: Target, kind: str
) -> None:
    rec = Recorder()
    f = target.cache_deco(define(kind, rec))
    with pytest.raises(TypeError, match="argument 'b' of type 'object'"):
        await call(f(1, object()))
    assert rec.calls == []


@pytest.mark.asyncio
async def test_key_function_names_the_entry(target: Target, kind: str) -> None:
    rec = Recorder(lambda a, b: a * 10)
    f = target.cache_deco(key=lambda a, b=2: f"item:{a}")(define(kind, rec))
    assert await call(f(4)) == 40
    assert await call(target.cache.get("item:4")) == 40
    await call(target.cache.set("item:5", "preset"))
    assert await call(f(5, b=9)) == "preset"
    assert await call(f.invalidate(4)) is True
    assert await call(target.cache.contains("item:4")) is False


@pytest.mark.asyncio
async def test_namespace_option_isolates_entries(target: Target, kind: str) -> None:
    rec = Recorder()
    f = target.cache_deco(namespace="users")(define(kind, rec))
    await call(f(1))
    assert await call(target.cache.clear(namespace="other")) == 0
    assert await call(target.cache.clear(namespace="users")) == 1
    await call(f(1))
    assert len(rec.calls) == 2


@pytest.mark.asyncio
async def test_every_parameter_kind_is_bound_canonically(kind: str) -> None:
    seen: list[Any] = []

    def body(
        a: int, b: int = 2, /, c: int = 3, *args: int, k: str, m: Any = None, **kw: Any
    ) -> Any:
        seen.append((a, b, c, args, k, m, kw))
        return len(seen)

    f = stratacache.Cache().cache(define(kind, body))
    first = await call(f(1, k="x"))
    assert await call(f(1, 2, 3, k="x", m=None)) == first
    assert await call(f(1, c=3, k="x")) == first
    assert await call(f(1, 2, 3, 4, k="x")) != first  # *args is part of the key
    assert await call(f(1, k="x", z=1)) != first  # so is **kwargs
    assert seen[1] == (1, 2, 3, (4,), "x", None, {})
    assert seen[2] == (1, 2, 3, (), "x", None, {"z": 1})
    with pytest.raises(TypeError, match=r"body\(\) missing 1 required keyword-only argument"):
        await call(f(1))
    assert len(seen) == 3


@pytest.mark.asyncio
async def test_reserved_parameter_names_and_builtins_work(kind: str) -> None:
    def body(_sc_key: int, _sc_value: int = 1) -> int:
        return _sc_key + _sc_value

    f = stratacache.Cache().cache(define(kind, body))
    assert await call(f(1)) == await call(f(_sc_key=1, _sc_value=1)) == 2
    assert f.cache_info().loader_calls == 1
    g = stratacache.Cache().cache(max)
    assert g(1, 5) == g(1, 5) == 5
    assert g.cache_info().loader_calls == 1


def test_decorated_function_keeps_its_identity() -> None:
    def load(user_id: int, *, fresh: bool = False) -> dict[str, int]:
        """Loads a user."""
        return {"id": user_id}

    f = stratacache.Cache().cache(load)
    assert f.__wrapped__ is load
    assert (f.__name__, f.__doc__) == ("load", "Loads a user.")
    assert inspect.signature(f) == inspect.signature(load)
    assert not inspect.iscoroutinefunction(f)

    async def aload(user_id: int) -> int:
        return user_id

    assert inspect.iscoroutinefunction(stratacache.cache(aload))


@pytest.mark.parametrize(
    ("ttl", "error"),
    [(-1, InvalidTTLError), (math.nan, InvalidTTLError), ("5", TypeError), (True, TypeError)],
)
def test_bad_ttl_fails_at_decoration(ttl: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        stratacache.cache(ttl=ttl)


def test_bad_use_fails_at_decoration() -> None:
    with pytest.raises(TypeError, match="decorates a function"):
        stratacache.cache(5)  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="unless must be"):
        stratacache.cache(unless=True)  # type: ignore[call-overload]

    def gen() -> Any:
        yield 1

    with pytest.raises(TypeError, match="generator function"):
        stratacache.cache(gen)


def test_configure_replaces_the_default_for_existing_functions() -> None:
    rec = Recorder()
    f = stratacache.cache(key=lambda a, b=2: f"k{a}")(rec)
    first = stratacache.configure(namespace="one")
    f(1)
    f(1)
    assert first.get("k1") is not None
    second = stratacache.configure(namespace="two", max_entries=10)
    f(1)
    assert len(rec.calls) == 2  # the new default started empty
    assert second.get("k1") == ((1, 2), {})
    assert second.namespace == "two"


def test_configure_with_bad_arguments_keeps_the_old_default() -> None:
    rec = Recorder()
    f = stratacache.cache(rec)
    stratacache.configure()
    f(1)
    with pytest.raises(stratacache.ConfigError):
        stratacache.configure(max_entries=0)
    f(1)
    assert len(rec.calls) == 1


def test_threads_share_one_loader_call(target: Target) -> None:
    n = 16
    calls: list[int] = []

    @target.cache_deco
    def slow(x: int) -> str:
        calls.append(x)
        deadline = time.monotonic() + TIMEOUT
        while slow.cache_info().misses < n:  # every other thread now waits on this call
            assert time.monotonic() < deadline
            time.sleep(0.001)
        return f"v{x}"

    barrier = threading.Barrier(n, timeout=TIMEOUT)

    def one() -> str:
        barrier.wait()
        return slow(7)

    with ThreadPoolExecutor(n) as pool:
        results = [fut.result(timeout=TIMEOUT) for fut in [pool.submit(one) for _ in range(n)]]
    assert results == ["v7"] * n
    assert calls == [7]
    assert slow.cache_info()[:4] == (0, n, 1, 0)


@pytest.mark.asyncio
async def test_tasks_share_one_loader_call(target: Target) -> None:
    n = 100
    calls: list[int] = []

    @target.cache_deco
    async def slow(x: int) -> str:
        calls.append(x)
        deadline = time.monotonic() + TIMEOUT
        while slow.cache_info().misses < n:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.001)
        return f"v{x}"

    results = await asyncio.wait_for(asyncio.gather(*(slow(3) for _ in range(n))), TIMEOUT)
    assert results == ["v3"] * n
    assert calls == [3]
    assert await slow(3) == "v3"
    assert slow.cache_info()[:4] == (1, n, 1, 0)


@pytest.mark.asyncio
async def test_leader_exception_reaches_every_task(target: Target) -> None:
    n = 10
    error = RuntimeError("backend down")

    @target.cache_deco
    async def slow(x: int) -> str:
        while slow.cache_info().misses < n:
            await asyncio.sleep(0.001)
        raise error

    results = await asyncio.wait_for(
        asyncio.gather(*(slow(1) for _ in range(n)), return_exceptions=True), TIMEOUT
    )
    assert all(r is error for r in results)
    assert slow.cache_info().loader_calls == 1
    assert slow.cache_info().in_flight == 0


@pytest.mark.asyncio
async def test_cancelled_leader_does_not_strand_followers(target: Target) -> None:
    started = asyncio.Event()
    calls: list[int] = []

    @target.cache_deco
    async def slow(x: int) -> str:
        calls.append(x)
        if len(calls) == 1:
            started.set()
            await asyncio.sleep(TIMEOUT * 10)
        return "done"

    leader = asyncio.create_task(slow(1))
    await asyncio.wait_for(started.wait(), TIMEOUT)
    followers = [asyncio.create_task(slow(1)) for _ in range(3)]
    while slow.cache_info().misses < 4:
        await asyncio.sleep(0.001)
    leader.cancel()
    assert await asyncio.wait_for(asyncio.gather(*followers), TIMEOUT) == ["done"] * 3
    assert len(calls) == 2
    assert slow.cache_info().in_flight == 0


def test_recursion_on_the_same_key_raises() -> None:
    @stratacache.Cache().cache
    def f(n: int) -> Any:
        return f(n)

    with pytest.raises(RuntimeError, match="recursive cache call"):
        f(1)
    assert f.cache_info().in_flight == 0


@pytest.mark.asyncio
async def test_async_recursion_on_the_same_key_raises() -> None:
    @stratacache.AsyncCache().cache
    async def f(n: int) -> Any:
        return await asyncio.create_task(f(n))  # a child task: still the same flight

    with pytest.raises(RuntimeError, match="recursive cache call"):
        await asyncio.wait_for(f(1), TIMEOUT)
    assert f.cache_info().in_flight == 0


class Catalog:
    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.calls: list[Any] = []

    def __cache_key__(self) -> str:
        return self.tag

    @stratacache.cache
    def price(self, item: int) -> str:
        self.calls.append(item)
        return f"{self.tag}:{item}"

    @stratacache.cache
    async def aprice(self, item: int) -> str:
        self.calls.append(item)
        return f"{self.tag}:{item}"

    @classmethod
    @stratacache.cache
    def kind_outer(cls, item: int) -> str:
        return f"{cls.__name__}:{item}"

    @stratacache.cache  # type: ignore[arg-type]
    @classmethod
    def kind_inner(cls, item: int) -> str:
        return f"{cls.__name__}:{item}"

    @staticmethod
    @stratacache.cache
    def static_outer(item: int) -> int:
        return item * 2

    @stratacache.cache  # type: ignore[arg-type]
    @staticmethod
    def static_inner(item: int) -> int:
        return item * 3


@pytest.mark.asyncio
async def test_methods_key_their_instance_by_cache_key() -> None:
    stratacache.configure()
    a, b, a2 = Catalog("a"), Catalog("b"), Catalog("a")
    assert a.price(1) == "a:1"
    assert b.price(1) == "b:1"  # another instance: its own entry
    assert a2.price(1) == "a:1"  # the same __cache_key__: the same entry
    assert await b.aprice(2) == "b:2"
    assert await a.aprice(2) == "a:2"
    assert (a.calls, b.calls, a2.calls) == ([1, 2], [1, 2], [])
    assert a.price.invalidate(1) is True  # bound: a's entry, not b's
    assert a.price.invalidate(1) is False
    assert b.price(1) == "b:1"
    assert b.calls == [1, 2]
    assert Catalog.price.invalidate(b, 1) is True  # through the class, self comes first
    assert await a.aprice.invalidate(2) is True
    assert a.price.cache_info().hits == 2
    assert inspect.iscoroutinefunction(Catalog.aprice)
    assert inspect.iscoroutinefunction(a.aprice)
    assert not inspect.iscoroutinefunction(Catalog.price)
    assert list(inspect.signature(Catalog.price).parameters) == ["self", "item"]


class User:
    def __init__(self, name: str) -> None:
        self.name = name

    @stratacache.cache
    def greet(self) -> str:
        return f"hello {self.name}"

    @stratacache.cache(ignore=("self",))
    def shared(self) -> str:
        return self.name


class Name(str):
    @stratacache.cache
    def shout(self) -> str:
        return self.upper()


def test_a_method_of_an_unkeyable_instance_raises_naming_the_fixes() -> None:
    stratacache.configure()
    with pytest.raises(TypeError, match=r"'User'.*__cache_key__.*ignore=\('self',\).*key="):
        User("ada").greet()
    assert User("ada").shared() == "ada"
    assert User("bob").shared() == "ada"  # ignore=("self",): one entry for every instance
    assert (Name("ada").shout(), Name("bob").shout()) == ("ADA", "BOB")  # encodable self


def test_classmethods_and_staticmethods_in_either_order() -> None:
    stratacache.configure()
    assert Catalog.kind_outer(1) == "Catalog:1"
    assert Catalog.kind_inner(1) == "Catalog:1"
    assert Catalog("x").kind_outer(2) == "Catalog:2"
    assert (Catalog.static_outer(2), Catalog("x").static_outer(2)) == (4, 4)
    assert (Catalog.static_inner(2), Catalog("x").static_inner(2)) == (6, 6)
    assert Catalog.kind_outer.cache_info().hits == 0
    assert Catalog.static_outer.cache_info().hits == 1


def test_a_classmethod_is_keyed_by_its_class() -> None:
    stratacache.configure()

    class Shop(Catalog):
        pass

    assert (Catalog.kind_inner(1), Shop.kind_inner(1)) == ("Catalog:1", "Shop:1")
    assert (Catalog.kind_outer(1), Shop.kind_outer(1)) == ("Catalog:1", "Shop:1")
    assert Shop("x").kind_inner(1) == "Shop:1"
    assert Catalog.kind_inner.cache_info().hits == 1
    assert Shop.kind_inner.invalidate(1) is True  # bound to the class it is called on
    assert Shop.kind_inner.invalidate(1) is False
    assert Catalog.kind_inner.invalidate(1) is True


def test_the_c_fast_path_never_serves_a_method() -> None:
    cache = stratacache.Cache()

    class Point(tuple[int, int]):
        @cache.cache(ignore=())
        def norm(self) -> int:
            return abs(self[0]) + abs(self[1])

    # The C entry binds no self: methods always take the Python wrapper, keyed by self.
    assert not isinstance(Point.__dict__["norm"], stratacache._core.CachedCall)
    assert (Point((1, 2)).norm(), Point((3, 4)).norm(), Point((1, 2)).norm()) == (3, 7, 3)
    assert Point.norm.cache_info().hits == 1


@pytest.mark.asyncio
async def test_cache_clear_drops_only_this_functions_entries(target: Target, kind: str) -> None:
    calls: list[str] = []

    def load(a: int) -> int:
        calls.append("load")
        return a

    def load_more(a: int) -> int:  # its key prefix starts with load's name
        calls.append("load_more")
        return a

    f, g = target.cache_deco(define(kind, load)), target.cache_deco(define(kind, load_more))
    for fn in (f, g):
        for x in (1, 2, 1):
            await call(fn(x))
    assert f.cache_info().currsize == 2
    await call(f.cache_clear())
    assert f.cache_info()[:4] == (0, 0, 0, 0)  # counters restart, as functools' do
    assert f.cache_info().currsize == 0
    assert g.cache_info().currsize == 2
    await call(f(1))
    await call(g(1))
    assert calls.count("load") == 3
    assert calls.count("load_more") == 2
    assert f.cache_info()[:3] == (0, 1, 1)


@pytest.mark.asyncio
async def test_cache_info_has_functools_fields(kind: str) -> None:
    c = stratacache.Cache(max_entries=64)
    f = c.cache(define(kind, Recorder()))
    await call(f(1))
    await call(f(1))
    info = f.cache_info()
    assert (info.hits, info.misses, info.maxsize, info.currsize) == (1, 1, 64, 1)
    assert info.loader_calls == 1
    assert (
        stratacache.Cache(max_bytes=10_000).cache(define(kind, Recorder())).cache_info().maxsize
        is None
    )


def test_cache_clear_of_a_key_function_is_a_type_error() -> None:
    f = stratacache.Cache().cache(key=lambda a: f"item:{a}")(lambda a: a)
    with pytest.raises(TypeError, match=r"cache_clear.*key= function"):
        f.cache_clear()
    assert f.cache_info().currsize is None
