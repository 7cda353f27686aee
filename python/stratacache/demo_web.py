"""The web part of the demo: the catalog service behind Starlette and `CacheMiddleware`.

Run by ``python -m stratacache.demo --web`` (after the main demo) or on its own as
``python -m stratacache.demo_web [--requests N] [--keys K] [--out PATH]``. It serves the
catalog with uvicorn on a loopback port, replays Zipf-distributed product requests through
httpx, then the same sample against the app without the middleware, and reports the hit
ratio (from ``X-Cache``), the service calls saved and the latencies seen by the client.
Needs the `demo` extra (starlette, uvicorn, httpx); no server beyond those.

Metrics: `WebDemoConfig.extra_routes` is a function of the demo's cache returning Starlette
routes served next to the catalog, left out of the cache by ``routes="marked"``; each is
fetched once after the replay, its status and body landing in the report under
``extra_routes``. From the command line (and ``make demo``) it is `prometheus_routes` when
prometheus_client is installed: GET /metrics in Prometheus text, and the report shows the hit
ratio as scraped from it next to the one counted from ``X-Cache``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import stratacache

from ._extras import available, require
from .demo import _latency, zipf_ids

__all__ = [
    "WebDemoConfig",
    "build_app",
    "default_extra_routes",
    "format_web_report",
    "main",
    "metrics_summary",
    "prometheus_routes",
    "run_web_demo",
]


@dataclass(frozen=True)
class WebDemoConfig:
    """Sizes of one web demo run.

    Attributes:
        requests: product requests sent through the cached app.
        keys: distinct product ids.
        capacity: most responses the cache holds.
        latency_ms: time the catalog service takes per call (awaited, as network I/O is).
        uncached: requests sent to the same app without the middleware, for comparison.
        ttl: seconds a product page is cached.
        zipf: skew of the product popularity.
        seed: seed of the request stream.
        extra_routes: a function of the demo's AsyncCache giving Starlette routes served
            next to the catalog, uncached (a metrics endpoint, for one); None = none.
    """

    requests: int = 3_000
    keys: int = 1_000
    capacity: int = 500
    latency_ms: float = 4.0
    uncached: int = 300
    ttl: float = 300.0
    zipf: float = 0.99
    seed: int = 11
    extra_routes: Callable[[stratacache.AsyncCache], Sequence[Any]] | None = field(
        default=None, compare=False
    )


class AsyncCatalog:
    """The demo's catalog service, awaited: every call costs `latency_ms` of real time."""

    def __init__(self, latency_ms: float) -> None:
        self.latency_s = latency_ms / 1000.0
        self.calls = 0

    async def load_product(self, product_id: int) -> dict[str, Any]:
        """Fetches one product, slowly."""
        self.calls += 1
        await asyncio.sleep(self.latency_s)
        return {
            "id": product_id,
            "name": f"product {product_id}",
            "price_cents": 100 + (product_id * 7919) % 100_000,
            "in_stock": product_id % 5 != 0,
        }


def build_app(catalog: AsyncCatalog, extra_routes: Sequence[Any] = ()) -> Any:
    """The catalog as a Starlette app: ``GET /products/{id}`` marked for caching.

    Raises:
        MissingExtraError: starlette (the `demo` extra) is not installed.
    """
    applications = require("starlette.applications", "demo", "the web demo")
    responses = require("starlette.responses", "demo", "the web demo")
    routing = require("starlette.routing", "demo", "the web demo")
    from .contrib.asgi import cache_route  # noqa: PLC0415

    @cache_route()
    async def product(request: Any) -> Any:
        product_id = int(request.path_params["product_id"])
        return responses.JSONResponse(await catalog.load_product(product_id))

    routes = [routing.Route("/products/{product_id:int}", product), *extra_routes]
    return applications.Starlette(routes=routes)


