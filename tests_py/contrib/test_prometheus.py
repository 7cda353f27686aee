"""stratacache.contrib.prometheus: the collector, /metrics, the shipped rules and dashboard, and
a real Prometheus server (Debian's package) scraping a cache in another process."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

import stratacache
from stratacache.contrib import dashboards
from stratacache.contrib.prometheus import CacheCollector, serve_metrics
from stratacache.testing._process import (
    ManagedProcess,
    free_port,
    make_temp_dir,
    remove_dir,
    wait_for,
)

from ..conftest import call

HERE = Path(__file__).resolve().parent


def samples(registry: CollectorRegistry) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """{(sample name, sorted labels): value} of one scrape, through the text format."""
    text = generate_latest(registry).decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def l1(ns: str, **extra: str) -> tuple[tuple[str, str], ...]:
    return tuple(sorted({"cache": "app", "tier": "l1", "namespace": ns, **extra}.items()))


async def test_the_collector_reports_stats_per_namespace(cache_cls: type[Any]) -> None:
    cache = cache_cls(max_entries=2, namespace="users", policy="lru")
    registry = CollectorRegistry()
    CacheCollector(cache, name="app", registry=registry)
    for k in "abc":
        await call(cache.set(k, k))
    await call(cache.get("c"))
    await call(cache.get("a"))  # evicted
    got = samples(registry)
    stats = await call(cache.stats())
    users = stats.namespaces["users"]
    assert got["stratacache_hits_total", l1("users")] == users.hits == 1
    assert got["stratacache_misses_total", l1("users")] == users.misses == 1
    assert got["stratacache_sets_total", l1("users")] == 3
    assert got["stratacache_evictions_total", l1("users", cause="size")] == 1
    assert got["stratacache_entries", l1("users")] == 2
    assert got["stratacache_bytes", l1("users")] == users.bytes


def test_argument_errors_name_the_problem() -> None:
    with pytest.raises(TypeError, match="Cache or AsyncCache"):
        CacheCollector({}, registry=None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="name"):
        CacheCollector(stratacache.Cache(), name="", registry=None)


def test_latency_histograms_are_exported_when_timing() -> None:
    cache = stratacache.Cache(max_entries=10, timing=1.0)
    registry = CollectorRegistry()
    CacheCollector(cache, name="app", registry=registry)
    for i in range(10):
        cache.set(str(i), i)
        cache.get(str(i))
    got = samples(registry)
    labels = tuple(sorted({"cache": "app", "tier": "l1", "op": "get"}.items()))
    assert got["stratacache_operation_duration_seconds_count", labels] == 10
    assert got["stratacache_operation_duration_seconds_sum", labels] > 0
    inf = tuple(sorted({"cache": "app", "tier": "l1", "op": "get", "le": "+Inf"}.items()))
    assert got["stratacache_operation_duration_seconds_bucket", inf] == 10


async def test_breaker_and_coherence_come_from_the_redis_tier(
    cache_cls: type[Any], redis_url: str
) -> None:
    cache = cache_cls(redis=redis_url, namespace="prom")
    registry = CollectorRegistry()
    CacheCollector(cache, name="app", registry=registry)
    try:
        await call(cache.set("k", 1))
        assert cache._subscriber.connected.wait(10)  # an AsyncCache subscribes in the background
        got = samples(registry)
        state = {
            dict(labels)["state"]: v
            for (name, labels), v in got.items()
            if name == "stratacache_breaker_state"
        }
        assert state == {"closed": 1.0, "open": 0.0, "half-open": 0.0}
        assert got["stratacache_coherent", (("cache", "app"),)] == 1.0
        assert ("stratacache_errors_total", (("cache", "app"), ("tier", "redis"))) in got
    finally:
        await call(cache.close())


def decorated(cache: Any, namespace: str) -> Any:
    """An identity function cached in `namespace` (async for an AsyncCache)."""
    if isinstance(cache, stratacache.AsyncCache):

        async def identity_async(x: int) -> int:
            return x

        return cache.cache(namespace=namespace)(identity_async)

    def identity(x: int) -> int:
        return x

    return cache.cache(namespace=namespace)(identity)


async def test_redis_reads_are_counted_per_namespace_within_a_bound(
    cache_cls: type[Any], redis_url: str
) -> None:
    cache = cache_cls(redis=redis_url, l1=False)
    registry = CollectorRegistry()
    CacheCollector(cache, name="app", registry=registry)
    try:
        users = decorated(cache, "users")
        for _ in range(4):  # a miss (then the load), then three Redis hits
            assert await call(users(1)) == 1
        for i in range(70):  # past the 63 namespaces counted on their own
            assert await call(decorated(cache, f"ns{i}")(1)) == 1
        got = samples(registry)

        def redis(name: str, ns: str) -> float:
            labels = (("cache", "app"), ("namespace", ns), ("tier", "redis"))
            return got[f"stratacache_{name}_total", labels]

        assert (redis("hits", "users"), redis("misses", "users")) == (3.0, 1.0)
        assert (redis("hits", "ns0"), redis("misses", "ns0")) == (0.0, 1.0)
        assert redis("misses", "__other__") == 70 - 62  # users and ns0..ns61 have their own
        named = {
            dict(labels)["namespace"]
            for (name, labels) in got
            if name == "stratacache_misses_total" and ("tier", "redis") in labels
        }
        assert len(named) == 64
        l2 = (await call(cache.stats())).l2
        assert l2.other_namespaces is not None
        assert sum(h for h, _ in l2.namespaces.values()) + l2.other_namespaces[0] == l2.hits
    finally:
        await call(cache.close())


def test_serve_metrics_answers_over_http() -> None:
    cache = stratacache.Cache(max_entries=10)
    registry = CollectorRegistry()
    CacheCollector(cache, name="app", registry=registry)
    cache.set("k", 1)
    cache.get("k")
    server, thread = serve_metrics(0, registry=registry)
    try:
        url = f"http://127.0.0.1:{server.server_port}/metrics"
        with urllib.request.urlopen(url, timeout=5) as r:
            text = r.read().decode()
        assert 'stratacache_hits_total{cache="app",namespace="",tier="l1"} 1.0' in text
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_promtool_checks_the_shipped_rules(tmp_path: Path) -> None:
    promtool = _require("promtool")
    checked = subprocess.run(
        [promtool, "check", "rules", str(dashboards.RULES_PATH)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    cases = (HERE / "alerts_test.yml").read_text().replace("RULES", str(dashboards.RULES_PATH))
    (tmp_path / "alerts_test.yml").write_text(cases)
    tested = subprocess.run(
        [promtool, "test", "rules", str(tmp_path / "alerts_test.yml")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_the_dashboard_and_rules_use_only_exported_metrics(redis_url: str) -> None:
    cache = stratacache.Cache(redis=redis_url, timing=1.0, namespace="dash")
    registry = CollectorRegistry()
    CacheCollector(cache, name="app", registry=registry)
    try:
        cache.set("k", 1)
        cache.get("k")
        exported = {name for name, _ in samples(registry)}
    finally:
        cache.close()
    recorded = {"stratacache:l1_hit_ratio:rate5m", "stratacache:redis_error_ratio:rate5m"}
    exprs = [t["expr"] for p in dashboards.dashboard()["panels"] for t in p["targets"]]
    assert len(exprs) >= 10
    rules = dashboards.RULES_PATH.read_text()
    used = {
        w
        for text in (*exprs, rules)
        for w in _words(text)
        if w.startswith(("stratacache_", "stratacache:"))
    }
    # Histogram series carry suffixes the family name lacks.
    exported |= {f"stratacache_operation_duration_seconds_{s}" for s in ("bucket", "sum", "count")}
    assert used <= exported | recorded, used - exported - recorded
    assert recorded <= used


# -- A real Prometheus server scraping a cache served by another process.

CHILD = """
import sys, json, time
import stratacache
from stratacache.contrib.prometheus import CacheCollector, serve_metrics
cache = stratacache.Cache(max_entries=1000, namespace="catalog", timing=1.0)
CacheCollector(cache, name="demo")
for i in range(40):
    cache.set(f"item{i}", i)
