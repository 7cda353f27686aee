"""AutoTTL: validation, the estimator on known change processes, the TTL a live cache applies
(L1 and Redis), a cached function's reload observations, and cache.recommendations()."""

from __future__ import annotations

import dataclasses
import itertools
import math
import time
from typing import Any

import pytest
import redis

import stratacache
from stratacache import AutoTTL, ConfigError
from stratacache._autottl import AIM, GROWTH, TtlEstimator

from .conftest import call

#: No retune from the thread during a test: the tests call retune() themselves.
NEVER = 3600.0


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"max_stale": 0}, ConfigError, "max_stale"),
        ({"max_stale": 1}, ConfigError, "max_stale"),
        ({"max_stale": "0.1"}, TypeError, "max_stale"),
        ({"max_stale": True}, TypeError, "max_stale"),
        ({"min": 0}, ConfigError, "min"),
        ({"min": -1}, ConfigError, "min"),
        ({"min": math.nan}, ConfigError, "min"),
        ({"min": 10, "max": 5}, ConfigError, "max"),
        ({"max": math.inf}, ConfigError, "max"),
        ({"retune_every": 0}, ConfigError, "retune_every"),
        ({"sample": 0}, ConfigError, "sample"),
        ({"sample": 1.5}, ConfigError, "sample"),
        ({"sample": None}, TypeError, "sample"),
    ],
)
def test_autottl_refuses_bad_fields(
    kwargs: dict[str, Any], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        AutoTTL(**kwargs)


def test_autottl_is_frozen_and_defaults_as_documented() -> None:
    auto = AutoTTL()
    assert (auto.max_stale, auto.min, auto.max) == (0.01, 1.0, 86400.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        auto.min = 2.0  # type: ignore[misc]
    assert AutoTTL(min=5, max=5).max == 5.0


def periodic_changes(est: TtlEstimator, period: float, *, reloads: bool) -> None:
    """Twenty keys read every second for 2000 s; each key's source changes every `period`
    seconds (phases spread evenly), so P(changed by age a) = a / period. Fed either as reload
    comparisons at ages 10..790 or as the inter-change intervals the cache saw."""
    for key in range(20):
        for t in range(2000):
            est.read(key, float(t))
    if reloads:
        for j in range(100):  # 4000 observations in all: every one is kept
            phase = (j + 0.5) * period / 100
            for age in range(10, 801, 20):
                est.reloaded(float(age), (phase + age) // period > phase // period)
    else:
        for key in range(20):
            for i in range(6):
                est.changed(key, 1000.0 + i * period + key)


def expected_ttl(period: float, budget: float) -> float:
    """Reads every second, P(changed by age a) = a / period: a TTL of n seconds serves n - 1
    hits per load at ages 1..n-1, a stale share of (n - 1) / (2 * period) of the reads; the
    estimator aims at AIM times the budget."""
    return 2 * period * AIM * budget + 1


@pytest.mark.parametrize("reloads", [True, False])
@pytest.mark.parametrize("period", [1000.0, 4000.0])
def test_estimator_finds_the_ttl_of_a_known_change_process(reloads: bool, period: float) -> None:
    est = TtlEstimator()
    periodic_changes(est, period, reloads=reloads)
    assert est.p_changed(period / 10) == pytest.approx(0.1, abs=0.02)
    auto = AutoTTL(max_stale=0.02, min=1, max=86400)
    best = est.recommend(auto)
    assert best.ttl == pytest.approx(expected_ttl(period, 0.02), rel=0.1)
    assert best.stale_share <= AIM * 0.02
    assert est.predict(best.ttl * 1.2).stale_share > AIM * 0.02
    assert best.hit_ratio == pytest.approx(1 - 1 / math.ceil(best.ttl), abs=0.01)


def test_estimator_without_changes_stays_at_min_and_bounds_hold() -> None:
    est = TtlEstimator()
    auto = AutoTTL(max_stale=0.02, min=2, max=50)
    assert est.recommend(auto).ttl == 2  # nothing observed: the lower bound
    for t in range(100):
        est.read(1, float(t))
    for _ in range(100):
        est.reloaded(5.0, changed=False)
    assert est.recommend(auto).ttl == pytest.approx(50)  # never changes: up to max
    assert est.recommend(auto, current=4).ttl == pytest.approx(4 * GROWTH)
    churn = TtlEstimator()
    for t in range(100):
        churn.read(1, float(t))
    for _ in range(100):
        churn.reloaded(1.0, changed=True)
    assert churn.recommend(auto).ttl == 2  # always stale: the lower bound


def feed(cache: Any, period: float) -> Any:
    """The tuner state of the cache's namespace, fed the known process of periodic_changes."""
    tuner = cache._autottl
    [state] = [s for s in tuner.states() if s.name == cache.namespace]
    with tuner.lock:
        periodic_changes(state.estimator, period, reloads=True)
    return state


async def test_applied_ttl_moves_toward_the_estimate_by_bounded_steps(
    cache_cls: type[Any],
) -> None:
    auto = AutoTTL(max_stale=0.02, min=1, max=1000, retune_every=NEVER)
    cache = cache_cls(default_ttl=auto)
    assert cache.default_ttl == 1.0
    await call(cache.set("before", 1))
    assert await call(cache.ttl("before")) <= 1.0
    state = feed(cache, 1000.0)
    target = state.estimator.recommend(auto).ttl
    seen = [cache.default_ttl]
    for _ in range(12):
        cache._autottl.retune()
        seen.append(cache.default_ttl)
    assert all(b <= a * GROWTH * 1.0001 for a, b in itertools.pairwise(seen))
    assert seen[1] == pytest.approx(2.0)
    assert seen[-1] == pytest.approx(target, rel=0.03)
    await call(cache.set("after", 1))
    left = await call(cache.ttl("after"))
    assert target * 0.9 < left <= cache.default_ttl
    await call(cache.close())


async def test_applied_ttl_stays_inside_the_bounds(cache_cls: type[Any]) -> None:
    capped = cache_cls(default_ttl=AutoTTL(max_stale=0.02, min=1, max=10, retune_every=NEVER))
    feed(capped, 1000.0)
    for _ in range(10):
        capped._autottl.retune()
    assert capped.default_ttl == pytest.approx(10)
    floored = cache_cls(default_ttl=AutoTTL(max_stale=0.02, min=3, max=100, retune_every=NEVER))
    feed(floored, 20.0)  # changes every 20 s: even the shortest TTL is over the budget
    for _ in range(5):
        floored._autottl.retune()
    assert floored.default_ttl == 3
    await call(capped.close())
    await call(floored.close())


async def test_redis_tier_ttl_follows(cache_cls: type[Any], redis_clean_url: str) -> None:
    auto = AutoTTL(max_stale=0.02, min=2, max=1000, retune_every=NEVER)
    cache = cache_cls(redis=redis_clean_url, default_ttl=auto)
    raw = redis.Redis.from_url(redis_clean_url)
    await call(cache.set("k", 1))
    assert 0 < raw.pttl(b"sc:\x1fk") <= 2000
    feed(cache, 1000.0)
    for _ in range(10):
        cache._autottl.retune()
    applied = cache.default_ttl
    assert applied > 20
    await call(cache.set("k", 2))
    assert applied * 1000 * 0.9 < raw.pttl(b"sc:\x1fk") <= applied * 1000 + 1  # ms, rounded up
    await call(cache.close())
    raw.close()


def test_set_refuses_an_autottl() -> None:
    cache = stratacache.Cache(record=1.0)
    with pytest.raises(TypeError, match="ttl must be a number"):
        cache.set("k", 1, ttl=AutoTTL())


def test_a_cached_function_needs_recording_for_autottl() -> None:
    cache = stratacache.Cache()
    with pytest.raises(ConfigError, match="record="):

        @cache.cache(ttl=AutoTTL())
        def f(x: int) -> int:
            return x


def test_reloads_of_a_cached_function_are_compared() -> None:
    cache = stratacache.Cache(record=1.0)
    calls = {"changing": 0}
    auto = AutoTTL(min=0.05, max=0.05, retune_every=NEVER)

    @cache.cache(ttl=auto, namespace="changing")
    def changing(x: int) -> int:
        calls["changing"] += 1
        return calls["changing"]

    @cache.cache(ttl=auto, namespace="steady")
    def steady(x: int) -> int:
        return x

    for fn in (changing, steady):
        fn(1)
        deadline = time.monotonic() + 5
        while fn.cache_info().misses < 2 and time.monotonic() < deadline:
            time.sleep(0.06)
            fn(1)
    states = {s.name: s for s in cache._autottl.states()}
    assert list(states["changing"].estimator._status)[-1][1] is True
    assert list(states["steady"].estimator._status)[-1][1] is False
    assert states["changing"].estimator.observations >= 1
    cache.close()


async def test_recommendations_shape_and_values(cache_cls: type[Any]) -> None:
    cache = cache_cls(record=1.0, default_ttl=60)
    for i in range(200):
        await call(cache.set(f"k{i % 20}", i))
        await call(cache.get(f"k{i % 20}"))
    rec = await call(cache.recommendations(target_hit_ratio=0.5, max_stale=0.02))
    assert isinstance(rec, stratacache.Recommendations)
    assert rec.target_hit_ratio == 0.5
    assert rec.max_stale == 0.02
    ns = rec.namespaces[""]
    assert isinstance(ns, stratacache.NamespaceRecommendation)
    assert ns.current_ttl == 60
    assert ns.auto is False
    assert ns.sampled_reads >= 200
    assert 1 <= ns.recommended_ttl <= 86400
    # Within the budget, unless even the shortest TTL is over it (then the shortest).
    assert ns.predicted_stale_share <= 0.02 or ns.recommended_ttl == 1
    assert rec.l1_entries_for_target is None or rec.l1_entries_for_target >= 1
    feed(cache, 1000.0)
    known = (await call(cache.recommendations(max_stale=0.02))).namespaces[""]
    assert known.recommended_ttl == pytest.approx(expected_ttl(1000.0, 0.02), rel=0.15)
    assert known.change_observations > 0
    await call(cache.close())


async def test_recommendations_of_an_autottl_namespace(cache_cls: type[Any]) -> None:
    cache = cache_cls(default_ttl=AutoTTL(max_stale=0.05, min=1, max=100, retune_every=NEVER))
    ns = (await call(cache.recommendations())).namespaces[""]
    assert ns.auto is True
    assert ns.current_ttl == cache.default_ttl == 1.0
    await call(cache.close())


async def test_recommendations_refuse_bad_arguments(cache_cls: type[Any]) -> None:
    cache = cache_cls(record=1.0)
    with pytest.raises(ConfigError, match="target_hit_ratio"):
        await call(cache.recommendations(target_hit_ratio=1.0))
    with pytest.raises(TypeError, match="max_stale"):
        await call(cache.recommendations(max_stale="0.1"))
    plain = cache_cls()
    with pytest.raises(ConfigError, match="record="):
        await call(plain.recommendations())
    await call(cache.close())
    await call(plain.close())


def test_the_thread_retunes_and_functions_follow_the_default() -> None:
    auto = AutoTTL(max_stale=0.02, min=1, max=1000, retune_every=0.05)
    cache = stratacache.Cache(default_ttl=auto)

    @cache.cache(namespace="fn")
    def f(x: int) -> int:
        return x

    f(1)
    states = {s.name: s for s in cache._autottl.states()}
    assert states["fn"].auto is auto  # the cache's AutoTTL governs the function's namespace
    [site] = list(states["fn"].sites)
    assert site.ttl == 1.0
    with cache._autottl.lock:
        periodic_changes(states["fn"].estimator, 1000.0, reloads=True)
    deadline = time.monotonic() + 10
    while site.ttl < 20 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert site.ttl >= 20  # retuned by the thread, by steps of at most 2x
    applied = site.ttl
    f.cache_clear()
    f(2)
    prefix = "fn" + stratacache._options.NAMESPACE_SEP
    [key] = cache._store.keys(prefix)
    left = cache._store.ttl(prefix, key.removeprefix(prefix))
    assert left is not None
    assert 10 < left <= max(applied, site.ttl) * GROWTH  # stored with the retuned TTL, not 1 s
    cache.close()


@pytest.mark.parametrize("disk", [False, True])
def test_a_retuned_default_reaches_every_set_path(disk: bool, tmp_path: Any) -> None:
    auto = AutoTTL(min=1, max=100, retune_every=NEVER)
    cache = stratacache.Cache(default_ttl=auto, disk=tmp_path if disk else None)
    sub = cache.events.subscribe(lambda event: None, kinds=["set"])  # wraps set and driver
    cache._apply_default_ttl(40.0)
    cache.set("k", 1)
    cache.set_many({"m": 1})
    assert all(39 < (cache.ttl(k) or 0) <= 40 for k in ("k", "m"))
    sub.close()
    cache._apply_default_ttl(50.0)
    cache.set("k", 2)
    assert 49 < (cache.ttl("k") or 0) <= 50
    cache.close()


def test_few_reloads_hold_the_ttl() -> None:
    est = TtlEstimator()
    auto = AutoTTL(max_stale=0.02, min=1, max=100)
    for t in range(100):
        est.read(1, float(t))
    est.reloaded(3.0, changed=False)  # one reload: too few to fit, not evidence of no change
    assert est.recommend(auto, current=4).ttl == 4
    for _ in range(30):
        est.reloaded(3.0, changed=False)
    assert est.recommend(auto, current=4).ttl == pytest.approx(8)
