"""The predictor in a live cache: options, the feed, hot_keys and f.warm, sync and async."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

import stratacache
from stratacache import ConfigError, PredictorOptions

from .conftest import call

# Short horizons so that observations are labelled, and the model trained, within a test.
FAST = PredictorOptions(sample_rate=1.0, horizon=0.3, max_tracked=1000)


def wait_for(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"sample_rate": 0}, ConfigError),
        ({"sample_rate": 1.5}, ConfigError),
        ({"sample_rate": "0.1"}, TypeError),
        ({"sample_rate": True}, TypeError),
        ({"horizon": 0}, ConfigError),
        ({"horizon": float("inf")}, ConfigError),
        ({"max_tracked": 0}, ConfigError),
        ({"max_tracked": 1.5}, TypeError),
        ({"publish_keys": -1}, ConfigError),
        ({"publish_interval": 0}, ConfigError),
    ],
)
def test_options_refuse_bad_values(kwargs: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error, match=next(iter(kwargs))):
        PredictorOptions(**kwargs)


def test_cache_refuses_bad_predictor_arguments(cache_cls: type[Any]) -> None:
    with pytest.raises(TypeError, match="predictor must be"):
        cache_cls(predictor="yes")
    with pytest.raises(ConfigError, match="share one recorder"):
        cache_cls(predictor=PredictorOptions(sample_rate=0.01), record=0.5)
    cache_cls(predictor=PredictorOptions(sample_rate=0.5), record=0.5)  # one rate: fine


async def test_calls_refuse_bad_arguments(cache_cls: type[Any]) -> None:
    off = cache_cls()
    with pytest.raises(ConfigError, match="predictor is off"):
        await call(off.hot_keys(5))
    on = cache_cls(predictor=FAST)
    with pytest.raises(ConfigError, match="n must be"):
        await call(on.hot_keys(0))
    with pytest.raises(TypeError, match="n must be"):
        await call(on.hot_keys("5"))
    with pytest.raises(ConfigError, match="timeout"):
        await call(on.warm(timeout=0))
    with pytest.raises(ConfigError, match="n must be"):
        await call(on.warm(n=0))
    await call(on.close())


def _skewed_rounds(get: Callable[[str], Any], rounds: int) -> None:
    """Each round reads the 5 hot keys, then one cold key never read again: the most recent
    key is always a cold one, so a ranking by recency alone puts it first."""
    for r in range(rounds):
        for i in range(5):
            get(f"hot{i}")
        get(f"cold{r}")
        time.sleep(0.005)


async def test_hot_keys_rank_the_frequent_keys_first(cache_cls: type[Any]) -> None:
    cache = cache_cls(predictor=FAST)
    sync_get = cache._get  # the same C getter for both classes: the stream is what matters
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # until the model has learned from labelled rows
        _skewed_rounds(sync_get, 40)
        if cache._predictor.stats()["trained"] >= 256:
            break
    assert cache._predictor.stats()["trained"] >= 256
    top = await call(cache.hot_keys(5))
    assert {k for k, _ in top} == {f"hot{i}" for i in range(5)}
    # Ranked by expected reads within the horizon (P * (1 + horizon / mean gap)), not by P:
    # among keys read alike, P order is noise; the hot keys still all beat the cold ones.
    probabilities = [p for _, p in top]
    everything = await call(cache.hot_keys(1000))
    cold = [p for k, p in everything if k.startswith("cold")]
    assert cold
    assert min(probabilities) > max(cold)
    await call(cache.close())


async def test_hot_keys_keep_to_their_namespace(cache_cls: type[Any]) -> None:
    cache = cache_cls(predictor=FAST, namespace="a")
    await call(cache.set("mine", 1))
    other = cache._getter("b")
    other("theirs", None)
    assert wait_for(lambda: cache._predictor.stats()["tracked"] >= 2)
    assert [k for k, _ in await call(cache.hot_keys(10))] == ["mine"]
    assert [k for k, _ in await call(cache.hot_keys(10, namespace="b"))] == ["theirs"]
    assert await call(cache.hot_keys(10, namespace="nobody")) == []
    await call(cache.close())


def test_tracked_keys_and_names_stay_bounded() -> None:
    cache = stratacache.Cache(predictor=PredictorOptions(sample_rate=1.0, max_tracked=100))
    for i in range(2000):
        cache.set(f"k{i}", i)
    assert wait_for(lambda: cache._predictor.stats()["fed"] >= 2000)
    time.sleep(0.2)  # one more drain trims the names to the tracked keys
    stats = cache._predictor.stats()
    assert stats["tracked"] == 100
    assert stats["names"] <= 100
    # The names of the newest keys, even with all 2000 named within one drain's window (a few
    # may be lost to a stage busy with a drain at that instant).
    hot = {k for k, _ in cache.hot_keys(100)}
    assert hot <= {f"k{i}" for i in range(1900, 2000)}
    assert len(hot) >= 95
    cache.close()


def test_memory_per_tracked_key_stays_under_100_bytes() -> None:
    # Issue 13's bound for 13-byte keys, as the stats count it: true heap bytes, capacities.
    cache = stratacache.Cache(
        max_entries=10_000, predictor=PredictorOptions(sample_rate=1.0, max_tracked=10_000)
    )
    for i in range(10_000):
        cache.get(f"user:{i:08d}")
    # A name staged while a drain swaps the stage out is lost (try_lock): allow a few.
    assert wait_for(lambda: cache._predictor.stats()["fed"] >= 10_000)
    assert wait_for(lambda: cache._predictor.stats()["names"] >= 9_990)
    stats = cache._predictor.stats()
    assert stats["tracked"] == 10_000
    assert 56 < stats["model_bytes_per_key"] < 85
    assert 13 < stats["name_bytes_per_key"] < 20
    assert stats["model_bytes_per_key"] + stats["name_bytes_per_key"] <= 100
    cache.close()


def test_only_sampled_keys_are_ranked() -> None:
    cache = stratacache.Cache(predictor=PredictorOptions(sample_rate=0.1))
    for i in range(2000):
        cache.set(f"k{i}", i)
    assert wait_for(lambda: cache._predictor.stats()["fed"] > 0)
    time.sleep(0.2)
    ranked = cache.hot_keys(2000)
    assert 100 < len(ranked) < 400  # about 10% of the keys
    assert all(cache._store.recorded(cache._prefix, k) for k, _ in ranked)
    cache.close()


async def test_warm_without_lower_tier_warms_nothing(cache_cls: type[Any]) -> None:
    cache = cache_cls(predictor=FAST)
    await call(cache.set("a", 1))
    assert wait_for(lambda: cache._predictor.stats()["tracked"] >= 1)
    report = await call(cache.warm())
    assert isinstance(report, stratacache.WarmReport)
    assert (report.keys, report.requested, report.source) == (0, 0, "model")  # "a" is in L1
    await call(cache.close())


class Gauge:
    """Counts calls and the most that ran at once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running = 0
        self.peak = 0
        self.calls = 0

    def enter(self) -> None:
        with self.lock:
            self.running += 1
            self.calls += 1
            self.peak = max(self.peak, self.running)

    def leave(self) -> None:
        with self.lock:
            self.running -= 1


