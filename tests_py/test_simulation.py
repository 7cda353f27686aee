"""stratacache.simulate: trace replay from Python, on small traces written by the tests and,
when present, on the shared reference traces."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

import stratacache
from stratacache import ConfigError, CorruptDataError, TraceIOError

TRACES = Path(__file__).resolve().parents[2] / "shared" / "traces"


@pytest.fixture
def loop_trace(tmp_path: Path) -> Path:
    """Keys 0..9 in order, 10 times: LRU at capacity 9 never hits; OPT does."""
    path = tmp_path / "loop.txt"
    path.write_text("".join(f"{k}\n" for _ in range(10) for k in range(10)))
    return path


def test_counts_and_ratio(loop_trace: Path) -> None:
    r = stratacache.simulate(loop_trace, policy="lru", capacity=10)
    assert (r.requests, r.hits, r.misses) == (100, 90, 10)
    assert r.hit_ratio == pytest.approx(0.9)


def test_lru_thrashes_on_a_loop_and_opt_does_not(loop_trace: Path) -> None:
    assert stratacache.simulate(loop_trace, policy="lru", capacity=9).hits == 0
    assert stratacache.simulate(loop_trace, policy="opt", capacity=9).hit_ratio > 0.7


@pytest.mark.parametrize("policy", [*stratacache.POLICIES, None])
def test_every_policy_is_bounded_by_opt(loop_trace: Path, policy: str | None) -> None:
    r = stratacache.simulate(loop_trace, policy=policy, capacity=5)
    assert r.hits <= stratacache.simulate(loop_trace, policy="opt", capacity=5).hits


def test_reads_gzip_and_negative_keys(tmp_path: Path) -> None:
    path = tmp_path / "neg.txt.gz"
    with gzip.open(path, "wt") as f:
        f.write("-5\n7\n-5\n7\n")
    assert stratacache.simulate(path, policy="lru", capacity=2).hits == 2


def test_bad_arguments_and_files(tmp_path: Path, loop_trace: Path) -> None:
    with pytest.raises(ConfigError, match="capacity"):
        stratacache.simulate(loop_trace, capacity=0)
    with pytest.raises(TypeError, match="capacity"):
        stratacache.simulate(loop_trace)
    with pytest.raises(ConfigError, match="policy"):
        stratacache.simulate(loop_trace, policy="nope", capacity=5)
    with pytest.raises(TraceIOError):
        stratacache.simulate(tmp_path / "missing.txt", capacity=5)
    bad = tmp_path / "bad.txt"
    bad.write_text("1\n2\nx3\n")
    with pytest.raises(CorruptDataError, match="3"):
        stratacache.simulate(bad, capacity=5)


@pytest.mark.skipif(not (TRACES / "gli.txt.gz").exists(), reason="shared traces not present")
def test_reference_figures_on_gli() -> None:
    # The traces README's exact LRU and OPT hit ratios at 1,000 entries.
    path = TRACES / "gli.txt.gz"
    assert round(stratacache.simulate(path, "lru", 1000).hit_ratio * 100, 2) == 11.21
    assert round(stratacache.simulate(path, "opt", 1000).hit_ratio * 100, 2) == 53.15
