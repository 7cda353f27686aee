"""The L1 tag index (tag -> L1 entries) stays bounded by what L1 holds."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from ..conftest import call

pytestmark = pytest.mark.usefixtures("redis_clean_url")


def index_size(cache: Any) -> int:
    return sum(len(entries) for entries in cache._tier._tag_index.values())


async def test_evicted_entries_leave_the_tag_index(
    tiered: Callable[..., Any], redis_url: str
) -> None:
    a = tiered(redis_url, max_entries=100)
    for i in range(5000):
        await call(a.set(f"k{i}", i, tags=[f"t{i % 7}", "all"]))
    assert len(a) <= 100
    # Two tags per entry: without pruning the index would hold 10,000 entries.
    assert index_size(a) <= 2 * 1024
    # What is still in L1 is still reached by a tag bump.
    live = [f"k{i}" for i in range(5000) if a._store.contains(a._prefix, f"k{i}")]
    assert live
    await call(a.invalidate_tags("all"))
    assert not any(a._store.contains(a._prefix, k) for k in live)


async def test_expired_entries_leave_the_tag_index(
    tiered: Callable[..., Any], redis_url: str
) -> None:
    a = tiered(redis_url, max_entries=100_000)
    for i in range(1500):
        await call(a.set(f"short{i}", i, ttl=0.05, tags=["t"]))
    await asyncio.sleep(0.1)
    for i in range(1500):
        await call(a.set(f"long{i}", i, tags=["u"]))
    assert index_size(a) <= 2 * 1500
    assert all(tag != "t" for tag in a._tier._tag_index)
