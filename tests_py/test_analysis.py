"""stratacache.analysis step by step: format detection, the Zipf fit, reuse distances and the
TTL replay against hand-counted answers, and the validation of every argument."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

import stratacache
from stratacache import ConfigError, CorruptDataError, analysis


def write(path: Path, text: str) -> Path:
    path.write_bytes(text.encode())
    return path


def test_int_trace_is_replayed_from_the_file_itself(tmp_path: Path) -> None:
    path = write(tmp_path / "t.txt", "5\n-7\n5\n0\n5")  # no newline after the last key
    with analysis.read_trace(path) as trace:
        assert (trace.format, trace.replay_path, trace.requests) == ("ints", path, 5)
        assert (trace.distinct_keys, trace.frequencies) == (3, (3, 1, 1))
        assert trace.times is None
        assert trace.duration is None


@pytest.mark.parametrize(
    "text",
    ["a\nb\na\n", "1\n\n2\n1\n", "007\n7\n007\n", "1\r\n2\r\n1\r\n", "99999999999999999999\n"],
)
def test_other_lines_are_keys_renamed_in_order(tmp_path: Path, text: str) -> None:
    with analysis.read_trace(write(tmp_path / "t.txt", text)) as trace:
        assert trace.format == "keys"
        assert trace.replay_path != tmp_path / "t.txt"
        keys = [line.rstrip("\r") for line in text.split("\n") if line.rstrip("\r")]
        first_seen = list(dict.fromkeys(keys))
        replayed = trace.replay_path.read_text().split()
        assert replayed == [str(first_seen.index(k)) for k in keys]


def test_replay_file_goes_with_close(tmp_path: Path) -> None:
    trace = analysis.read_trace(write(tmp_path / "t.txt", "x\ny\n"))
    replay = trace.replay_path
    assert replay.exists()
    trace.close()
    trace.close()
    assert not replay.exists()


def test_csv_columns_in_any_order_with_extras(tmp_path: Path) -> None:
    text = (
        "op,KEY,Timestamp\n"
        'get,"a,1",2026-01-01T00:00:00\n'
        "get,b,2026-01-01T00:00:01.5+00:00\n"
        'set,"a,1",2026-01-01T00:00:04Z\n'
    )
    with analysis.read_trace(write(tmp_path / "t.csv", text)) as trace:
        assert (trace.format, trace.requests, trace.distinct_keys) == ("csv", 3, 2)
        assert list(trace.times or []) == [0.0, 1.5, 4.0]
        assert list(trace.keys or []) == [0, 1, 0]
        assert trace.duration == 4.0


def test_a_header_without_time_and_key_is_a_key(tmp_path: Path) -> None:
    with analysis.read_trace(write(tmp_path / "t.txt", "user,42\nuser,43\n")) as trace:
        assert (trace.format, trace.requests) == ("keys", 2)


def test_popularity_of_an_exact_zipf_law() -> None:
    freqs = [round(100_000 / r**1.2) for r in range(1, 2001)]
    pop = analysis.popularity(freqs, top=500)
    assert pop.alpha == pytest.approx(1.2, abs=0.01)
    assert pop.r_squared == pytest.approx(1.0, abs=1e-3)
    assert pop.scale == pytest.approx(100_000, rel=0.02)
    assert pop.fitted_keys == 500
    assert pop.top_1pct_share == pytest.approx(sum(freqs[:20]) / sum(freqs))
    assert pop.ranks[0] == 1
    assert pop.ranks[-1] == 2000
    assert len(pop.ranks) <= 400


def test_popularity_of_a_uniform_spread_and_of_one_key() -> None:
    flat = analysis.popularity([5] * 100)
    assert (flat.alpha, flat.r_squared, flat.single_use_share) == (0.0, 1.0, 0.0)
    one = analysis.popularity([1])
    assert (one.alpha, one.r_squared, one.single_use_share) == (None, None, 1.0)


@pytest.mark.parametrize(
    ("freqs", "top", "error"),
    [
        ([], 10, ConfigError),
        ([1, 2], 10, ConfigError),
        ([2, 0], 10, ConfigError),
        ([2, 1.0], 10, TypeError),
        ([2, True], 10, TypeError),
        ([2, 1], 0, ConfigError),
        ([2, 1], 1.5, TypeError),
        ({2, 1}, 10, TypeError),
    ],
)
def test_popularity_validates(freqs: object, top: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        analysis.popularity(freqs, top)  # type: ignore[arg-type]


def test_reuse_distances_by_hand(tmp_path: Path) -> None:
    # Stack distances: a b a c b a -> -, -, 2, -, 3, 3; first requests 3 of 6.
    path = write(tmp_path / "t.txt", "1\n2\n1\n3\n2\n1\n")
    with analysis.read_trace(path) as trace:
        reuse = analysis.reuse_distances(trace)
    assert reuse.edges == (0, 1, 2, 3)
    assert reuse.fractions == pytest.approx((0.0, 1 / 6, 2 / 6))
    assert reuse.cold_fraction == pytest.approx(0.5)
    assert (reuse.median, reuse.p90, reuse.sample_rate) == (3, 3, 1.0)


def test_opt_curve_is_simulate(tmp_path: Path) -> None:
    rng = random.Random(5)
    path = write(tmp_path / "t.txt", "".join(f"{rng.randrange(300)}\n" for _ in range(3000)))
    with analysis.read_trace(path) as trace:
        grid = analysis.size_grid(trace.distinct_keys, 5)
        opt = analysis.opt_curve(trace, grid)
    assert opt.sizes == tuple(grid)
    for size, miss in zip(opt.sizes, opt.miss_ratios, strict=True):
        assert miss == 1.0 - stratacache.simulate(path, "opt", size).hit_ratio


def test_size_grid() -> None:
    grid = analysis.size_grid(100_000)
    assert (grid[0], grid[-1], len(grid)) == (100, 100_000, analysis.GRID_POINTS)
    assert analysis.size_grid(3, 12) == [1, 2, 3]
    for bad, error in ((0, ConfigError), (1.5, TypeError)):
        with pytest.raises(error):
            analysis.size_grid(bad)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="points"):
        analysis.size_grid(10, 1)


def naive_ttl_hits(events: list[tuple[float, int]], ttl: float) -> int:
    loaded: dict[int, float] = {}
    hits = 0
    for t, k in events:
        if k in loaded and t - loaded[k] < ttl:
            hits += 1
        else:
            loaded[k] = t
    return hits


def test_ttl_replay_matches_a_naive_cache(tmp_path: Path) -> None:
    rng = random.Random(9)
    t, events = 0.0, []
    for _ in range(4000):
        t += rng.expovariate(10.0)
        events.append((round(t, 3), rng.randrange(200)))
    text = "time,key\n" + "".join(f"{t},{k}\n" for t, k in events)
    with analysis.read_trace(write(tmp_path / "t.csv", text)) as trace:
        advice = analysis.ttl_advice(trace, points=10, keep=0.8)
    assert advice is not None
    start = events[0][0]
    shifted = [(t - start, k) for t, k in events]
    for ttl, hit_ratio in zip(advice.ttls, advice.hit_ratios, strict=True):
        assert hit_ratio == pytest.approx(naive_ttl_hits(shifted, ttl) / 4000)
    good = [
        t
        for t, h in zip(advice.ttls, advice.hit_ratios, strict=True)
        if h >= 0.8 * advice.no_expiry_hit_ratio
    ]
    assert advice.recommended == good[0]
    assert advice.at(advice.ttls[1])[0] == advice.hit_ratios[1]
    with pytest.raises(ConfigError, match="not one of"):
        advice.at(advice.ttls[0] * 1.5)


def test_ttl_advice_needs_times(tmp_path: Path) -> None:
    with analysis.read_trace(write(tmp_path / "t.txt", "1\n2\n")) as trace:
        assert analysis.ttl_advice(trace) is None
        with pytest.raises(ConfigError):
            analysis.ttl_advice(trace, points=1)
        with pytest.raises(ConfigError):
            analysis.ttl_advice(trace, keep=1.5)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"policies": ["lru", "arc"]}, ConfigError, "unknown policy 'arc'"),
        ({"policies": ["opt"]}, ConfigError, "at least one"),
        ({"policies": "lru"}, TypeError, "iterable of str"),
        ({"policies": [1]}, TypeError, "policies"),
        ({"sample_rate": 0.0}, ConfigError, "sample_rate"),
        ({"sample_rate": 2}, ConfigError, "sample_rate"),
        ({"targets": []}, ConfigError, "empty"),
        ({"targets": [1.0]}, ConfigError, r"\(0, 1\)"),
        ({"targets": ["0.5"]}, TypeError, "numbers"),
        ({"quick": 1}, TypeError, "quick"),
    ],
)
def test_analyze_validates(
    tmp_path: Path, kwargs: dict[str, object], error: type[Exception], match: str
) -> None:
    path = write(tmp_path / "t.txt", "1\n2\n")
    with pytest.raises(error, match=match):
        analysis.analyze(path, **kwargs)  # type: ignore[arg-type]


def test_analyze_refuses_an_empty_trace(tmp_path: Path) -> None:
    with pytest.raises(CorruptDataError, match="no requests"):
        analysis.analyze(write(tmp_path / "t.txt", "\n\n"))
