"""Access recording: sampling, the ops recorded, the trace file and the live miss-ratio curve."""

from __future__ import annotations

import gzip
import math
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import stratacache
from stratacache.errors import ConfigError, TraceIOError

from .conftest import call


def read_records(path: Path) -> tuple[str, list[tuple[int, str, int, int]]]:
    """The header line and the (t_ns, op, key_hash, ns_hash) records of a trace file."""
    with gzip.open(path, "rt", encoding="ascii") as f:
        header, *lines = f.read().splitlines()
    records = []
    for line in lines:
        t, op, key, ns = line.split(" ")
        records.append((int(t), op, int(key), int(ns)))
    return header, records


async def test_ops_are_recorded_with_their_outcome(
    make_cache: Callable[..., Any], tmp_path: Path
) -> None:
    cache = make_cache(record=1.0, namespace="users")
    assert await call(cache.get("a")) is None  # miss
    await call(cache.set("a", 1))
    assert await call(cache.get("a")) == 1  # hit
    assert await call(cache.contains("a"))  # not an access
    assert await call(cache.delete("a"))
    await call(cache.set("b", 2))
    path = tmp_path / "t.gz"
    assert await call(cache.export_trace(path)) == 5
    header, records = read_records(path)
    assert header == "# stratacache-trace v1 sample_rate=1"
    assert [op for _, op, _, _ in records] == ["m", "s", "h", "d", "s"]
    a_hash = records[0][2]
    assert {key for _, _, key, _ in records[:4]} == {a_hash}
    assert records[4][2] != a_hash
    assert len({ns for _, _, _, ns in records}) == 1  # one namespace
    times = [t for t, _, _, _ in records]
    assert times == sorted(times)


def test_namespaces_are_told_apart(tmp_path: Path) -> None:
    cache = stratacache.Cache(record=1.0)
    cache.set("k", 1)
    cache._set("k", 1)  # the cache's own namespace ""
    other = cache._setter("other")
    other("k", 2)
    cache.export_trace(tmp_path / "t.gz")
    _, records = read_records(tmp_path / "t.gz")
    assert records[0][3] == records[1][3] != records[2][3]
    assert records[0][2] != records[2][2]  # the key hash includes the namespace


def test_sampling_keeps_about_rate_of_the_keys_with_all_their_accesses(tmp_path: Path) -> None:
    n_keys, rate = 20_000, 0.1
    cache = stratacache.Cache(max_entries=n_keys, record=rate, record_capacity=1 << 16)
    for i in range(n_keys):
        cache.get(f"key:{i}")
        cache.set(f"key:{i}", i)
        cache.get(f"key:{i}")
    cache.export_trace(tmp_path / "t.gz")
    header, records = read_records(tmp_path / "t.gz")
    prefix = "# stratacache-trace v1 sample_rate="
    assert header.startswith(prefix)
    assert float(header.removeprefix(prefix)) == pytest.approx(rate, abs=2**-24)  # T / 2**24
    per_key = Counter(key for _, _, key, _ in records)
    # Binomial(20000, 0.1): sd 42, so 15% (300) is seven sd away.
    assert abs(len(per_key) - rate * n_keys) < 0.15 * rate * n_keys
    assert set(per_key.values()) == {3}  # a sampled key keeps every access
    ops = Counter(op for _, op, _, _ in records)
    assert ops["m"] == ops["s"] == ops["h"] == len(per_key)


def test_the_ring_keeps_the_newest_records(tmp_path: Path) -> None:
    cache = stratacache.Cache(record=1.0, record_capacity=50)  # rounded up to 64
    for i in range(1000):
        cache.set(f"k{i}", i)
    assert cache.export_trace(tmp_path / "t.gz") == 64
    info = cache._store.recording()
    assert info == {"sample_rate": 1.0, "capacity": 64, "recorded": 1000, "dropped": 0}


def test_export_round_trips_through_simulate_and_the_trace_curve(tmp_path: Path) -> None:
    cache = stratacache.Cache(max_entries=100, policy="lru", record=1.0)
    # A loop over 60 keys, twice: 60 cold misses, then hits at every size >= 60.
    for _ in range(2):
        for i in range(60):
            if cache.get(f"k{i}") is None:
                cache.set(f"k{i}", i)
    path = tmp_path / "t.gz"
    cache.export_trace(path)
    sim = stratacache.simulate(path, "lru", 100)
    assert (sim.hits, sim.misses) == (60, 60)
    assert sim.hits == cache.stats().hits
    live = cache.miss_ratio_curve(sizes=[59, 60, 100])
    from_file = stratacache.miss_ratio_curve(path, sample_rate=1.0, sizes=[59, 60, 100])
    assert live.miss_ratios == from_file.miss_ratios == (1.0, 0.5, 0.5)
    assert live.sizes == (59, 60, 100)
    assert (live.requests, live.sampled_requests, live.distinct_keys) == (120, 120, 60)


