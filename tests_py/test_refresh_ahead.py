"""refresh_ahead= on cached functions: checks, predictor-scheduled and XFetch refreshes.

Timing: TTLs of about a second with an explicit `lead`, polled until a generous deadline, so
a slow machine makes a test slower, not wrong. A threshold of 0 refreshes whatever the model
says (it is untrained in a test this short); a threshold of 1 refreshes nothing it has not
learned, which is how the untrained model's "no refresh" is checked.
"""

from __future__ import annotations

import asyncio
import gc
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

import stratacache
from stratacache import ConfigError, PredictorOptions, RefreshAhead

TTL = 1.0
LEAD = 0.5
DEADLINE = 5.0


def predictor_cache(**kwargs: Any) -> stratacache.Cache:
    options = PredictorOptions(sample_rate=1.0, horizon=2.0, publish_keys=0)
    return stratacache.Cache(predictor=options, **kwargs)


def wait_for(condition: Callable[[], bool], seconds: float = DEADLINE) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def counts(cache: Any) -> stratacache.RefreshStats:
    """The cache's refresh counters (all zero before its first refreshing function)."""
    stats: stratacache.RefreshStats | None = cache.stats().refresh_ahead
    return stats or stratacache.RefreshStats()


def model_of(cache: stratacache.Cache) -> Any:
    model = cache._predictor
    assert model is not None
    return model


def site_of(f: object) -> Any:
    return getattr(f, "__stratacache_site__")  # noqa: B009 - not a typed attribute


def predict(**kwargs: Any) -> RefreshAhead:
    return RefreshAhead(mode="predict", **{"threshold": 0.0, "lead": LEAD, **kwargs})