for i in range(100):
    cache.get(f"item{i % 70}")
server, _ = serve_metrics(0)
s = cache.stats()
print(json.dumps({"port": server.server_port, "hits": s.hits, "misses": s.misses,
                  "hit_ratio": s.hit_ratio}), flush=True)
sys.stdin.read()
"""


@pytest.fixture
def metrics_child() -> Iterator[dict[str, Any]]:
    """A process with a cache, its numbers fixed, serving /metrics until its stdin closes."""
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        assert line, "the metrics child exited before serving"
        yield json.loads(line)
    finally:
        assert child.stdin is not None
        child.stdin.close()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        if child.stdout is not None:
            child.stdout.close()


@pytest.fixture
def prometheus(metrics_child: dict[str, Any]) -> Iterator[str]:
    """A Prometheus server on a loopback port scraping the child every second; its base URL."""
    binary = _require("prometheus")
    home = make_temp_dir("prometheus")
    port = free_port()
    config = home / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        f"rule_files: [{json.dumps(str(dashboards.RULES_PATH))}]\n"
        "scrape_configs:\n"
        "  - job_name: stratacache\n"
        f"    static_configs: [{{targets: ['127.0.0.1:{metrics_child['port']}']}}]\n"
    )
    server = ManagedProcess(
        [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={home / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        cwd=home,
        log_path=home / "prometheus.log",
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
        remove_dir(home)


def _query(base: str, promql: str) -> list[Any] | None:
    url = f"{base}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            body = json.loads(r.read())
    except OSError:
        return None
    assert body["status"] == "success", body
    result: list[Any] = body["data"]["result"]
    return result


def test_prometheus_scrapes_the_cache_and_answers_its_hit_ratio(
    prometheus: str, metrics_child: dict[str, Any]
) -> None:
    hits = 'sum(stratacache_hits_total{tier="l1",cache="demo"})'
    misses = 'sum(stratacache_misses_total{tier="l1",cache="demo"})'
    ratio_query = f"{hits} / ({hits} + {misses})"
    result = wait_for(
        lambda: _query(prometheus, ratio_query) or None,
        timeout=60,
        failure=lambda: "Prometheus never answered the hit-ratio query",
    )
    assert float(result[0]["value"][1]) == pytest.approx(metrics_child["hit_ratio"])
    assert metrics_child["hit_ratio"] == 70 / 100  # 40 keys, read 100 times over 70 keys
    # The dashboard's queries are valid PromQL for this server.
    for panel in dashboards.dashboard()["panels"]:
        for target in panel["targets"]:
            expr = target["expr"].replace("$cache", ".*")
            assert _query(prometheus, expr) is not None, expr
    # The scraped latency histogram is usable by histogram_quantile.
    p99 = wait_for(
        lambda: (
            _query(
                prometheus,
                "histogram_quantile(0.99, sum by (le) "
                '(stratacache_operation_duration_seconds_bucket{tier="l1",op="get"}))',
            )
            or None
        ),
        timeout=30,
        failure=lambda: "no latency histogram",
    )
    assert float(p99[0]["value"][1]) > 0


def test_stats_cli_reads_the_metrics_endpoint(metrics_child: dict[str, Any]) -> None:
    url = f"http://127.0.0.1:{metrics_child['port']}/metrics"
    once = _cli("stats", url)
    assert once.returncode == 0, once.stderr
    row = next(line for line in once.stdout.splitlines() if line.startswith("demo "))
    assert row.split()[:5] == ["demo", "l1", "catalog", "70.0", "30.0"]
    watched = _cli("stats", url, "--watch", "--interval", "0.2", "--count", "3")
    assert watched.returncode == 0, watched.stderr
    assert watched.stdout.count("stratacache stats") == 3
    assert "hits/s" in watched.stdout  # rates from the second refresh on


def test_stats_cli_refuses_a_too_short_interval() -> None:
    refused = _cli("stats", "http://127.0.0.1:1/metrics", "--watch", "--interval", "0.01")
    assert refused.returncode == 2
    assert "at least" in refused.stderr


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stratacache", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _require(name: str) -> str:
    path = shutil.which(name)
    assert path is not None, f"{name} is missing: scripts/bootstrap.sh installs Debian's prometheus"
    return path


def _words(expr: str) -> list[str]:
    word: list[str] = []
    out = []
    for ch in expr + " ":
        if ch.isalnum() or ch in "_:":
            word.append(ch)
        elif word:
            out.append("".join(word))
            word = []
    return out
