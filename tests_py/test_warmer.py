"""stratacache.Warmer: strategies, priorities, schedules, error isolation, stop, sync and async."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import croniter  # the test extra installs it
import pytest

import stratacache
from stratacache import ConfigError, MissingExtraError, PredictorOptions, Warmer

from .conftest import call

# Short horizons so that the model tracks and ranks keys within a test.
FAST = PredictorOptions(sample_rate=1.0, horizon=0.3, max_tracked=1000)


async def eventually(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    """Polls `predicate` without blocking the loop (an AsyncCache's warmer runs in it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.01)
    return predicate()


class Loader:
    """A batch loader that records its calls; optionally slow, or failing."""

    def __init__(self, delay: float = 0.0, fail: bool = False, log: list[Any] | None = None):
        self.delay, self.fail = delay, fail
        self.calls: list[list[str]] = []
        self.log = log if log is not None else []
        self.in_flight = self.most_in_flight = 0
        self._lock = threading.Lock()

    def __call__(self, keys: list[str]) -> dict[str, str]:
        with self._lock:
            self.calls.append(list(keys))
            self.log.append(keys[0])
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            time.sleep(self.delay)
            if self.fail:
                msg = "loader broke"
                raise RuntimeError(msg)
            return {k: f"v:{k}" for k in keys}
        finally:
            with self._lock:
                self.in_flight -= 1

    @property
    def keys(self) -> list[str]:
        return [k for batch in self.calls for k in batch]


def held(cache: Any, key: str) -> bool:
    return bool(cache._store.contains(cache._prefix, key))


def coherent(cache: Any) -> Any:
    """`cache` once its invalidation subscription is up: until then L1 is flushed when it
    comes up (an AsyncCache subscribes in the background), which would undo a warm."""
    assert cache._subscriber.connected.wait(10)
    return cache


async def stop(warmer: Any) -> None:
    await call(warmer.stop())


async def _async_loader(keys: list[str]) -> dict[str, str]:
    return dict.fromkeys(keys, "v")


async def _async_keys() -> Any:
    yield "a"


@pytest.mark.parametrize(
    ("method", "kwargs", "error", "match"),
    [
        ("keys", {"keys": 5}, TypeError, "keys must be an iterable"),
        ("keys", {"keys": "abc"}, TypeError, "keys must be an iterable"),
        ("keys", {"keys": ["a"], "loader": 3}, TypeError, "loader must be a callable"),
        ("keys", {"keys": ["a"]}, ConfigError, "no lower tier"),
        ("keys", {"keys": ["a"], "loader": dict, "batch_size": 0}, ConfigError, "batch_size"),
        ("keys", {"keys": ["a"], "loader": dict, "concurrency": 1.5}, TypeError, "concurrency"),
        ("keys", {"keys": ["a"], "loader": dict, "priority": "1"}, TypeError, "priority"),
        ("keys", {"keys": ["a"], "loader": dict, "timeout": 0}, ConfigError, "timeout"),
        ("keys", {"keys": ["a"], "loader": dict, "every": -1}, ConfigError, "every"),
        (
            "keys",
            {"keys": ["a"], "loader": dict, "every": 1, "cron": "* * * * *"},
            ConfigError,
            "not both",
        ),
        (
            "keys",
            {"keys": ["a"], "loader": dict, "cron": "every day"},
            ConfigError,
            "not a valid cron",
        ),
        ("keys", {"keys": ["a"], "loader": dict, "on_start": False}, ConfigError, "never runs"),
        ("keys", {"keys": ["a"], "loader": dict, "on_start": 1}, TypeError, "on_start"),
        ("keys", {"keys": iter(["a"]), "loader": dict, "every": 1}, ConfigError, "one-shot"),
        ("keys", {"keys": ["a"], "loader": dict, "n": 0}, ConfigError, "n must be"),
        ("keys", {"keys": ["a"], "loader": dict, "namespace": "a\x1fb"}, ConfigError, "amespace"),
        ("keys", {"keys": ["a"], "loader": dict, "colour": 1}, TypeError, "colour"),
        ("keys", {"keys": ["a"], "ttl": 5, "loader": dict, "name": ""}, ConfigError, "empty"),
        ("keys", {"keys": ["a"], "loader": _async_loader}, TypeError, "coroutine function"),
        ("keys", {"keys": _async_keys, "loader": dict}, TypeError, "sync iterable"),
        ("recent", {}, ConfigError, "predictor=True"),
        ("predicted", {"n": "10"}, TypeError, "n must be"),
        ("calls", {"func": len}, TypeError, "cached function"),
    ],
)
def test_strategies_refuse_bad_arguments(
    method: str, kwargs: dict[str, Any], error: type[Exception], match: str
) -> None:
    warmer = Warmer(stratacache.Cache())
    with pytest.raises(error, match=match):
        getattr(warmer, method)(**kwargs)
    assert warmer.stats() == {}  # nothing half-added


def test_warmer_refuses_what_is_not_a_cache() -> None:
    with pytest.raises(TypeError, match="Cache or an AsyncCache"):
        Warmer({})  # type: ignore[call-overload]
    warmer = Warmer(stratacache.Cache()).keys(["a"], loader=Loader())
    with pytest.raises(ConfigError, match="exists already"):
        warmer.keys(["b"], loader=Loader())
    with pytest.raises(TypeError, match="force"):
        warmer.run_once(force=1)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="timeout"):
        warmer.stop(timeout=0)


