"""stratacache.contrib.otel through the OpenTelemetry SDK's in-memory reader."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

import stratacache
from stratacache.contrib.otel import instrument

from ..conftest import call


def read(reader: InMemoryMetricReader) -> dict[str, list[Any]]:
    """{metric name: its data points} of one collection."""
    data = reader.get_metrics_data()
    assert data is not None
    return {
        m.name: list(m.data.data_points)
        for rm in data.resource_metrics
        for sm in rm.scope_metrics
        for m in sm.metrics
    }


def point(points: list[Any], **attrs: str) -> Any:
    return next(p for p in points if all(p.attributes.get(k) == v for k, v in attrs.items()))


@pytest.fixture
def reader() -> InMemoryMetricReader:
    return InMemoryMetricReader()


async def test_counters_and_gauges_per_namespace(
    cache_cls: type[Any], reader: InMemoryMetricReader
) -> None:
    provider = MeterProvider(metric_readers=[reader])
    cache = cache_cls(max_entries=2, namespace="users", policy="lru", timing=1.0)
    handle = instrument(cache, name="app", meter_provider=provider)
    for k in "abc":
        await call(cache.set(k, k))
    await call(cache.get("c"))
    await call(cache.get("a"))
    got = read(reader)
    stats = await call(cache.stats())
    users = {"cache": "app", "tier": "l1", "namespace": "users"}
    assert point(got["stratacache.hits"], **users).value == stats.namespaces["users"].hits == 1
    assert point(got["stratacache.misses"], **users).value == 1
    assert point(got["stratacache.evictions"], **users, cause="size").value == 1
    assert point(got["stratacache.entries"], **users).value == 2
    assert got["stratacache.entries"][0].value == 2
    lat = {"cache": "app", "tier": "l1", "op": "get"}
    assert point(got["stratacache.operation.count"], **lat).value == 2
    assert point(got["stratacache.operation.duration"], **lat).value > 0
    p99 = point(got["stratacache.operation.duration.quantile"], **lat, quantile="0.99")
    assert p99.value > 0
    assert handle.cache is cache
    provider.shutdown()


async def test_the_redis_tier_reports_breaker_and_coherence(
    cache_cls: type[Any], redis_url: str, reader: InMemoryMetricReader
) -> None:
    provider = MeterProvider(metric_readers=[reader])
    cache = cache_cls(redis=redis_url, namespace="otel")
    instrument(cache, name="app", meter_provider=provider)
    try:
        await call(cache.set("k", 1))
        await call(cache.get("k"))  # an L1 hit
        await call(cache.get("absent"))  # a Redis read of namespace "otel", a miss
        assert cache._subscriber.connected.wait(10)  # an AsyncCache subscribes in the background
        got = read(reader)
        assert point(got["stratacache.breaker_state"], state="closed").value == 1
        assert point(got["stratacache.breaker_state"], state="open").value == 0
        assert got["stratacache.coherent"][0].value == 1
        assert "stratacache.redis.sets" in got
        assert point(got["stratacache.misses"], tier="redis", namespace="otel").value == 1
    finally:
        await call(cache.close())
        provider.shutdown()


def test_argument_errors_name_the_problem() -> None:
    with pytest.raises(TypeError, match="Cache or AsyncCache"):
        instrument(object())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="name"):
        instrument(stratacache.Cache(), name="")