def test_function_warm_reruns_loaders_with_bounded_concurrency() -> None:
    cache = stratacache.Cache(predictor=FAST)
    gauge = Gauge()

    @cache.cache(ttl=60)
    def load(i: int) -> int:
        gauge.enter()
        time.sleep(0.02)
        gauge.leave()
        return i * 10

    for i in range(12):
        load(i)
    assert wait_for(lambda: cache._predictor.stats()["tracked"] >= 12)
    load.cache_clear()
    gauge.calls = gauge.peak = 0
    report = load.warm(n=12, concurrency=3)
    assert (report.keys, report.requested) == (12, 12)
    assert gauge.calls == 12
    assert 2 <= gauge.peak <= 3
    before = load.cache_info().misses
    assert [load(i) for i in range(12)] == [i * 10 for i in range(12)]
    assert load.cache_info().misses == before  # all hits now
    assert load.warm().keys == 0  # nothing left to warm
    with pytest.raises(ConfigError, match="concurrency"):
        load.warm(concurrency=0)
    cache.close()


async def test_async_function_warm_reruns_loaders_with_bounded_concurrency() -> None:
    cache = stratacache.AsyncCache(predictor=FAST)
    running = peak = calls = 0

    @cache.cache(ttl=60)
    async def load(i: int) -> int:
        nonlocal running, peak, calls
        running += 1
        calls += 1
        peak = max(peak, running)
        await asyncio.sleep(0.02)
        running -= 1
        return i * 10

    for i in range(12):
        await load(i)
    assert wait_for(lambda: cache._predictor.stats()["tracked"] >= 12)
    await load.cache_clear()
    calls = peak = 0
    report = await load.warm(n=12, concurrency=4)
    assert (report.keys, calls, peak) == (12, 12, 4)
    assert [await load(i) for i in range(12)] == [i * 10 for i in range(12)]
    assert calls == 12
    await cache.close()


def test_function_warm_needs_a_predictor() -> None:
    cache = stratacache.Cache()

    @cache.cache
    def f(i: int) -> int:
        return i

    with pytest.raises(ConfigError, match="predictor=True"):
        f.warm()


async def test_warm_fills_l1_from_the_disk_tier(cache_cls: type[Any], tmp_path: Any) -> None:
    cache = cache_cls(predictor=FAST, disk=tmp_path / "disk")
    for i in range(20):
        await call(cache.set(f"k{i}", f"value {i}"))
    assert wait_for(lambda: cache._predictor.stats()["tracked"] >= 20)
    cache._store.clear(cache._prefix)  # L1 only: the disk tier keeps them
    report = await call(cache.warm(n=20))
    assert (report.source, report.requested, report.keys) == ("model", 20, 20)
    assert all(cache._store.contains(cache._prefix, f"k{i}") for i in range(20))
    await call(cache.close())


def test_close_stops_the_feed_thread() -> None:
    cache = stratacache.Cache(predictor=FAST)
    thread = cache._predictor._feed.thread
    assert thread is not None
    assert thread.is_alive()
    cache.close()
    assert not thread.is_alive()