# -- checks ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"mode": "soon"}, ConfigError),
        ({"threshold": 1.5}, ConfigError),
        ({"threshold": "high"}, TypeError),
        ({"budget": 0}, ConfigError),
        ({"lead": -1.0}, ConfigError),
        ({"beta": 0}, ConfigError),
        ({"workers": 0}, ConfigError),
        ({"workers": 2.0}, TypeError),
        ({"max_keys": 0}, ConfigError),
    ],
)
def test_bad_options_are_refused(kwargs: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        RefreshAhead(**kwargs)


def test_bad_refresh_ahead_values_are_refused() -> None:
    cache = stratacache.Cache()
    with pytest.raises(ConfigError, match="'predict' or 'xfetch'"):
        cache.cache(ttl=1, refresh_ahead="later")
    with pytest.raises(TypeError, match="refresh_ahead must be"):
        cache.cache(ttl=1, refresh_ahead=1)  # type: ignore[call-overload]


def test_predict_needs_a_predictor_and_every_mode_a_ttl() -> None:
    def same(x: int) -> int:
        return x

    with pytest.raises(ConfigError, match="predictor=True"):
        stratacache.Cache().cache(ttl=1, refresh_ahead="predict")(same)
    with pytest.raises(ConfigError, match="needs a TTL"):
        predictor_cache().cache(refresh_ahead="predict")(same)
    with pytest.raises(ConfigError, match="needs a TTL"):
        stratacache.Cache().cache(refresh_ahead="xfetch")(same)
    # A cache's default_ttl is a TTL too.
    assert stratacache.Cache(default_ttl=5).cache(refresh_ahead="xfetch")(same)(3) == 3


def test_the_model_scores_and_observes_tracked_keys_by_name() -> None:
    cache = predictor_cache(namespace="m")
    cache.set("seen", 1)
    cache.get("seen")
    core = model_of(cache).core
    prefix = "m\x1f"
    assert wait_for(lambda: core.stats()["tracked"] >= 1)
    before = core.stats()["observed"]
    assert core.observe(prefix, ["seen", "never"], 0.1) == 1  # only the tracked key
    assert core.stats()["observed"] == before + 1
    p_seen, p_never = core.probabilities(prefix, ["seen", "never"])
    assert 0.0 <= p_seen <= 1.0
    assert 0.0 <= p_never <= 1.0
    with pytest.raises(TypeError):
        core.probabilities(prefix, [1])
    cache.close()


# -- predict, L1 ----------------------------------------------------------------------------
def test_a_key_is_refreshed_before_expiry_without_a_read() -> None:
    cache = predictor_cache()
    calls: list[float] = []

    @cache.cache(ttl=TTL, refresh_ahead=predict())
    def f(x: int) -> tuple[int, int]:
        calls.append(time.monotonic())
        return x, len(calls)

    loaded = time.monotonic()
    assert f(1) == (1, 1)
    assert wait_for(lambda: len(calls) >= 2)  # nobody read it meanwhile
    assert calls[1] - loaded < TTL  # before the first value expired
    # Past the first value's expiry, the refreshed one is served without a loader call.
    time.sleep(max(0.0, loaded + TTL + 0.05 - time.monotonic()))
    assert f(1)[1] >= 2
    assert f.cache_info().misses == 1  # no call waited for the loader
    stats = cache.stats().refresh_ahead
    assert stats is not None
    assert stats.started >= 1
    assert stats.succeeded >= 1
    cache.close()


def test_an_untrained_model_refreshes_nothing() -> None:
    cache = predictor_cache()
    calls: list[int] = []

    @cache.cache(ttl=TTL, refresh_ahead=predict(threshold=1.0))
    def f(x: int) -> int:
        calls.append(x)
        return x

    f(1)
    assert wait_for(lambda: counts(cache).skipped_cold > 0)
    stats = cache.stats().refresh_ahead
    assert stats is not None
    assert stats.started == 0
    assert calls == [1]
    cache.close()


def test_the_budget_caps_refreshes() -> None:
    cache = predictor_cache()
    calls: list[int] = []

    @cache.cache(ttl=TTL, refresh_ahead=predict(budget=2.0, workers=32))
    def f(x: int) -> int:
        calls.append(x)
        return x

    for i in range(12):
        f(i)
    assert wait_for(lambda: counts(cache).skipped_budget >= 8)
    time.sleep(0.2)
    stats = cache.stats().refresh_ahead
    assert stats is not None
    # A bucket of two calls, refilled at two per second over the few ticks the keys fall in.
    assert 1 <= stats.started <= 4
    assert stats.started + stats.skipped_budget == 12
    cache.close()


def test_a_failed_refresh_keeps_the_old_value() -> None:
    cache = predictor_cache()
    calls: list[int] = []

    @cache.cache(ttl=TTL, refresh_ahead=predict())
    def f(x: int) -> int:
        calls.append(x)
        if len(calls) > 1:
            msg = "loader down"
            raise RuntimeError(msg)
        return 10 * x

    loaded = time.monotonic()
    assert f(1) == 10
    assert wait_for(lambda: counts(cache).failed >= 1)
    assert time.monotonic() - loaded < TTL
    assert f(1) == 10  # still the old value, from L1
    assert len(calls) == 2
    cache.close()


def test_an_invalidation_during_a_refresh_is_not_undone() -> None:
    cache = predictor_cache()
    entered, release = threading.Event(), threading.Event()
    calls: list[int] = []

    @cache.cache(ttl=TTL, refresh_ahead=predict())
    def f(x: int) -> int:
        calls.append(x)
        if len(calls) == 2:  # the refresh
            entered.set()
            release.wait(DEADLINE)
        return len(calls)

    assert f(1) == 1
    assert entered.wait(DEADLINE)
    assert f.invalidate(1)
    release.set()
    assert wait_for(lambda: counts(cache).gone >= 1)
    assert f(1) == 3  # a request-path load: the refreshed value was not stored
    cache.close()


def test_an_async_function_is_refreshed_on_its_loop() -> None:
    async def main() -> None:
        cache = stratacache.AsyncCache(
            predictor=PredictorOptions(sample_rate=1.0, horizon=2.0, publish_keys=0)
        )
        calls: list[int] = []

        @cache.cache(ttl=TTL, refresh_ahead=predict())
        async def f(x: int) -> int:
            calls.append(x)
            await asyncio.sleep(0.001)
            return len(calls)

        assert await f(1) == 1
        deadline = time.monotonic() + DEADLINE
        value = 1
        while value < 2 and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
            value = await f(1)
        assert value >= 2, counts(cache)
        assert f.cache_info().misses == 1  # refreshed in the background, never on a call
        assert counts(cache).succeeded >= 1
        await cache.close()

    asyncio.run(main())


def test_a_dropped_function_leaves_the_feed_thread() -> None:
    cache = predictor_cache()

    def make() -> None:
        @cache.cache(ttl=TTL, refresh_ahead=predict())
        def f(x: int) -> int:
            return x

        f(1)

    make()
    hooks = model_of(cache).on_drain
    assert len(hooks) == 1
    gc.collect()
    assert wait_for(lambda: not hooks)
    cache.close()


# -- xfetch, L1 -----------------------------------------------------------------------------
def test_xfetch_refreshes_an_l1_only_entry_on_a_hit() -> None:
    cache = stratacache.Cache()
    calls: list[int] = []

    # beta this large makes any hit past the first load draw a refresh.
    @cache.cache(ttl=TTL, refresh_ahead=RefreshAhead(mode="xfetch", beta=1e6))
    def f(x: int) -> int:
        calls.append(x)
        time.sleep(0.005)
        return len(calls)

    assert f(1) == 1
    assert f(1) == 1  # a hit: served the current value, a refresh started
    assert wait_for(lambda: len(calls) >= 2)
    assert wait_for(lambda: f(1) >= 2)
    stats = cache.stats().refresh_ahead
    assert stats is not None
    assert stats.started >= 1
    assert f.cache_info().misses == 1


# -- with Redis -----------------------------------------------------------------------------
def test_redis_key_is_refreshed_in_both_tiers(redis_clean_url: str) -> None:
    cache = predictor_cache(redis=redis_clean_url, namespace="ra")
    other = stratacache.Cache(redis=redis_clean_url, namespace="ra")  # another process
    calls: list[int] = []

    @cache.cache(ttl=TTL, refresh_ahead=predict())
    def f(x: int) -> int:
        calls.append(x)
        return len(calls)

    key = site_of(f).keys.invalidation_key((1,), {})
    loaded = time.monotonic()
    assert f(1) == 1
    assert wait_for(lambda: len(calls) >= 2)
    assert time.monotonic() - loaded < TTL
    time.sleep(max(0.0, loaded + TTL + 0.05 - time.monotonic()))
    assert f(1) >= 2  # L1 holds the refreshed value past the first one's expiry
    assert other.get(key) >= 2  # and so does Redis
    assert len(calls) >= 2
    assert f.cache_info().misses == 1
    cache.close()
    other.close()


def test_redis_invalidation_during_a_refresh_is_not_undone(redis_clean_url: str) -> None:
    cache = predictor_cache(redis=redis_clean_url, namespace="rb")
    other = stratacache.Cache(redis=redis_clean_url, namespace="rb")
    entered, release = threading.Event(), threading.Event()
    calls: list[int] = []

    @cache.cache(ttl=TTL, refresh_ahead=predict())
    def f(x: int) -> int:
        calls.append(x)
        if len(calls) == 2:
            entered.set()
            release.wait(DEADLINE)
        return len(calls)

    key = site_of(f).keys.invalidation_key((1,), {})
    assert f(1) == 1
    assert entered.wait(DEADLINE)
    assert f.invalidate(1)
    release.set()

    def settled() -> bool:
        stats = cache.stats().refresh_ahead
        return stats is not None and stats.succeeded + stats.gone + stats.failed >= 1

    assert wait_for(settled)
    assert other.get(key) is None  # Redis refused the refresh's fill
    assert f(1) == 3  # and L1 did not keep it: a request-path load
    cache.close()
    other.close()
