"""stratacache.miss_ratio_curve: exact curves against simulate, sampled curves against exact
ones, the curve's helpers and the validation of every argument, on traces the tests write."""

from __future__ import annotations

import math
import random
from pathlib import Path

import matplotlib as mpl
import pytest

import stratacache
from stratacache import ConfigError, CorruptDataError, MissRatioCurve, TraceIOError

mpl.use("Agg")
import matplotlib.pyplot as plt  # after use(): the backend must be chosen first

ALL_POLICIES = [*stratacache.POLICIES, "opt"]


def write_trace(path: Path, keys: list[int]) -> Path:
    path.write_text("".join(f"{k}\n" for k in keys))
    return path


def skewed_keys(n: int, n_keys: int, seed: int) -> list[int]:
    """`n` requests over `n_keys` keys, Zipf-like popularity (weights 1 / rank)."""
    rng = random.Random(seed)
    weights = [1.0 / (r + 1) for r in range(n_keys)]
    return [k * 13 - 500 for k in rng.choices(range(n_keys), weights=weights, k=n)]


@pytest.fixture(scope="module")
def small_trace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("mrc") / "small.txt"
    return write_trace(path, skewed_keys(20_000, 2_000, seed=1))


@pytest.fixture(scope="module")
def large_trace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("mrc") / "large.txt"
    return write_trace(path, skewed_keys(300_000, 30_000, seed=2))


@pytest.mark.parametrize("policy", ALL_POLICIES)
def test_exact_curve_equals_simulate(small_trace: Path, policy: str) -> None:
    sizes = [1, 7, 50, 400, 1999, 5000]
    curve = stratacache.miss_ratio_curve(small_trace, policy, sample_rate=1.0, sizes=sizes)
    assert curve.sizes == tuple(sizes)
    assert (curve.policy, curve.sample_rate) == (policy, 1.0)
    assert curve.requests == curve.sampled_requests == 20_000
    for size, miss in zip(curve.sizes, curve.miss_ratios, strict=True):
        assert miss == 1.0 - stratacache.simulate(small_trace, policy, size).hit_ratio


def test_default_grid_spans_the_keys(small_trace: Path) -> None:
    exact = stratacache.miss_ratio_curve(small_trace, sample_rate=1.0)
    assert exact.sizes[0] == 1
    assert exact.sizes[-1] == exact.distinct_keys == len(set(skewed_keys(20_000, 2_000, 1)))
    assert list(exact.sizes) == sorted(set(exact.sizes))
    assert len(exact.miss_ratios) == len(exact.sizes) <= 40
    assert all(0.0 <= m <= 1.0 for m in exact.miss_ratios)
    # LRU is a stack algorithm: more room never hurts.
    assert list(exact.miss_ratios) == sorted(exact.miss_ratios, reverse=True)
    sampled = stratacache.miss_ratio_curve(small_trace, "s3fifo", sample_rate=0.1)
    assert sampled.sizes[0] == 10
    assert sampled.sampled_requests < sampled.requests


def test_sizes_are_sorted_and_deduplicated(small_trace: Path) -> None:
    curve = stratacache.miss_ratio_curve(small_trace, "tinylfu", 1.0, sizes=(50, 5, 50, 20))
    assert curve.sizes == (5, 20, 50)


@pytest.mark.parametrize("policy", ALL_POLICIES)
def test_sampled_curve_follows_the_exact_one(large_trace: Path, policy: str) -> None:
    sizes = [100, 300, 1_000, 3_000, 10_000, 30_000]
    exact = stratacache.miss_ratio_curve(large_trace, policy, 1.0, sizes)
    sampled = stratacache.miss_ratio_curve(large_trace, policy, 0.05, sizes)
    errors = [abs(a - b) for a, b in zip(exact.miss_ratios, sampled.miss_ratios, strict=True)]
    assert sum(errors) / len(errors) < 0.03, errors
    assert sampled.sample_rate == 0.05
    # A key sample's share of the requests varies with the hot keys it catches.
    assert 0 < sampled.sampled_requests < 300_000 / 2
    assert sampled.distinct_keys == pytest.approx(exact.distinct_keys, rel=0.15)


