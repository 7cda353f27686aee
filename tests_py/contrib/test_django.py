"""StrataCache beyond Django's suite: OPTIONS, copies, sharing, async, Redis, missing extra."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import stratacache

pytest.importorskip("django")

from stratacache.contrib.django import StrataCache
from stratacache.contrib.django._config import close_shared


@pytest.fixture
def backend() -> Iterator[Callable[..., Any]]:
    """Factory of backends as Django builds them; their shared caches closed afterwards."""

    def make(location: str = "", **params: Any) -> Any:
        return StrataCache(location, params)

    yield make
    close_shared()


@pytest.fixture(params=["l1", "redis"])
def location(request: pytest.FixtureRequest) -> str:
    if request.param == "l1":
        return f"test-{request.node.name}"
    return str(request.getfixturevalue("redis_clean_url"))


def test_options_are_checked(backend: Callable[..., Any]) -> None:
    with pytest.raises(stratacache.ConfigError, match=r"unknown OPTIONS.*max_entry"):
        backend(OPTIONS={"max_entry": 5})
    with pytest.raises(stratacache.ConfigError, match="not both"):
        backend(OPTIONS={"MAX_ENTRIES": 5, "max_entries": 5})
    with pytest.raises(TypeError, match="pickle"):
        backend(OPTIONS={"pickle": "yes"})
    with pytest.raises(TypeError, match="OPTIONS must be a dict"):
        backend(OPTIONS=[("max_entries", 5)])
    with pytest.raises(TypeError, match="LOCATION"):
        backend(5)
    with pytest.raises(TypeError, match="redis_options"):
        backend("redis://127.0.0.1:1/0", OPTIONS={"redis_options": 3})
    with pytest.raises(stratacache.ConfigError):
        backend(OPTIONS={"max_entries": 0})
    small = backend("small", OPTIONS={"MAX_ENTRIES": 3, "CULL_FREQUENCY": 2})
    for i in range(10):
        small.set(f"k{i}", i)
    assert sum(small.has_key(f"k{i}") for i in range(10)) == 3


def test_values_are_copies_unless_pickle_is_off(backend: Callable[..., Any]) -> None:
    copied, shared = backend("a"), backend("b", OPTIONS={"pickle": False})
    value = [1, 2]
    copied.set("k", value)
    shared.set("k", value)
    value.append(3)
    assert copied.get("k") == [1, 2]
    assert shared.get("k") is value


def test_backends_of_one_location_share_one_store(backend: Callable[..., Any]) -> None:
    a, b = backend("one", KEY_PREFIX="p"), backend("one", KEY_PREFIX="p")
    other = backend("two", KEY_PREFIX="p")
    a.set("k", "v")
    assert b.get("k") == "v"
    assert other.get("k") is None
    assert a._cache is b._cache


async def test_async_methods(backend: Callable[..., Any], location: str) -> None:
    cache = backend(location)
    assert await cache.aadd("n", 1) is True
    assert await cache.aadd("n", 2) is False
    assert await cache.aincr("n", 5) == 6
    assert await cache.adecr("n") == 5
    await cache.aset_many({"a": 1, "b": [2]})
    assert await cache.aget_many(["a", "b", "c"]) == {"a": 1, "b": [2]}
    assert await cache.ahas_key("a") is True
    assert await cache.atouch("a", 100) is True
    assert await cache.aget_or_set("c", lambda: "made") == "made"
    await cache.adelete_many(["a", "b"])
    assert await cache.aget("a", "gone") == "gone"
    with pytest.raises(ValueError, match="not found"):
        await cache.aincr("missing")
    await cache.aclear()
    assert await cache.aget("n") is None


def test_two_processes_share_redis(backend: Callable[..., Any], redis_clean_url: str) -> None:
    # Different OPTIONS: two Cache objects, each its own L1 and connections, as two processes.
    a = backend(redis_clean_url)
    b = backend(redis_clean_url, OPTIONS={"max_entries": 1000})
    assert a._cache is not b._cache
    assert a.add("once", "a") is True
    assert b.add("once", "b") is False
    assert b.get("once") == "a"
    a.set("n", 10)
    assert b.incr("n", 5) == 15
    assert a.incr("n") == 16
    # b's L1 still holds 15 until a's invalidation message arrives (coherence is a publish).
    deadline = time.monotonic() + 5
    while b.get("n") != 16 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert b.get_or_set("n", 0) == 16
    assert b.incr_version("n") == 2
    assert a.get("n", version=2) == 16


def test_missing_django_raises_missing_extra_error() -> None:
    code = (
        "import sys; sys.modules['django'] = None\n"
        "import stratacache\n"
        "try:\n"
        "    import stratacache.contrib.django\n"
        "except stratacache.MissingExtraError as e:\n"
        "    print(e)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert "stratacache[django]" in out.stdout