async def test_explicit_keys_are_loaded_into_l1_and_counted(cache_cls: type[Any]) -> None:
    cache = cache_cls()
    await call(cache.set("k0", "already"))
    loader = Loader()
    warmer = Warmer(cache).keys([f"k{i}" for i in range(10)], loader=loader, batch_size=4)
    reports = await call(warmer.run_once())
    assert sorted(loader.keys) == [f"k{i}" for i in range(1, 10)]  # k0 was held: skipped
    assert [len(b) for b in loader.calls] == [3, 4, 2]  # batches of 4 keys, minus held ones
    assert all(held(cache, f"k{i}") for i in range(10))
    assert await call(cache.get("k5")) == "v:k5"
    report = reports["keys"]
    assert (report.keys, report.requested, report.source, report.timed_out) == (9, 9, "keys", False)
    st = warmer.stats()["keys"]
    assert (st.runs, st.keys, st.errors, st.kind) == (1, 9, 0, "keys")
    assert st.bytes > 0
    assert st.last_run is not None
    assert st.next_run is None
    assert await call(warmer.run_once()) == {}  # on start only: not due again
    await call(cache.close())


async def test_a_key_function_is_called_at_each_run_and_n_caps_it(cache_cls: type[Any]) -> None:
    cache = cache_cls()
    runs = []

    def keys() -> Any:
        runs.append(1)
        yield from (f"g{len(runs)}-{i}" for i in range(100))

    loader = Loader()
    warmer = Warmer(cache).keys(keys, loader=loader, n=5, every=3600)
    await call(warmer.run_once(force=True))
    await call(warmer.run_once(force=True))
    assert len(runs) == 2
    assert loader.keys == [f"g1-{i}" for i in range(5)] + [f"g2-{i}" for i in range(5)]
    await call(cache.close())


async def test_keys_are_read_from_redis(cache_cls: type[Any], redis_clean_url: str) -> None:
    cache = coherent(cache_cls(redis=redis_clean_url))
    await call(cache.set_many({f"r{i}": i for i in range(30)}))
    cache._store.clear(cache._prefix)  # L1 only: Redis keeps them
    warmer = Warmer(cache).keys([f"r{i}" for i in range(35)], batch_size=10, concurrency=2)
    report = (await call(warmer.run_once()))["keys"]
    assert (report.keys, report.requested) == (30, 35)  # r30..r34 exist nowhere
    assert all(held(cache, f"r{i}") for i in range(30))
    await call(cache.close())


async def test_loaded_values_reach_redis_with_the_ttl(
    cache_cls: type[Any], redis_clean_url: str
) -> None:
    cache = coherent(cache_cls(redis=redis_clean_url))
    warmer = Warmer(cache).keys(["a", "b"], loader=Loader(), ttl=100)
    await call(warmer.run_once())
    cache._store.clear(cache._prefix)
    assert await call(cache.get("a")) == "v:a"  # from Redis
    assert 90 < await call(cache.ttl("b")) <= 100
    await call(cache.close())