def test_sampled_curve_is_in_entries_of_the_whole_cache() -> None:
    n_keys, rate = 4_000, 0.25
    cache = stratacache.Cache(max_entries=2 * n_keys, policy="lru", record=rate)
    for _ in range(3):
        for i in range(n_keys):
            if cache.get(f"k{i}") is None:
                cache.set(f"k{i}", i)
    curve = cache.miss_ratio_curve()
    assert curve.sample_rate == rate
    assert curve.sizes[0] == round(1 / rate)
    # About 1000 sampled keys stand for the 4000: the grid ends near the key count.
    assert 0.8 * n_keys < curve.sizes[-1] < 1.2 * n_keys
    assert abs(curve.distinct_keys - n_keys) < 0.2 * n_keys
    assert abs(curve.requests - 3 * n_keys) < 0.2 * 3 * n_keys
    # A loop: every read misses below the loop's length, only the cold ones above it.
    assert curve.miss_ratio_at(n_keys // 2) == 1.0
    assert curve.miss_ratio_at(2 * n_keys) == pytest.approx(1 / 3)
    small, big = cache.miss_ratio_curve(sizes=[n_keys // 2, 2 * n_keys]).miss_ratios
    assert (small, big) == (1.0, pytest.approx(1 / 3))


@pytest.mark.parametrize("policy", [*stratacache.POLICIES, "opt"])
def test_curve_for_every_policy(policy: str) -> None:
    cache = stratacache.Cache(max_entries=1000, record=1.0)
    for i in range(3000):
        cache.get(f"k{(i * 7) % 200}")
    curve = cache.miss_ratio_curve(policy, sizes=[10, 200, 400])
    assert curve.policy == policy
    assert curve.miss_ratios[0] >= curve.miss_ratios[1] >= curve.miss_ratios[2]
    assert curve.miss_ratios[2] == pytest.approx(200 / 3000)


async def test_async_cache_exports_and_draws_curves(tmp_path: Path) -> None:
    cache = stratacache.AsyncCache(record=1.0)
    for i in range(10):
        await cache.get(f"k{i % 5}")
    assert await cache.export_trace(str(tmp_path / "t.gz")) == 10
    curve = await cache.miss_ratio_curve(sizes=[5])
    assert curve.miss_ratios == (0.5,)


def test_curve_before_any_read_is_empty() -> None:
    cache = stratacache.Cache(record=0.5)
    cache.set("k", 1)  # a set is not a read
    curve = cache.miss_ratio_curve()
    assert (curve.sizes, curve.requests) == ((), 0)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"record": 0}, ConfigError, "record must be a sample rate"),
        ({"record": -0.5}, ConfigError, "record must be a sample rate"),
        ({"record": 1.5}, ConfigError, "record must be a sample rate"),
        ({"record": math.nan}, ConfigError, "record must be a sample rate"),
        ({"record": 2.0**-30}, ConfigError, "2\\*\\*-24"),
        ({"record": True}, TypeError, "record must be a sample rate"),
        ({"record": "0.1"}, TypeError, "not str"),
        ({"record": 0.1, "record_capacity": 0}, ConfigError, "record_capacity must be > 0"),
        ({"record": 0.1, "record_capacity": 2**33}, ConfigError, "at most 2\\*\\*32"),
        ({"record": 0.1, "record_capacity": 1.5}, TypeError, "record_capacity must be an int"),
        ({"record_capacity": 100}, ConfigError, "record_capacity needs record"),
    ],
)
def test_recording_options_are_validated(
    cache_cls: type[Any], kwargs: dict[str, Any], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        cache_cls(**kwargs)


async def test_recording_off_refuses_export_and_curve(cache_cls: type[Any], tmp_path: Path) -> None:
    cache = cache_cls()
    with pytest.raises(ConfigError, match="recording is off"):
        await call(cache.export_trace(tmp_path / "t.gz"))
    with pytest.raises(ConfigError, match="recording is off"):
        await call(cache.miss_ratio_curve())


def test_bad_export_and_curve_arguments(tmp_path: Path) -> None:
    cache = stratacache.Cache(record=1.0)
    cache.get("k")
    with pytest.raises(TypeError, match=r"path must be a str or os\.PathLike"):
        cache.export_trace(123)  # type: ignore[arg-type]
    with pytest.raises(TraceIOError, match="cannot write trace"):
        cache.export_trace(tmp_path / "missing-dir" / "t.gz")
    with pytest.raises(ConfigError, match="unknown policy 'nope'"):
        cache.miss_ratio_curve("nope")
    with pytest.raises(TypeError, match="policy must be a str"):
        cache.miss_ratio_curve(3)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="sizes must be > 0"):
        cache.miss_ratio_curve(sizes=[0])


def test_threads_record_while_another_exports(tmp_path: Path) -> None:
    cache = stratacache.Cache(max_entries=500, record=1.0, record_capacity=1024)
    n_threads, n_ops = 4, 5_000
    errors: list[Exception] = []

    def work(t: int) -> None:
        try:
            for i in range(n_ops):
                key = f"k{(i * 31 + t) % 700}"
                if cache.get(key) is None:
                    cache.set(key, i)
        except Exception as e:  # noqa: BLE001 - reported by the main thread
            errors.append(e)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(n_threads)]
    for th in threads:
        th.start()
    exports = 0
    while any(th.is_alive() for th in threads) and exports < 200:
        assert cache.export_trace(tmp_path / "t.gz") <= 1024
        exports += 1
    for th in threads:
        th.join()
    assert not errors
    assert cache.export_trace(tmp_path / "t.gz") == 1024
    stats = cache.stats()
    info = cache._store.recording()
    assert info is not None
    assert info["recorded"] == stats.hits + stats.misses + stats.sets
    _, records = read_records(tmp_path / "t.gz")
    assert {op for _, op, _, _ in records} <= {"h", "m", "s"}
