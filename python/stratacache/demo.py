"""The demo behind `make demo`: a slow catalog service behind `@cache`, on a Zipf workload.

Run as ``python -m stratacache.demo [--requests N] [--keys K] [--out PATH] [--web]``;
``--web`` then serves the same catalog over HTTP behind the cache middleware
(`stratacache.demo_web`, which needs the `demo` extra). It needs no server: the
"catalog service" is a loader that sleeps to stand for a network round trip. The
demo replays Zipf-distributed product lookups through the cached loader, then times a smaller
sample of direct (uncached) loader calls, and reports the hit ratio, the loader calls saved and
the latency of cached against uncached calls, on stdout and in a JSON and a text file.
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import json
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import stratacache

from ._extras import ProgressBar, available, progress_bar

__all__ = ["DemoConfig", "main", "run_demo"]

Product = dict[str, Any]


@dataclass(frozen=True)
class DemoConfig:
    """Sizes of one demo run.

    Attributes:
        requests: product lookups replayed through the cache.
        keys: distinct product ids in the catalog.
        capacity: most entries the cache holds (a fraction of the catalog, as in production).
        latency_ms: time the catalog service takes per call.
        uncached: direct loader calls timed for the uncached latency.
        zipf: skew of the product popularity (0.99 is typical of web traffic).
        policy: eviction policy, one of `stratacache.POLICIES`; None = the default.
        seed: seed of the request stream.
        progress: show a progress bar on stderr (needs tqdm, from the `cli` extra).
    """

    requests: int = 20_000
    keys: int = 10_000
    capacity: int = 2_000
    latency_ms: float = 4.0
    uncached: int = 500
    zipf: float = 0.99
    policy: str | None = None
    seed: int = 7
    progress: bool = True


class CatalogService:
    """A stand-in for a remote product catalog: every call costs `latency_ms` of real time."""

    def __init__(self, latency_ms: float) -> None:
        self.latency_s = latency_ms / 1000.0
        self.calls = 0

    def load_product(self, product_id: int) -> Product:
        """Fetches one product, slowly."""
        self.calls += 1
        time.sleep(self.latency_s)
        return {
            "id": product_id,
            "name": f"product {product_id}",
            "price_cents": 100 + (product_id * 7919) % 100_000,
            "in_stock": product_id % 5 != 0,
        }


def zipf_ids(keys: int, count: int, alpha: float, seed: int) -> list[int]:
    """`count` ids in [0, keys) with Zipf(alpha) popularity, by inverse CDF; seeded.

    Ranks are shuffled onto ids so the popular products are not the smallest ids.
    """
    rng = random.Random(seed)
    cdf = list(itertools.accumulate(1.0 / rank**alpha for rank in range(1, keys + 1)))
    total = cdf[-1]
    ids = list(range(keys))
    rng.shuffle(ids)
    return [
        ids[min(bisect.bisect_right(cdf, rng.random() * total), keys - 1)] for _ in range(count)
    ]


def _percentile(sorted_ns: Sequence[int], q: float) -> float:
    """Nearest-rank percentile of sorted nanosecond samples, in microseconds."""
    if not sorted_ns:
        return 0.0
    rank = max(1, min(len(sorted_ns), round(q / 100.0 * len(sorted_ns) + 0.5)))
    return sorted_ns[rank - 1] / 1000.0


def _latency(samples_ns: list[int]) -> dict[str, float | int]:
    ordered = sorted(samples_ns)
    mean = sum(ordered) / len(ordered) / 1000.0 if ordered else 0.0
    return {
        "n": len(ordered),
        "p50_us": round(_percentile(ordered, 50), 2),
        "p99_us": round(_percentile(ordered, 99), 2),
        "mean_us": round(mean, 2),
    }


def _bar(total: int, desc: str, enabled: bool) -> ProgressBar:
    return progress_bar(
        enabled,
        "DemoConfig(progress=True)",
        total=total,
        desc=desc,
        unit="req",
        file=sys.stderr,
        mininterval=0.25,
    )


def _replay(
    lookup: Callable[[int], Product], service: CatalogService, ids: list[int], progress: bool
) -> tuple[list[int], list[int]]:
    """Calls `lookup` on every id; returns the latencies of hits and of misses (ns).

    A request is a miss when it made the service load, which is measured, not inferred.
    """
    hits: list[int] = []
    misses: list[int] = []
    clock = time.perf_counter_ns
    with _bar(len(ids), "cached  ", progress) as bar:
        for product_id in ids:
            calls = service.calls
            t0 = clock()
            lookup(product_id)
            elapsed = clock() - t0
            (misses if service.calls != calls else hits).append(elapsed)
            bar.update()
    return hits, misses


def _time_uncached(service: CatalogService, ids: list[int], progress: bool) -> list[int]:
    samples: list[int] = []
    clock = time.perf_counter_ns
    with _bar(len(ids), "uncached", progress) as bar:
        for product_id in ids:
            t0 = clock()
            service.load_product(product_id)
            samples.append(clock() - t0)
            bar.update()
    return samples


def run_demo(config: DemoConfig) -> dict[str, Any]:
    """Runs the workload and returns the report as a JSON-ready dict.

    Raises:
        ValueError: a size is not positive.
        ConfigError: the policy is unknown.
        MissingExtraError: `config.progress` is set and tqdm is not installed.
    """
    if min(config.requests, config.keys, config.capacity, config.uncached) <= 0:
        msg = "requests, keys, capacity and uncached must be positive"
        raise ValueError(msg)
    service = CatalogService(config.latency_ms)
    cache = stratacache.Cache(max_entries=config.capacity, policy=config.policy)
    lookup: Callable[[int], Product] = cache.cache(ttl=3600)(service.load_product)
    ids = zipf_ids(config.keys, config.requests, config.zipf, config.seed)

    started = time.perf_counter()
    hit_ns, miss_ns = _replay(lookup, service, ids, config.progress)
    measured = _Measured(hit_ns, miss_ns, service.calls, time.perf_counter() - started)
    sample = ids[: min(config.uncached, config.requests)]
    measured.uncached_ns = _time_uncached(
        CatalogService(config.latency_ms), sample, config.progress
    )
    return _report(config, cache, lookup, measured)


@dataclass
class _Measured:
    hit_ns: list[int]
    miss_ns: list[int]
    loader_calls: int
    cached_wall_s: float
    uncached_ns: list[int] = field(default_factory=list)


def _report(
    config: DemoConfig,
    cache: stratacache.Cache,
    lookup: Callable[[int], Product],
    m: _Measured,
) -> dict[str, Any]:
    hit_ns, miss_ns, cached_wall_s = m.hit_ns, m.miss_ns, m.cached_wall_s
    requests = len(hit_ns) + len(miss_ns)
    uncached = _latency(m.uncached_ns)
    uncached_wall_s = requests * float(uncached["mean_us"]) / 1e6
    info = getattr(lookup, "cache_info", None)
    return {
        "config": {**asdict(config), "policy": cache.policy},
        "requests": requests,
        "hits": len(hit_ns),
        "misses": len(miss_ns),
        "hit_ratio": round(len(hit_ns) / requests, 4),
        "loader_calls": m.loader_calls,
        "loader_calls_saved": requests - m.loader_calls,
        "latency": {
            "cached": _latency(hit_ns + miss_ns),
            "cached_hits": _latency(hit_ns),
            "cached_misses": _latency(miss_ns),
            "uncached": uncached,
        },
        "wall_s": {
            "cached_run": round(cached_wall_s, 3),
            "uncached_estimate": round(uncached_wall_s, 3),
        },
        "speedup": round(uncached_wall_s / cached_wall_s, 2) if cached_wall_s else None,
        "cache_stats": asdict(cache.stats()),
        "cache_info": _as_dict(info()) if callable(info) else None,
    }


def _as_dict(info: Any) -> dict[str, Any] | None:
    """The decorator's CacheInfo (a NamedTuple) as a dict."""
    as_dict = getattr(info, "_asdict", None)
    return dict(as_dict()) if callable(as_dict) else None