async def test_due_strategies_run_highest_priority_first(cache_cls: type[Any]) -> None:
    log: list[str] = []
    warmer = Warmer(cache_cls())
    for name, priority in [("low", 1), ("high", 9), ("mid", 5), ("mid2", 5)]:
        warmer.keys([name], loader=Loader(log=log), priority=priority, name=name)
    await call(warmer.run_once())
    assert log == ["high", "mid", "mid2", "low"]  # ties in the order added


async def test_a_failing_strategy_is_counted_and_logged_and_the_others_run(
    cache_cls: type[Any], caplog: pytest.LogCaptureFixture
) -> None:
    cache = cache_cls()
    warmer = Warmer(cache).keys(["x"], loader=Loader(fail=True), priority=9, name="broken")
    warmer.keys(["y"], loader=Loader(), name="fine")
    warmer.keys(lambda: [1, 2], loader=Loader(), name="typed")  # not str keys
    with caplog.at_level("WARNING", logger="stratacache"):
        reports = await call(warmer.run_once())
    assert list(reports) == ["fine"]
    assert held(cache, "y")
    st = warmer.stats()
    assert (st["broken"].errors, st["broken"].runs, st["fine"].errors) == (1, 1, 0)
    assert "loader broke" in (st["broken"].last_error or "")
    assert "keys must be str" in (st["typed"].last_error or "")
    assert any("'broken' failed" in r.getMessage() for r in caplog.records)


async def test_an_interval_strategy_repeats_until_stopped(cache_cls: type[Any]) -> None:
    cache = cache_cls()
    loader = Loader()
    warmer = Warmer(cache).keys(lambda: ["k"], loader=loader, every=0.05)
    warmer.keys(["late"], loader=Loader(), on_start=False, every=3600, name="late")
    cache._store.delete(cache._prefix, "k")
    warmer.start()
    assert warmer.running
    with pytest.raises(RuntimeError, match="runs already"):
        warmer.start()
    for _ in range(3):  # each run warms k again once it is gone
        assert await eventually(lambda: held(cache, "k"))
        cache._store.delete(cache._prefix, "k")
    assert await eventually(lambda: warmer.stats()["keys"].runs >= 3)
    await stop(warmer)
    assert not warmer.running
    st = warmer.stats()
    runs = st["keys"].runs
    assert st["late"].runs == 0  # its first time is an hour away
    assert st["late"].next_run is not None
    assert st["late"].next_run > time.time() + 3500
    assert st["keys"].next_run is not None
    assert st["keys"].next_run - st["keys"].last_run < 1.0  # type: ignore[operator]
    await asyncio.sleep(0.2)
    assert warmer.stats()["keys"].runs == runs  # stopped: no further run
    await call(cache.close())


def test_a_cron_schedule_follows_croniter() -> None:
    warmer = Warmer(stratacache.Cache())
    warmer.keys(["k"], loader=Loader(), cron="*/5 * * * *", on_start=False)
    before = time.time()
    warmer.run_once()  # arms the schedule; nothing is due yet
    st = warmer.stats()["keys"]
    expected = croniter.croniter("*/5 * * * *", datetime.fromtimestamp(before).astimezone())
    assert st.runs == 0
    assert st.next_run is not None
    assert abs(st.next_run - expected.get_next(float)) < 1.0
    assert datetime.fromtimestamp(st.next_run + 0.5).minute % 5 == 0


def test_a_cron_schedule_without_croniter_names_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "croniter", None)  # as if it were not installed
    warmer = Warmer(stratacache.Cache())
    with pytest.raises(MissingExtraError, match=r"stratacache\[cron\]"):
        warmer.keys(["k"], loader=Loader(), cron="* * * * *")
    warmer.keys(["k"], loader=Loader(), every=1)  # an interval needs no croniter