def _replay(url: str, ids: Sequence[int]) -> tuple[list[int], list[int]]:
    """GETs each product; the client-side latencies of hits and of misses (ns)."""
    httpx = require("httpx", "demo", "the web demo")
    hits: list[int] = []
    misses: list[int] = []
    clock = time.perf_counter_ns
    with httpx.Client(base_url=url, timeout=30) as client:
        for product_id in ids:
            t0 = clock()
            response = client.get(f"/products/{product_id}")
            elapsed = clock() - t0
            response.raise_for_status()
            (hits if response.headers.get("x-cache") == "hit" else misses).append(elapsed)
    return hits, misses


def run_web_demo(config: WebDemoConfig) -> dict[str, Any]:
    """Serves the catalog, replays the workload over HTTP and returns the report.

    Raises:
        ValueError: a size is not positive.
        MissingExtraError: the `demo` extra (starlette, uvicorn, httpx) is not installed.
    """
    if min(config.requests, config.keys, config.capacity, config.uncached) <= 0:
        msg = "requests, keys, capacity and uncached must be positive"
        raise ValueError(msg)
    for module in ("starlette", "uvicorn", "httpx"):
        require(module, "demo", "the web demo")
    from .contrib.asgi import CacheMiddleware  # noqa: PLC0415
    from .testing.http_servers import asgi_server  # noqa: PLC0415

    ids = zipf_ids(config.keys, config.requests, config.zipf, config.seed)
    catalog = AsyncCatalog(config.latency_ms)
    cache = stratacache.AsyncCache(max_entries=config.capacity)
    extra = list(config.extra_routes(cache)) if config.extra_routes is not None else []
    cached_app = CacheMiddleware(build_app(catalog, extra), cache, ttl=config.ttl, routes="marked")
    with asgi_server(cached_app, on_shutdown=cache.close) as url:
        started = time.perf_counter()
        hit_ns, miss_ns = _replay(url, ids)
        wall = time.perf_counter() - started
        probed = _probe(url, extra)
    plain = AsyncCatalog(config.latency_ms)
    with asgi_server(build_app(plain)) as url:
        _, uncached_ns = _replay(url, ids[: config.uncached])
    requests = len(hit_ns) + len(miss_ns)
    return {
        "config": {k: v for k, v in asdict(config).items() if k != "extra_routes"},
        "requests": requests,
        "hits": len(hit_ns),
        "misses": len(miss_ns),
        "hit_ratio": round(len(hit_ns) / requests, 4),
        "service_calls": catalog.calls,
        "service_calls_saved": requests - catalog.calls,
        "latency": {
            "cached": _latency(hit_ns + miss_ns),
            "cached_hits": _latency(hit_ns),
            "cached_misses": _latency(miss_ns),
            "uncached": _latency(uncached_ns),
        },
        "cached_wall_s": round(wall, 3),
        "cache_stats": asdict(cache.stats()),
        "extra_routes": probed,
    }


def _probe(url: str, routes: Sequence[Any]) -> dict[str, Any]:
    """GETs each extra route without path parameters once: its status and text."""
    httpx = require("httpx", "demo", "the web demo")
    out: dict[str, Any] = {}
    for route in routes:
        path = getattr(route, "path", None)
        if isinstance(path, str) and "{" not in path:
            response = httpx.get(url + path, timeout=30)
            out[path] = {"status": response.status_code, "text": response.text}
    return out


def prometheus_routes(cache: stratacache.AsyncCache) -> list[Any]:
    """The demo's metrics endpoint: GET /metrics serves Prometheus text for `cache` alone (a
    registry of its own, labelled ``cache="demo"``), as a scrape would see it.

    Raises:
        MissingExtraError: prometheus_client (the `prometheus` extra) or starlette is missing.
    """
    pc = require("prometheus_client", "prometheus", "the demo's metrics endpoint")
    responses = require("starlette.responses", "demo", "the web demo")
    routing = require("starlette.routing", "demo", "the web demo")
    from .contrib.prometheus import CacheCollector  # noqa: PLC0415  (needs the extra)

    registry = pc.CollectorRegistry()
    CacheCollector(cache, name="demo", registry=registry)

    async def metrics(_request: Any) -> Any:
        return responses.Response(pc.generate_latest(registry), media_type=pc.CONTENT_TYPE_LATEST)

    return [routing.Route("/metrics", metrics)]


