"""The demo (`python -m stratacache.demo`) at tiny sizes: its report is complete and consistent.

Timings are measured by the demo but never asserted here (BENCHMARKS.md, rule 6).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

import stratacache
from stratacache import demo
from stratacache._extras import MissingExtraError

TINY = ["--requests", "300", "--keys", "50", "--capacity", "20", "--latency-ms", "0.1"]


@pytest.fixture
def report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    out = tmp_path / "report.json"
    assert demo.main([*TINY, "--uncached", "25", "--out", str(out), "--no-progress"]) == 0
    stdout = capsys.readouterr().out
    text = out.with_suffix(".txt").read_text(encoding="utf-8")
    assert text in stdout  # the same report on stdout and in the text file
    loaded: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return loaded


def test_counts_are_consistent(report: dict[str, Any]) -> None:
    assert report["requests"] == 300
    assert report["hits"] + report["misses"] == report["requests"]
    assert report["loader_calls"] == report["misses"]
    assert report["loader_calls_saved"] == report["requests"] - report["loader_calls"]
    assert 0 < report["hit_ratio"] <= 1
    assert report["hit_ratio"] == pytest.approx(report["hits"] / report["requests"], abs=1e-4)
    assert report["misses"] >= 1  # the cache starts empty


def test_decorator_and_cache_agree(report: dict[str, Any]) -> None:
    info = report["cache_info"]
    assert info is not None
    assert info["hits"] == report["hits"]
    assert info["loader_calls"] == report["loader_calls"]
    stats = report["cache_stats"]
    assert stats["sets"] == report["loader_calls"]
    assert stats["hits"] == report["hits"]
    assert stats["misses"] == report["misses"]  # single-flight's re-check is not a second miss
    assert stats["entries"] <= report["config"]["capacity"]


def test_latency_sections_are_complete(report: dict[str, Any]) -> None:
    latency = report["latency"]
    assert latency["cached"]["n"] == report["requests"]
    assert latency["cached_hits"]["n"] == report["hits"]
    assert latency["cached_misses"]["n"] == report["misses"]
    assert latency["uncached"]["n"] == 25
    for section in latency.values():
        assert 0 <= section["p50_us"] <= section["p99_us"]
    assert report["config"]["policy"] in stratacache.POLICIES
    assert report["wall_s"]["cached_run"] > 0


def test_same_seed_same_workload() -> None:
    config = demo.DemoConfig(
        requests=200, keys=40, capacity=10, latency_ms=0.0, uncached=5, progress=False
    )
    first, second = demo.run_demo(config), demo.run_demo(config)
    assert (first["hits"], first["misses"]) == (second["hits"], second["misses"])


def test_zipf_ids_are_in_range_and_skewed() -> None:
    ids = demo.zipf_ids(100, 5_000, 0.99, seed=1)
    assert len(ids) == 5_000
    assert all(0 <= i < 100 for i in ids)
    counts = sorted((ids.count(i) for i in set(ids)), reverse=True)
    assert counts[0] > 5 * counts[len(counts) // 2]  # the head is far hotter than the median


@pytest.mark.parametrize("flag", ["--requests", "--keys", "--capacity", "--uncached"])
def test_rejects_non_positive_sizes(flag: str, tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        demo.main([flag, "0", "--out", str(tmp_path / "r.json"), "--no-progress"])


def test_runs_without_tqdm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo is part of the core: without the cli extra it runs, with no progress bar."""
    monkeypatch.setitem(sys.modules, "tqdm", None)
    out = tmp_path / "report.json"
    assert demo.main([*TINY, "--uncached", "5", "--out", str(out)]) == 0
    assert json.loads(out.read_text(encoding="utf-8"))["config"]["progress"] is False
    config = demo.DemoConfig(requests=10, keys=5, capacity=2, latency_ms=0.0, uncached=1)
    with pytest.raises(MissingExtraError, match=r"pip install 'stratacache\[cli\]'"):
        demo.run_demo(config)
