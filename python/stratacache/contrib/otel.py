"""OpenTelemetry metrics of a Cache or AsyncCache, through the metrics API (`[otel]`).

    from stratacache.contrib.otel import instrument
    instrument(cache, name="catalog")       # the global MeterProvider, or meter_provider=...

The same samples as `contrib.prometheus`, as observable instruments read at each collection:
counters `stratacache.hits`, `.misses`, `.sets`, `.evictions` (attribute `cause`), ...,
gauges `stratacache.entries`, `.bytes`, `.breaker_state`, `.coherent`, with the attributes
`cache`, `tier` and `namespace`. The API has no observable histogram, so latencies (when the
cache was created with `timing=`) are the counter `stratacache.operation.count`, the counter
`stratacache.operation.duration` (summed seconds) and the gauge
`stratacache.operation.duration.quantile` (attribute `quantile`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from .._extras import require
from ..caches import AsyncCache, Cache
from ._metrics import REDIS_COUNTERS, Sample, check_target, counters, gauges

if TYPE_CHECKING:
    from ..stats import CacheStats

_metrics = require("opentelemetry.metrics", "otel", "stratacache.contrib.otel")

__all__ = ["Instrumentation", "instrument"]

_COUNTERS = ("hits", "misses", "sets", "rejected", "evictions", "errors", "breaker_opened")
_GAUGES = ("entries", "bytes", "breaker_state", "coherent", "invalidations_pending")
_UNITS = {"bytes": "By"}
# One collection reads many instruments; they share one snapshot taken within this window.
_SNAPSHOT_AGE = 0.05


class Instrumentation:
    """The observable instruments of one cache (returned by `instrument`)."""

    def __init__(self, cache: Cache | AsyncCache, name: str, meter: Any) -> None:
        self.cache = cache
        self.name = name
        self._lock = threading.Lock()
        self._snapshot: tuple[float, CacheStats] | None = None
        self.instruments: list[Any] = []
        for metric in (*_COUNTERS, *(f"redis_{n}" for n in REDIS_COUNTERS)):
            self._add(meter.create_observable_counter, metric, counters)
        for metric in _GAUGES:
            self._add(meter.create_observable_gauge, metric, gauges)
        self.instruments += [
            meter.create_observable_counter(
                "stratacache.operation.count", [self._latency("count")], unit="{call}"
            ),
            meter.create_observable_counter(
                "stratacache.operation.duration", [self._latency("total")], unit="s"
            ),
            meter.create_observable_gauge(
                "stratacache.operation.duration.quantile", [self._latency("quantiles")], unit="s"
            ),
        ]

    def stats(self) -> CacheStats:
        """A snapshot shared by the instruments of one collection."""
        with self._lock:
            now = time.monotonic()
            if self._snapshot is None or now - self._snapshot[0] > _SNAPSHOT_AGE:
                self._snapshot = (now, self.cache.stats())
            return self._snapshot[1]

    def _add(self, create: Any, metric: str, source: Callable[..., Iterable[Sample]]) -> None:
        def callback(_options: Any) -> Iterator[Any]:
            for s in source(self.stats(), self.name):
                if s.name == metric:
                    yield _metrics.Observation(s.value, s.labels)

        name = "stratacache." + metric.replace("redis_", "redis.", 1)
        self.instruments.append(create(name, [callback], unit=_UNITS.get(metric, "1")))

    def _latency(self, what: str) -> Callable[[Any], Iterator[Any]]:
        def callback(_options: Any) -> Iterator[Any]:
            for tier, ops in self.stats().latency.items():
                for op, lat in ops.items():
                    attrs = {"cache": self.name, "tier": tier, "op": op}
                    if what == "quantiles":
                        for q, seconds in lat.quantiles.items():
                            yield _metrics.Observation(seconds, {**attrs, "quantile": str(q)})
                    else:
                        yield _metrics.Observation(getattr(lat, what), attrs)

        return callback


def instrument(
    cache: Cache | AsyncCache, name: str = "default", meter_provider: Any = None
) -> Instrumentation:
    """Registers observable instruments reading `cache.stats()` at each collection.

    Args:
        cache: a Cache or AsyncCache.
        name: the `cache` attribute, telling several caches of one process apart.
        meter_provider: an SDK MeterProvider; None uses the global one.

    Returns:
        The Instrumentation (keep it referenced as long as the metrics should be reported).

    Raises:
        TypeError: cache is not a Cache/AsyncCache, or name not a str.
        ValueError: name is empty.
    """
    check_target(cache, name)
    meter = _metrics.get_meter("stratacache", meter_provider=meter_provider)
    return Instrumentation(cache, name, meter)