def _us(value: float) -> str:
    return f"{value / 1000:.2f} ms" if value >= 1000 else f"{value:.2f} us"


def format_report(report: dict[str, Any]) -> str:
    """The human-readable form of a report from `run_demo`."""
    cfg, lat, wall = report["config"], report["latency"], report["wall_s"]
    ratio = report["hit_ratio"] * 100
    saved_s = report["loader_calls_saved"] * lat["uncached"]["mean_us"] / 1e6
    rows = [("cached, all calls", lat["cached"]), ("  hits", lat["cached_hits"])]
    rows += [("  misses", lat["cached_misses"]), ("uncached (direct)", lat["uncached"])]
    lines = [
        "stratacache demo: a slow catalog service behind @cache",
        (
            f"  workload    {report['requests']:,} requests over {cfg['keys']:,} product ids "
            f"(Zipf {cfg['zipf']}), loader {cfg['latency_ms']} ms per call"
        ),
        f"  cache       {cfg['capacity']:,} entries, policy {cfg['policy']}",
        f"  hit ratio   {ratio:.1f} %  ({report['hits']:,} hits, {report['misses']:,} misses)",
        (
            f"  loader      {report['loader_calls']:,} calls made, "
            f"{report['loader_calls_saved']:,} saved (~{saved_s:.1f} s of loader time)"
        ),
        f"  {'latency':<20}{'p50':>11}{'p99':>11}{'calls':>9}",
    ]
    lines += [
        f"    {name:<18}{_us(r['p50_us']):>11}{_us(r['p99_us']):>11}{r['n']:>9,}"
        for name, r in rows
    ]
    lines.append(
        f"  wall time   {wall['cached_run']:.1f} s cached; {wall['uncached_estimate']:.1f} s "
        f"estimated uncached ({report['speedup']}x)"
    )
    return "\n".join(lines) + "\n"


