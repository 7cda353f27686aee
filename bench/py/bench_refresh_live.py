"""Refresh-ahead in a live Cache: no refresh, XFetch and the predictor, side by side.

A real `Cache` (L1; and L1 + a real redis-server this script starts on loopback and stops by
PID) serves a cached function whose loader sleeps `LOADER_MS` (a real latency), under the
timed workloads (periodic, bursty, diurnal, scan-polluted) and a shared trace (Poisson
arrivals), replayed on a compressed clock: the workload generators' seconds are replay
seconds, with periods and TTLs about 1/200 of `bench_predict.py`'s (a 1 s TTL stands for
~200 s), so one run lasts `RUN_SECONDS`. One request thread replays the reads in time order.

Each method is swept: XFetch's beta (``RefreshAhead(mode="xfetch", beta=...)``) and the
predictor's threshold (``RefreshAhead(mode="predict", threshold=...)``, ``predictor=`` at
sample_rate 1.0, horizon = the TTL); the budget is off (None) so each curve is its
parameter's. Counted after the first `WARMUP_SHARE` of a run (the model learns meanwhile):
request-path misses (loader calls made by the request thread, i.e. reads that waited for the
loader), all loader calls (request path + background), p99 and median request latency. The
predictor's curve is compared with XFetch's at equal loader calls (`compare_curves`: both
frontiers of the two sweeps, compared over the loader calls both reach), and each predictor
point against XFetch's frontier (no refresh included) at its own loader calls.
Target (issue 13): at least 20% fewer request-path misses than XFetch at equal loader calls.

Tuned on the "shared" workloads; the "held" ones (other seeds and parameters) are only run.

The model trains during the warm-up: its first batch needs 256 labelled observations, each
labelled one horizon after it was taken, so a run must last a few horizons. `--quick` runs are
too short for that (the model stays untrained and predict refreshes nothing): a smoke test.

Writes bench/results/refresh_live.json (`--quick`: refresh_live_quick.json, a smoke test of one to two minutes).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any, NamedTuple

from _harness import RESULTS_DIR

import stratacache
from stratacache import PredictorOptions, RefreshAhead, predict
from stratacache._refresh_curves import compare_curves, frontier, interpolate
from stratacache.testing import redis_servers

TRACES = Path(__file__).resolve().parents[2].parent / "shared" / "traces"
LOADER_MS = 2.0
TTL = 1.0
RUN_SECONDS = 5.5
WARMUP_SHARE = 0.6
BETAS = (40.0, 160.0, 800.0)
THRESHOLDS = (0.5, 0.75, 0.9)
WORKERS = 32
#: the workloads also run with the Redis tier (full run, --quick)
REDIS_WORKLOADS = {False: ("periodic", "diurnal"), True: ("periodic",)}

#: name -> (kind, generator parameters in replay seconds)
SHARED: dict[str, tuple[str, dict[str, Any]]] = {
    "periodic": ("periodic", {"keys": 200, "period_min": 0.1, "period_max": 5.0, "seed": 1}),
    "bursty": (
        "bursty",
        {"keys": 200, "burst_on": 1.5, "burst_off": 3.0, "burst_rate": 8.0, "seed": 1},
    ),
    "diurnal": ("diurnal", {"keys": 400, "rate": 800.0, "cycle": 2.0, "seed": 1}),
    "scan": (
        "scan",
        {"keys": 300, "rate": 600.0, "scan_every": 1.0, "scan_length": 150, "seed": 1},
    ),
}
HELD: dict[str, tuple[str, dict[str, Any]]] = {
    "periodic-b": ("periodic", {"keys": 250, "period_min": 0.2, "period_max": 3.0, "seed": 7}),
    "bursty-b": (
        "bursty",
        {"keys": 150, "burst_on": 0.8, "burst_off": 2.0, "burst_rate": 15.0, "seed": 7},
    ),
    "diurnal-b": (
        "diurnal",
        {"keys": 300, "rate": 600.0, "cycle": 3.0, "zipf_alpha": 1.1, "seed": 9},
    ),
    "scan-b": (
        "scan",
        {"keys": 200, "rate": 500.0, "scan_every": 0.7, "scan_length": 250, "seed": 11},
    ),
}


class Point(NamedTuple):
    method: str
    parameter: float
    loader_calls: int
    misses: int
    requests: int
    p99_us: float
    median_us: float
    started: int
    skipped: int


def make_events(kind: str, params: dict[str, Any], seconds: float) -> list[tuple[float, int]]:
    if kind == "trace":
        w = predict.workload("trace", **params)
    else:
        w = predict.workload(kind, duration=seconds, **params)
    times, keys, writes = w.events()
    return [(t, k) for t, k, wr in zip(times, keys, writes, strict=True) if not wr and t < seconds]


def run_one(
    events: list[tuple[float, int]], seconds: float, method: str, parameter: float, url: str | None
) -> Point:
    """Replays `events` once against a fresh cache; counts after the warm-up."""
    options = None
    predictor = None
    if method == "xfetch":
        options = RefreshAhead(mode="xfetch", beta=parameter, budget=None, workers=WORKERS)
    elif method == "predict":
        options = RefreshAhead(mode="predict", threshold=parameter, budget=None, workers=WORKERS)
        predictor = PredictorOptions(sample_rate=1.0, horizon=TTL, publish_keys=0)
    namespace = f"r{time.monotonic_ns()}"
    cache = stratacache.Cache(
        max_entries=100_000, predictor=predictor, redis=url, namespace=namespace
    )
    main = threading.get_ident()
    counted = [False]
    request_calls: list[int] = []
    background_calls: list[int] = []

    def loader(key: int) -> int:
        time.sleep(LOADER_MS / 1000)
        if counted[0]:
            (request_calls if threading.get_ident() == main else background_calls).append(1)
        return key

    f = cache.cache(loader, ttl=TTL, refresh_ahead=options)
    warmup = seconds * WARMUP_SHARE
    latencies: list[float] = []
    base = None
    clock = time.perf_counter
    start = clock()
    for t, key in events:
        wait = start + t - clock()
        if wait > 0.0005:
            time.sleep(wait)
        if not counted[0] and t >= warmup:
            counted[0] = True
            base = cache.stats().refresh_ahead
        t0 = clock()
        f(key)
        if counted[0]:
            latencies.append(clock() - t0)
    counted[0] = False
    stats = cache.stats().refresh_ahead
    started = skipped = 0
    if stats is not None and base is not None:
        started = stats.started - base.started
        skipped = (stats.skipped_busy + stats.skipped_budget) - (
            base.skipped_busy + base.skipped_budget
        )
    cache.close()
    latencies.sort()
    p99 = latencies[int(0.99 * (len(latencies) - 1))] if latencies else 0.0
    median = statistics.median(latencies) if latencies else 0.0
    return Point(
        method,
        parameter,
        len(request_calls) + len(background_calls),
        len(request_calls),
        len(latencies),
        round(p99 * 1e6, 1),
        round(median * 1e6, 2),
        started,
        skipped,
    )


def sweep(
    name: str, events: list[tuple[float, int]], seconds: float, url: str | None, short: bool
) -> list[Point]:
    """No refresh, then each beta and each threshold (`short`: the two ends of each sweep)."""
    betas = BETAS[::2] if short else BETAS
    thresholds = THRESHOLDS[::2] if short else THRESHOLDS
    runs = [("none", 0.0)] + [("xfetch", b) for b in betas]
    runs += [("predict", th) for th in thresholds]
    points = []
    for method, parameter in runs:
        p = run_one(events, seconds, method, parameter, url)
        points.append(p)
        print(
            f"  {name:12s} {method:8s} {parameter:6g}: misses {p.misses:5d} loader calls "
            f"{p.loader_calls:5d} p99 {p.p99_us:8.1f} us",
            flush=True,
        )
    return points


def verdict(points: list[Point]) -> dict[str, Any]:
    none = [p for p in points if p.method == "none"]
    ours = [p for p in points if p.method == "predict"]
    theirs = [p for p in points if p.method == "xfetch"]
    # The sweeps' own points: with the no-refresh point in both curves, both would meet there
    # and every comparison would shrink towards 0 at the low end.
    c = compare_curves(ours, theirs)
    # Each predictor point against XFetch's frontier (no refresh included) at the same loader
    # calls, where that frontier reaches them.
    hull = frontier(none + theirs)
    at_points = []
    for p in ours:
        if hull[0][0] <= p.loader_calls <= hull[-1][0]:
            xfetch = interpolate(hull, p.loader_calls)
            gain = (xfetch - p.misses) / xfetch if xfetch else 0.0
            at_points.append(
                {
                    "threshold": p.parameter,
                    "loader_calls": p.loader_calls,
                    "predict_misses": p.misses,
                    "xfetch_misses": round(xfetch, 1),
                    "miss_reduction": round(gain, 3),
                }
            )
    return {
        "at_predict_points": at_points,
        "loader_range": [round(x, 1) for x in c.loader_range],
        "mean_miss_reduction": round(c.mean_miss_reduction, 3),
        "worst_miss_reduction": round(c.worst_miss_reduction, 3),
        "predict_below": c.below,
        "predict_above": c.above,
        "target_met": c.mean_miss_reduction >= 0.2,
    }


def rows_of(case: str, points: list[Point], params: dict[str, Any]) -> list[dict[str, Any]]:
    none = next(p for p in points if p.method == "none")
    return [
        {
            "case": case,
            "impl": f"{p.method}({p.parameter:g})" if p.method != "none" else "none",
            "median_ns": round(p.median_us * 1000),
            "p99_ns": round(p.p99_us * 1000),
            "request_misses": p.misses,
            "loader_calls": p.loader_calls,
            "refreshes_started": p.started,
            "refreshes_skipped_busy_or_budget": p.skipped,
            # > 1: this method has fewer request-path misses than no refresh
            "ratio_vs_ours": round(none.misses / p.misses, 3) if p.misses else None,
            "n": p.requests,
            "params": params,
        }
        for p in points
    ]


def workloads(quick: bool) -> list[tuple[str, str, str, dict[str, Any], float]]:
    """(group, name, kind, params, seconds)."""
    seconds = RUN_SECONDS * (0.6 if quick else 1.0)
    out = [("shared", n, k, p, seconds) for n, (k, p) in SHARED.items()]
    trace = TRACES / "web07.txt.gz"
    if trace.exists():
        rate = 700.0
        params = {"trace_path": trace, "rate": rate, "max_requests": int(rate * seconds)}
        out.append(("shared", "trace-web07", "trace", params, seconds))
    if not quick:
        out += [("held", n, k, p, seconds) for n, (k, p) in HELD.items()]
        held_trace = TRACES / "multi2.txt.gz"
        if held_trace.exists():
            rate = 700.0
            params = {"trace_path": held_trace, "rate": rate, "max_requests": int(rate * seconds)}
            out.append(("held", "trace-multi2", "trace", params, seconds))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke test (one to two minutes; the model does not train)",
    )
    parser.add_argument("--no-redis", action="store_true", help="L1 only")
    args = parser.parse_args()
    began = time.perf_counter()
    rows: list[dict[str, Any]] = []
    summary: dict[str, Any] = {}
    tiers: list[tuple[str, Any]] = [("l1", None)]
    server = None
    if not args.no_redis:
        server = redis_servers.RedisServer().start()
        tiers.append(("l1+redis", server))
    try:
        for tier, srv in tiers:
            url = None if srv is None else srv.url
            for group, name, kind, params, seconds in workloads(args.quick):
                if tier != "l1" and (group == "held" or name not in REDIS_WORKLOADS[args.quick]):
                    continue  # the Redis tier: a few shared workloads only (time)
                events = make_events(kind, params, seconds)
                print(f"{tier} {group} {name}: {len(events)} reads in {seconds:g} s", flush=True)
                short = args.quick or tier != "l1" or group == "held"
                points = sweep(name, events, seconds, url, short)
                shown = {k: str(v) if isinstance(v, Path) else v for k, v in params.items()}
                run = {
                    "tier": tier,
                    "group": group,
                    "kind": kind,
                    "workload": shown,
                    "seconds": seconds,
                    "ttl": TTL,
                    "loader_ms": LOADER_MS,
                    "load_average_1m": round(os.getloadavg()[0], 2),
                }
                rows += rows_of(f"refresh_live/{tier}/{name}", points, run)
                summary[f"{tier}/{name}"] = {"group": group, **verdict(points)}
                print(f"  -> {summary[f'{tier}/{name}']}", flush=True)
    finally:
        if server is not None:
            server.stop()
    rows.append(
        {
            "case": "refresh_live/summary",
            "impl": "predict vs xfetch",
            "n": len(summary),
            "params": {
                "verdicts": summary,
                "seconds": round(time.perf_counter() - began, 1),
                "load_average": [round(x, 2) for x in os.getloadavg()],
                "python": sys.version.split()[0],
            },
        }
    )
    out = RESULTS_DIR / ("refresh_live_quick.json" if args.quick else "refresh_live.json")
    out.write_text(json.dumps(rows, indent=1) + "\n")
    print(f"wrote {out} in {time.perf_counter() - began:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
