"""Prometheus metrics of a Cache or AsyncCache, through prometheus_client (`[prometheus]`).

    from stratacache.contrib.prometheus import CacheCollector, serve_metrics
    collector = CacheCollector(cache, name="catalog")   # registers with the default registry
    serve_metrics(port=9108)                             # or mount metrics_asgi_app()

Each scrape reads `cache.stats()` once (in process, no I/O): counters per tier and namespace
(`stratacache_hits_total`, `_misses_total`, `_evictions_total{cause}`, ...), gauges
(`stratacache_entries`, `_bytes`, `_breaker_state{state}`, `_coherent`) and, when the cache
was created with `timing=`, `stratacache_operation_duration_seconds{tier,op}` histograms.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from .._extras import require
from ..caches import AsyncCache, Cache
from ._metrics import Sample, check_target, counters, gauges

if TYPE_CHECKING:
    from wsgiref.simple_server import WSGIServer

_pc = require("prometheus_client", "prometheus", "stratacache.contrib.prometheus")
_core = require("prometheus_client.core", "prometheus", "stratacache.contrib.prometheus")

__all__ = ["CacheCollector", "metrics_asgi_app", "metrics_wsgi_app", "serve_metrics"]

_HELP = {
    "hits": "Lookups that found a value.",
    "misses": "Lookups that found nothing usable.",
    "sets": "Values stored.",
    "rejected": "Values not stored because they weigh more than a shard's budget.",
    "evictions": "Entries removed, by cause (size, expired, explicit).",
    "errors": "Tier commands that failed.",
    "breaker_opened": "Times the Redis circuit breaker opened.",
    "entries": "Live entries.",
    "bytes": "Summed weight of the live entries.",
    "breaker_state": "1 for the Redis circuit breaker's current state, else 0.",
    "coherent": "1 while invalidations from other processes arrive, else 0.",
    "invalidations_pending": "Skipped invalidations waiting for replay.",
}


def _help(name: str) -> str:
    return _HELP.get(name, f"Redis tier counter {name.removeprefix('redis_')}.")


class CacheCollector:
    """A prometheus_client collector over one cache's `stats()`.

    Args:
        cache: a Cache or AsyncCache.
        name: the `cache` label, telling several caches of one process apart.
        registry: where to register; the default registry when omitted, None for none.

    Raises:
        TypeError: cache is not a Cache/AsyncCache, or name not a str.
        ValueError: name is empty.
    """

    def __init__(
        self, cache: Cache | AsyncCache, name: str = "default", registry: Any = _pc.REGISTRY
    ) -> None:
        check_target(cache, name)
        self.cache = cache
        self.name = name
        if registry is not None:
            registry.register(self)

    def describe(self) -> list[Any]:
        """Nothing up front: the namespaces are known only at scrape time."""
        return []

    def collect(self) -> Iterator[Any]:
        """One scrape: every family built from one stats() snapshot."""
        stats = self.cache.stats()
        yield from _families(counters(stats, self.name), _core.CounterMetricFamily)
        yield from _families(gauges(stats, self.name), _core.GaugeMetricFamily)
        hist = _core.HistogramMetricFamily(
            "stratacache_operation_duration_seconds",
            "Latency of cache operations per tier (a sample of calls when timing < 1).",
            labels=["cache", "tier", "op"],
        )
        for tier, ops in stats.latency.items():
            for op, lat in ops.items():
                buckets = [(_pc.utils.floatToGoString(le), n) for le, n in lat.buckets]
                buckets.append(("+Inf", lat.count))
                hist.add_metric([self.name, tier, op], buckets, lat.total)
        yield hist


def _families(samples: Iterable[Sample], kind: Any) -> Iterator[Any]:
    grouped: dict[str, list[Sample]] = {}
    for s in samples:
        grouped.setdefault(s.name, []).append(s)
    for name, group in grouped.items():
        labels = list(group[0].labels)
        family = kind(f"stratacache_{name}", _help(name), labels=labels)
        for s in group:
            family.add_metric([s.labels[k] for k in labels], s.value)
        yield family


def serve_metrics(
    port: int, addr: str = "127.0.0.1", registry: Any = _pc.REGISTRY
) -> tuple[WSGIServer, threading.Thread]:
    """Serves GET /metrics from a daemon thread (prometheus_client's start_http_server).

    Returns:
        (server, thread): `server.shutdown()` stops it. port=0 picks a free port
        (`server.server_port`).
    """
    server, thread = _pc.start_http_server(port, addr=addr, registry=registry)
    return server, thread


def metrics_asgi_app(registry: Any = _pc.REGISTRY) -> Any:
    """An ASGI app answering with the registry's metrics (mount it at /metrics)."""
    return _pc.make_asgi_app(registry=registry)


def metrics_wsgi_app(registry: Any = _pc.REGISTRY) -> Any:
    """A WSGI app answering with the registry's metrics (mount it at /metrics)."""
    return _pc.make_wsgi_app(registry=registry)