def metrics_summary(text: str) -> dict[str, float]:
    """L1 hits, misses and hit ratio summed over namespaces from Prometheus text, and the
    number of samples: what a dashboard would plot from the demo's scrape."""
    totals = {"hits": 0.0, "misses": 0.0, "samples": 0.0}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        totals["samples"] += 1
        name, _, value = line.rpartition(" ")
        for kind in ("hits", "misses"):
            if name.startswith(f"stratacache_{kind}_total{{") and 'tier="l1"' in name:
                totals[kind] += float(value)
    seen = totals["hits"] + totals["misses"]
    totals["hit_ratio"] = round(totals["hits"] / seen, 4) if seen else 0.0
    return totals


def _us(value: float) -> str:
    return f"{value / 1000:.2f} ms" if value >= 1000 else f"{value:.0f} us"


def format_web_report(report: dict[str, Any]) -> str:
    """The human-readable form of a report from `run_web_demo`."""
    cfg, lat = report["config"], report["latency"]
    lines = [
        "stratacache web demo: the catalog behind Starlette + CacheMiddleware, httpx on loopback",
        (
            f"  workload    {report['requests']:,} GET /products/{{id}} over {cfg['keys']:,} ids "
            f"(Zipf {cfg['zipf']}), service {cfg['latency_ms']} ms per call"
        ),
        (
            f"  hit ratio   {report['hit_ratio'] * 100:.1f} %  (X-Cache: {report['hits']:,} hit, "
            f"{report['misses']:,} miss); service calls saved {report['service_calls_saved']:,}"
        ),
        f"  {'client latency':<20}{'p50':>11}{'p99':>11}{'requests':>10}",
    ]
    rows = [("cached, all", lat["cached"]), ("  hits", lat["cached_hits"])]
    rows += [("  misses", lat["cached_misses"]), ("no middleware", lat["uncached"])]
    lines += [
        f"    {name:<18}{_us(r['p50_us']):>11}{_us(r['p99_us']):>11}{r['n']:>10,}"
        for name, r in rows
    ]
    scraped = report.get("extra_routes", {}).get("/metrics")
    if scraped is not None and scraped["status"] == 200 and "stratacache_" in scraped["text"]:
        m = metrics_summary(scraped["text"])
        lines.append(
            f"  metrics     GET /metrics: {m['samples']:,.0f} samples; L1 hits {m['hits']:,.0f}, "
            f"misses {m['misses']:,.0f}, hit ratio {m['hit_ratio'] * 100:.1f} % as scraped"
        )
    return "\n".join(lines) + "\n"


def default_extra_routes() -> Callable[[stratacache.AsyncCache], Sequence[Any]] | None:
    """The metrics endpoint when prometheus_client is installed, else none."""
    return prometheus_routes if available("prometheus_client") else None


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    defaults = WebDemoConfig()
    parser = argparse.ArgumentParser(prog="python -m stratacache.demo_web", description=__doc__)
    parser.add_argument("--requests", type=int, default=defaults.requests)
    parser.add_argument("--keys", type=int, default=defaults.keys)
    parser.add_argument("--capacity", type=int, default=defaults.capacity)
    parser.add_argument("--latency-ms", type=float, default=defaults.latency_ms)
    parser.add_argument("--uncached", type=int, default=defaults.uncached)
    parser.add_argument("--out", type=Path, default=Path("demo_web_report.json"))
    args = parser.parse_args(argv)
    config = WebDemoConfig(
        requests=args.requests,
        keys=args.keys,
        capacity=args.capacity,
        latency_ms=args.latency_ms,
        uncached=args.uncached,
        extra_routes=default_extra_routes(),
    )
    try:
        report = run_web_demo(config)
    except ValueError as exc:
        parser.error(str(exc))
    write_web_report(report, args.out)
    sys.stdout.write(format_web_report(report))
    sys.stdout.write(f"  report      {args.out}\n")
    return 0


def write_web_report(report: dict[str, Any], out: Path) -> Path:
    """Writes the report as JSON to `out`."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return out


if __name__ == "__main__":
    sys.exit(main())
