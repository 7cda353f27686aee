"""Fixtures shared by the Python suite: caches parametrised over sync/async and policy."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest

import stratacache


@pytest.fixture(params=["sync", "async"])
def cache_cls(request: pytest.FixtureRequest) -> type[Any]:
    """Cache or AsyncCache."""
    return stratacache.Cache if request.param == "sync" else stratacache.AsyncCache


@pytest.fixture(params=stratacache.POLICIES)
def policy(request: pytest.FixtureRequest) -> str:
    """Every eviction policy the package ships."""
    return str(request.param)


@pytest.fixture
def make_cache(cache_cls: type[Any], policy: str) -> Callable[..., Any]:
    """Factory of caches of the parametrised class and policy."""

    def make(**kwargs: Any) -> Any:
        kwargs.setdefault("policy", policy)
        return cache_cls(**kwargs)

    return make


async def call(result: Any) -> Any:
    """Awaits `result` if the cache is async; the same test body drives both classes."""
    return await result if inspect.isawaitable(result) else result