def test_miss_ratio_at_interpolates(small_trace: Path) -> None:
    curve = stratacache.miss_ratio_curve(small_trace, sample_rate=1.0, sizes=[10, 20, 1000])
    assert curve.miss_ratio_at(10) == curve.miss_ratios[0]
    assert curve.miss_ratio_at(20) == curve.miss_ratios[1]
    middle = curve.miss_ratio_at(15)
    assert middle == pytest.approx((curve.miss_ratios[0] + curve.miss_ratios[1]) / 2)
    assert curve.miss_ratio_at(0) == 1.0
    assert curve.miss_ratio_at(5) == pytest.approx((1.0 + curve.miss_ratios[0]) / 2)
    assert curve.miss_ratio_at(10**9) == curve.miss_ratios[-1]
    with pytest.raises(ConfigError, match="size"):
        curve.miss_ratio_at(-1)
    with pytest.raises(ConfigError, match="size"):
        curve.miss_ratio_at(math.nan)
    with pytest.raises(TypeError, match="size"):
        curve.miss_ratio_at("10")  # type: ignore[arg-type]


def test_size_for_is_the_smallest_size_reaching_the_hit_ratio(small_trace: Path) -> None:
    curve = stratacache.miss_ratio_curve(small_trace, sample_rate=1.0)
    best = 1.0 - curve.miss_ratios[-1]
    for hit_ratio in (0.1, 0.3, 0.5, best / 2, best):
        size = curve.size_for(hit_ratio)
        assert size is not None
        assert 1.0 - curve.miss_ratio_at(size) >= hit_ratio - 1e-12
        assert 1.0 - curve.miss_ratio_at(size - 1) < hit_ratio
    assert curve.size_for(0.0) == 0
    assert curve.size_for(min(1.0, best + 0.01)) is None
    assert curve.size_for(best) <= curve.sizes[-1]  # type: ignore[operator]
    with pytest.raises(ConfigError, match="hit_ratio"):
        curve.size_for(1.5)
    with pytest.raises(TypeError, match="hit_ratio"):
        curve.size_for(None)  # type: ignore[arg-type]


def test_plot_returns_the_axes(small_trace: Path) -> None:
    curve = stratacache.miss_ratio_curve(small_trace, sample_rate=1.0)
    ax = curve.plot()
    try:
        assert isinstance(ax, mpl.axes.Axes)
        assert ax.get_xscale() == "log"
        (line,) = ax.get_lines()
        assert list(line.get_xdata()) == list(curve.sizes)
    finally:
        plt.close(ax.figure)
    fig, given = plt.subplots()
    try:
        assert curve.plot(given) is given
        stratacache.miss_ratio_curve(small_trace, "s3fifo", 0.5).plot(given)
        assert len(given.get_lines()) == 2
    finally:
        plt.close(fig)


def test_repr_and_immutability(small_trace: Path) -> None:
    curve = stratacache.miss_ratio_curve(small_trace, sample_rate=1.0)
    assert isinstance(curve, MissRatioCurve)
    assert "policy='lru'" in repr(curve)
    with pytest.raises(AttributeError):
        curve.policy = "s3fifo"  # type: ignore[misc]


def test_bad_arguments(small_trace: Path, tmp_path: Path) -> None:
    curve = stratacache.miss_ratio_curve
    with pytest.raises(TypeError, match="policy"):
        curve(small_trace, policy=None)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="policy"):
        curve(small_trace, policy="nope")
    for rate in (0, -0.5, 1.5, math.nan, math.inf, 1e-9):
        with pytest.raises(ConfigError, match="sample_rate"):
            curve(small_trace, sample_rate=rate)
    for rate in ("0.1", True, None):
        with pytest.raises(TypeError, match="sample_rate"):
            curve(small_trace, sample_rate=rate)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="sizes"):
        curve(small_trace, sizes=[])
    with pytest.raises(ConfigError, match="sizes"):
        curve(small_trace, sizes=[10, 0])
    with pytest.raises(TypeError, match="sizes"):
        curve(small_trace, sizes=[10, 2.5])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="sizes"):
        curve(small_trace, sizes=100)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="sizes"):
        curve(small_trace, sizes="100")
    with pytest.raises(TraceIOError):
        curve(tmp_path / "missing.txt")
    bad = write_trace(tmp_path / "bad.txt", [1, 2])
    with bad.open("a") as f:
        f.write("x3\n")
    with pytest.raises(CorruptDataError, match="3"):
        curve(bad)
    # Arguments are checked before the file is read.
    with pytest.raises(ConfigError, match="policy"):
        curve(tmp_path / "missing.txt", policy="nope")