def test_a_sync_warmer_imports_neither_croniter_nor_asyncio() -> None:
    code = (
        "import sys, stratacache\n"
        "w = stratacache.Warmer(stratacache.Cache()).keys(['a'], loader=dict.fromkeys, every=9)\n"
        "assert w.run_once()['keys'].keys == 1\n"
        "assert 'croniter' not in sys.modules and 'asyncio' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


async def test_stop_is_prompt_while_a_slow_run_goes_on(cache_cls: type[Any]) -> None:
    loader = Loader(delay=0.1)
    warmer = Warmer(cache_cls()).keys([f"k{i}" for i in range(100)], loader=loader, batch_size=1)
    warmer.start()
    assert await eventually(lambda: len(loader.calls) >= 2)
    begun = time.monotonic()
    await stop(warmer)
    assert time.monotonic() - begun < 1.0
    calls = len(loader.calls)
    await asyncio.sleep(0.3)
    assert len(loader.calls) <= calls + 1  # at most the batch that was running
    assert calls < 50


async def test_run_once_still_runs_after_stop(cache_cls: type[Any]) -> None:
    cache = cache_cls()
    loader = Loader()
    warmer = Warmer(cache).keys(lambda: ["a", "b"], loader=loader, on_start=False, every=3600)
    warmer.start()
    await stop(warmer)
    reports = await call(warmer.run_once(force=True))
    assert (reports["keys"].keys, reports["keys"].timed_out) == (2, False)
    assert held(cache, "a")


async def test_a_run_stops_at_its_timeout(cache_cls: type[Any]) -> None:
    loader = Loader(delay=0.05)
    keys = [f"k{i}" for i in range(40)]
    warmer = Warmer(cache_cls()).keys(keys, loader=loader, batch_size=2, timeout=0.3)
    begun = time.monotonic()
    report = (await call(warmer.run_once()))["keys"]
    assert time.monotonic() - begun < 2.0
    assert report.timed_out
    assert 0 < report.keys < 40
    assert warmer.stats()["keys"].timeouts == 1


async def test_concurrency_bounds_the_batches_in_flight(cache_cls: type[Any]) -> None:
    loader = Loader(delay=0.05)
    keys = [f"k{i}" for i in range(24)]
    warmer = Warmer(cache_cls()).keys(keys, loader=loader, batch_size=2, concurrency=3)
    report = (await call(warmer.run_once()))["keys"]
    assert report.keys == 24
    assert 2 <= loader.most_in_flight <= 3


async def test_predicted_keys_are_warmed_from_the_disk_tier(
    cache_cls: type[Any], tmp_path: Any
) -> None:
    cache = cache_cls(predictor=FAST, disk=tmp_path / "disk")
    for i in range(20):
        await call(cache.set(f"k{i}", f"value {i}"))
    assert await eventually(lambda: cache._predictor.stats()["tracked"] >= 20)
    cache._store.clear(cache._prefix)
    warmer = Warmer(cache).predicted(n=20, batch_size=8, concurrency=2)
    report = (await call(warmer.run_once()))["predicted"]
    assert (report.source, report.requested, report.keys) == ("model", 20, 20)
    assert all(held(cache, f"k{i}") for i in range(20))
    await call(cache.close())


async def test_predicted_keys_come_from_the_peers_hot_set(
    cache_cls: type[Any], redis_clean_url: str
) -> None:
    options = PredictorOptions(sample_rate=1.0, horizon=0.3, publish_keys=20, publish_interval=0.1)
    peer = coherent(cache_cls(redis=redis_clean_url, predictor=options, namespace="shop"))
    await call(peer.set_many({f"item{i}": i for i in range(30)}))
    assert await eventually(lambda: peer._predictor.stats()["tracked"] >= 30)
    # A new process of the same namespace: its model knows nothing yet.
    fresh = coherent(cache_cls(redis=redis_clean_url, predictor=True, namespace="shop"))
    warmer = Warmer(fresh).predicted(n=20, batch_size=7, concurrency=2)

    async def published() -> bool:
        report = (await call(warmer.run_once(force=True)))["predicted"]
        return report.source == "published" and report.keys + report.requested > 0

    deadline = time.monotonic() + 5
    while not await published() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert warmer.stats()["predicted"].keys == 20
    assert sum(held(fresh, f"item{i}") for i in range(30)) == 20
    await call(peer.close())
    await call(fresh.close())


async def test_recent_keys_are_the_last_read_ones(cache_cls: type[Any]) -> None:
    cache = cache_cls(predictor=FAST)
    for i in range(10):
        await call(cache.set(f"k{i}", i))
    for i in [3, 1, 4, 1, 5, 9, 2, 6]:
        await call(cache.get(f"k{i}"))
        await asyncio.sleep(0.002)  # distinct read times
    assert await eventually(lambda: cache._predictor.stats()["fed"] >= 18)
    await asyncio.sleep(0.15)  # one more drain after the last read
    cache._store.clear(cache._prefix)
    loader = Loader()
    await call(Warmer(cache).recent(n=4, loader=loader).run_once())
    assert loader.keys == ["k6", "k2", "k9", "k5"]  # most recent first; k0, k7, k8 never read
    await call(cache.close())


async def test_a_cached_functions_hot_calls_are_rerun(cache_cls: type[Any]) -> None:
    cache = cache_cls(predictor=FAST)
    loads = []
    is_async = cache_cls is stratacache.AsyncCache

    if is_async:

        @cache.cache(ttl=60)
        async def square(x: int) -> int:
            loads.append(x)
            return x * x
    else:

        @cache.cache(ttl=60)
        def square(x: int) -> int:
            loads.append(x)
            return x * x

    for x in range(8):
        await call(square(x))
    assert await eventually(lambda: cache._predictor.stats()["tracked"] >= 8)
    cache._store.clear(cache._prefix)
    loads.clear()
    report = (await call(Warmer(cache).calls(square, batch_size=3).run_once()))["calls"]
    assert sorted(loads) == list(range(8))
    assert report.keys == 8
    assert await call(square(5)) == 25
    assert len(loads) == 8
    await call(cache.close())


def test_a_sync_warmer_refuses_an_async_function_and_another_caches_one() -> None:
    cache, other = stratacache.Cache(predictor=FAST), stratacache.Cache(predictor=FAST)

    @other.cache
    def f(x: int) -> int:
        return x

    with pytest.raises(ConfigError, match="another cache"):
        Warmer(cache).calls(f)
    with pytest.raises(ConfigError, match="predictor=True"):
        Warmer(stratacache.Cache()).recent()
    cache.close()
    other.close()


def test_sync_context_manager_starts_and_stops() -> None:
    cache = stratacache.Cache()
    with Warmer(cache).keys(["k"], loader=Loader()) as warmer:
        assert warmer.running
        deadline = time.monotonic() + 5
        while not held(cache, "k") and time.monotonic() < deadline:
            time.sleep(0.01)
    assert held(cache, "k")
    assert not warmer.running


async def test_async_with_runs_the_task_and_cancels_it() -> None:
    cache = stratacache.AsyncCache()

    async def load(keys: list[str]) -> dict[str, int]:
        await asyncio.sleep(0.01)
        return {k: len(k) for k in keys}

    async with Warmer(cache).keys(["abc"], loader=load, every=0.05) as warmer:
        assert warmer.running
        assert await eventually(lambda: warmer.stats()["keys"].runs >= 2)
    assert not warmer.running
    assert await cache.get("abc") == 3
    with pytest.raises(TypeError, match="async with"), Warmer(cache):  # type: ignore[attr-defined]
        pass
    with pytest.raises(TypeError, match="'with'"):
        async with Warmer(stratacache.Cache()):  # type: ignore[attr-defined]
            pass
    await cache.close()


def test_an_async_warmer_needs_a_running_loop() -> None:
    warmer = Warmer(stratacache.AsyncCache()).keys(["k"], loader=Loader())
    with pytest.raises(RuntimeError, match="loop"):
        warmer.start()
    assert not warmer.running


async def test_a_started_warmer_waits_for_the_subscription(
    cache_cls: type[Any], redis_clean_url: str
) -> None:
    # As warm(): the subscription's coming up flushes L1, so the first round of a warmer
    # started with the cache waits for it. Marked down here, it comes "up" 0.3 s later.
    cache = coherent(cache_cls(redis=redis_clean_url))
    connected = cache._subscriber.connected
    connected.clear()
    calls: list[float] = []

    def load(keys: list[str]) -> dict[str, int]:
        calls.append(time.monotonic())
        return dict.fromkeys(keys, 1)

    async def load_async(keys: list[str]) -> dict[str, int]:
        return load(keys)

    loader = load_async if cache_cls is stratacache.AsyncCache else load
    up = threading.Timer(0.3, connected.set)
    start = time.monotonic()
    up.start()
    warmer = Warmer(cache).keys(["w1", "w2"], loader=loader)
    warmer.start()
    try:
        assert await eventually(lambda: warmer.stats()["keys"].runs >= 1)
    finally:
        up.cancel()
        connected.set()
        await stop(warmer)
    assert calls
    assert calls[0] - start >= 0.25
    assert held(cache, "w1")
    assert held(cache, "w2")
    await call(cache.close())
