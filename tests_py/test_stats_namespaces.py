"""Per-namespace counters and latency histograms of `stats()` (python/stratacache/stats.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import stratacache
from stratacache import ConfigError, NamespaceStats
from stratacache.stats import LATENCY_BOUNDS_NS, LATENCY_QUANTILES

from .conftest import call


async def test_counters_are_kept_per_namespace(make_cache: Callable[..., Any]) -> None:
    cache = make_cache(max_entries=100, namespace="users")
    if isinstance(cache, stratacache.AsyncCache):

        @cache.cache(namespace="orders")
        async def order(n: int) -> int:
            return n * 2
    else:

        @cache.cache(namespace="orders")
        def order(n: int) -> int:
            return n * 2

    await call(cache.set("a", 1))
    await call(cache.set("b", 2))
    assert await call(cache.get("a")) == 1
    assert await call(cache.get("missing")) is None
    for n in (1, 1, 2):
        assert await call(order(n)) == n * 2
    stats = await call(cache.stats())
    users, orders = stats.namespaces["users"], stats.namespaces["orders"]
    assert (users.hits, users.misses, users.sets, users.entries) == (1, 1, 2, 2)
    assert (orders.hits, orders.misses, orders.entries) == (1, 2, 2)
    assert users.hit_ratio == 0.5
    # The totals stay what they were: the sum over namespaces.
    assert stats.hits == sum(n.hits for n in stats.namespaces.values())
    assert stats.entries == users.entries + orders.entries
    assert stats.other_namespaces is None


async def test_evictions_are_charged_to_the_namespace_of_the_evicted_entry(
    cache_cls: type[Any],
) -> None:
    cache = cache_cls(max_entries=2, policy="lru")
    old = cache._setter("old")
    old("1", "x")
    old("2", "x")
    cache._setter("new")("1", "x")  # pushes out old:1
    await call(cache.delete("nothing"))
    stats = await call(cache.stats())
    assert stats.namespaces["old"].evicted_size == 1
    assert stats.namespaces["new"].evicted_size == 0
    assert stats.namespaces["old"].entries + stats.namespaces["new"].entries == 2
    assert stats.evicted_size == 1


def test_namespaces_beyond_the_bound_share_one_overflow_view() -> None:
    cache = stratacache.Cache(max_entries=1000)
    names = [f"ns{i}" for i in range(80)]
    for name in names:
        cache._setter(name)("k", 1)
    stats = cache.stats()
    other = stats.other_namespaces
    assert isinstance(other, NamespaceStats)
    assert len(stats.namespaces) + other.sets == len(names) + 1  # +1: the default namespace
    assert other.sets > 0
    assert stats.sets == len(names)


async def test_tiers_view_keeps_the_old_fields(make_cache: Callable[..., Any]) -> None:
    cache = make_cache(max_entries=10)
    await call(cache.set("k", 1))
    await call(cache.get("k"))
    stats = await call(cache.stats())
    assert set(stats.tiers) == {"l1"}
    assert stats.tiers["l1"].hits == stats.hits == 1
    assert stats.l1.entries == stats.entries == 1


async def test_no_histograms_unless_timing_is_asked_for(make_cache: Callable[..., Any]) -> None:
    cache = make_cache(max_entries=10)
    await call(cache.set("k", 1))
    await call(cache.get("k"))
    assert dict((await call(cache.stats())).latency) == {}


async def test_timing_fills_the_l1_histograms(make_cache: Callable[..., Any]) -> None:
    cache = make_cache(max_entries=10, timing=1.0)
    for i in range(20):
        await call(cache.set(f"k{i}", i))
    for i in range(30):
        await call(cache.get(f"k{i}"))
    await call(cache.delete("k0"))
    l1 = (await call(cache.stats())).latency["l1"]
    assert l1["get"].count == 30
    assert l1["set"].count == 20
    assert l1["delete"].count == 1
    get = l1["get"]
    assert get.total > 0
    assert get.mean == get.total / 30
    assert [b for b, _ in get.buckets] == [b / 1e9 for b in LATENCY_BOUNDS_NS]
    counts = [n for _, n in get.buckets]
    assert counts == sorted(counts)
    assert counts[-1] == 30  # nothing on L1 takes 34 s
    assert set(get.quantiles) == set(LATENCY_QUANTILES)
    assert 0 < get.quantiles[0.5] <= get.quantiles[0.99]


def test_sampled_timing_times_a_fraction_of_calls() -> None:
    cache = stratacache.Cache(max_entries=10, timing=0.125)
    cache.set("k", 1)
    for _ in range(800):
        cache.get("k")
    count = cache.stats().latency["l1"]["get"].count
    assert 90 <= count <= 110  # every 8th call of this thread, give or take the set's turn


@pytest.mark.parametrize("bad", [0, -0.5, 1.5, float("nan")])
def test_timing_outside_zero_to_one_is_refused(bad: float) -> None:
    with pytest.raises(ConfigError, match="timing"):
        stratacache.Cache(timing=bad)


def test_timing_must_be_a_number() -> None:
    with pytest.raises(TypeError, match="timing"):
        stratacache.Cache(timing="all")  # type: ignore[arg-type]


async def test_redis_calls_go_into_the_same_histograms(
    cache_cls: type[Any], redis_url: str
) -> None:
    cache = cache_cls(redis=redis_url, l1=False, timing=1.0, namespace="lat")
    try:
        for i in range(5):
            await call(cache.set(f"k{i}", i))
        for i in range(5):
            assert await call(cache.get(f"k{i}")) == i
        await call(cache.delete("k0"))
        latency = (await call(cache.stats())).latency
        redis = latency["redis"]
        # A set that announces itself to other processes is a pipeline: set_many.
        assert redis.get("set", _EMPTY).count + redis.get("set_many", _EMPTY).count >= 5
        assert redis["get"].count >= 5
        assert redis["delete"].count >= 1
        assert redis["get"].total > 0
    finally:
        await call(cache.close())


def test_record_latency_refuses_unknown_names() -> None:
    cache = stratacache.Cache(timing=1.0)
    with pytest.raises(ValueError, match="unknown tier or operation"):
        cache._store.record_latency("l7", "get", 10)
    cache._store.record_latency("disk", "get", 1500)
    assert cache.stats().latency["disk"]["get"].count == 1


class _Empty:
    count = 0


_EMPTY: Any = _Empty()