def write_report(report: dict[str, Any], out: Path) -> tuple[Path, Path]:
    """Writes the report as JSON to `out` and as text next to it (same name, .txt)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    text_path = out.with_suffix(".txt")
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    text_path.write_text(format_report(report), encoding="utf-8")
    return out, text_path


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    defaults = DemoConfig()
    parser = argparse.ArgumentParser(prog="python -m stratacache.demo", description=__doc__)
    parser.add_argument("--requests", type=int, default=defaults.requests)
    parser.add_argument("--keys", type=int, default=defaults.keys)
    parser.add_argument("--capacity", type=int, default=defaults.capacity)
    parser.add_argument("--latency-ms", type=float, default=defaults.latency_ms)
    parser.add_argument("--uncached", type=int, default=defaults.uncached)
    parser.add_argument("--policy", choices=stratacache.POLICIES, default=None)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--out", type=Path, default=Path("demo_report.json"))
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument(
        "--web", action="store_true", help="then serve the catalog over HTTP (stratacache.demo_web)"
    )
    args = parser.parse_args(argv)
    config = DemoConfig(
        requests=args.requests,
        keys=args.keys,
        capacity=args.capacity,
        latency_ms=args.latency_ms,
        uncached=args.uncached,
        policy=args.policy,
        seed=args.seed,
        progress=not args.no_progress and available("tqdm"),  # no bar without the cli extra
    )
    try:
        report = run_demo(config)
    except ValueError as exc:
        parser.error(str(exc))
    json_path, text_path = write_report(report, args.out)
    sys.stdout.write(format_report(report))
    sys.stdout.write(f"  report      {json_path} and {text_path}\n")
    if args.web:
        _web_part(args.out.with_name(args.out.stem + "_web.json"))
    return 0


def _web_part(out: Path) -> None:
    """Runs the web demo, or says which extra it needs when that is missing."""
    missing = [m for m in ("starlette", "uvicorn", "httpx") if not available(m)]
    if missing:
        sys.stdout.write(
            f"\nweb demo skipped: {', '.join(missing)} not installed; "
            "pip install 'stratacache[demo]' adds them\n"
        )
        return
    from . import demo_web  # noqa: PLC0415  (imports the web stack only when asked)

    config = demo_web.WebDemoConfig(extra_routes=demo_web.default_extra_routes())
    report = demo_web.run_web_demo(config)
    demo_web.write_web_report(report, out)
    sys.stdout.write("\n" + demo_web.format_web_report(report))
    sys.stdout.write(f"  report      {out}\n")


if __name__ == "__main__":
    sys.exit(main())
