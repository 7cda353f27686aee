"""The predictor in a live Cache: what it costs, and how well a new process warms from it.

Cost (one process, interleaved rounds, ratios per ../shared/BENCHMARKS.md):
- L1 get-hit time with the predictor off, with record= only (the recorder's share) and with
  the predictor on, at sample_rate 0.01 (target: on <= 1.10x off) and 1.0;
- memory per tracked key: the model's heap bytes (feature table, index, observation queue,
  training batch) and the key names' (arena, stage), for 13- and 40-byte keys (target 100 B);
- the feed: sampled records lost between the recorder and the model while one thread reads
  as fast as it can (target: at most 1%).

Warm start (a real Cache with L1 + a real redis-server holding every value): an old process
replays the first 75% of a timed workload on a compressed clock (its model and features see
real time), publishing its hot set; a new process then warms its L1 (capacity C) with C keys
chosen cold / most recent / most frequent / predicted (the published hot set, `warm()`), and
serves the next reads. Reported: its L1 hit ratio over the first 1,000 and 10,000 reads, and
the ratio to the old process's over the same reads (steady state; target: predicted >= 0.9
within 1,000 reads).

Writes bench/results/predict_live.json (`--quick`: predict_live_quick.json).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from _harness import RESULTS_DIR, zipf_ids

import stratacache
from stratacache import PredictorOptions, predict
from stratacache.testing import redis_servers

TRACES = Path(__file__).resolve().parents[2].parent / "shared" / "traces"
MISS: Any = object()


# -- cost ---------------------------------------------------------------------------------
def get_hit_rows(n: int, rounds: int) -> list[dict[str, Any]]:
    """Median ns per L1 get hit for each configuration, interleaved over `rounds`."""
    configs: dict[str, dict[str, Any]] = {
        "off": {},
        "record=0.01": {"record": 0.01},
        "predictor@0.01": {"predictor": PredictorOptions(sample_rate=0.01)},
        "predictor@1.0": {"predictor": PredictorOptions(sample_rate=1.0)},
    }
    keys = [f"key:{i}" for i in range(10_000)]
    stream = [keys[i] for i in zipf_ids(len(keys), n, seed=7)]
    caches = {name: stratacache.Cache(max_entries=20_000, **kw) for name, kw in configs.items()}
    for c in caches.values():
        for k in keys:
            c.set(k, k)
    times: dict[str, list[float]] = {name: [] for name in caches}
    for r in range(rounds + 1):
        for name, c in caches.items():
            get = c.get
            t0 = time.perf_counter_ns()
            for k in stream:
                get(k)
            if r > 0:  # round 0 warms up
                times[name].append((time.perf_counter_ns() - t0) / n)
    base = statistics.median(times["off"])
    rows = []
    for name, ts in times.items():
        med = statistics.median(ts)
        rows.append(
            {
                "case": "cost/l1-get-hit",
                "impl": name,
                "median_ns": round(med, 2),
                "ratio_vs_off": round(med / base, 4),
                "n": n,
                "params": {"rounds": rounds, "keys": len(keys), "zipf": 0.99},
            }
        )
    for c in caches.values():
        c.close()
    return rows


def memory_rows(sizes: list[int], key_lengths: tuple[int, ...] = (13, 40)) -> list[dict[str, Any]]:
    """Heap bytes per tracked key (the model's and the names'), as the predictor counts them."""
    rows = []
    for length in key_lengths:
        for size in sizes:
            opts = PredictorOptions(sample_rate=1.0, max_tracked=size)
            c = stratacache.Cache(max_entries=size, predictor=opts)
            for i in range(size):
                c.get(f"user:{i:08d}".ljust(length, "x"))  # a miss: recorded and named
            deadline = time.monotonic() + 60
            while c._predictor.stats()["fed"] < size and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(0.2)
            s = c._predictor.stats()
            rows.append(
                {
                    "case": f"cost/memory@{size}" + ("" if length == 13 else f"/key{length}"),
                    "impl": "predictor",
                    "model_bytes_per_key": round(s["model_bytes_per_key"], 1),
                    "name_bytes_per_key": round(s["name_bytes_per_key"], 1),
                    "bytes_per_key": round(s["model_bytes_per_key"] + s["name_bytes_per_key"], 1),
                    "tracked": s["tracked"],
                    "names": s["names"],
                    "n": size,
                    "params": {"key_length": length},
                }
            )
            c.close()
    return rows


def feed_rows(seconds: float) -> list[dict[str, Any]]:
    """One thread reads hits as fast as it can for `seconds`; records lost on the way."""
    rows = []
    keys = [f"k{i}" for i in range(100_000)]
    for rate in (0.01, 1.0):
        c = stratacache.Cache(max_entries=200_000, predictor=PredictorOptions(sample_rate=rate))
        for k in keys:
            c.set(k, 1)
        time.sleep(0.2)
        start = c._predictor.stats()
        get, ops, t0 = c.get, 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            for k in keys:
                get(k)
            ops += len(keys)
        elapsed = time.perf_counter() - t0
        time.sleep(0.3)
        s = c._predictor.stats()
        fed, lost = s["fed"] - start["fed"], s["lost"] - start["lost"]
        rows.append(
            {
                "case": "cost/feed",
                "impl": f"predictor@{rate}",
                "ops_per_s": round(ops / elapsed),
                "sampled_records": fed + lost,
                "lost": lost,
                "lost_share": round(lost / max(1, fed + lost), 5),
                "n": ops,
                "params": {"seconds": seconds, "record_capacity": 1 << 18},
            }
        )
        c.close()
    return rows


# -- warm start ---------------------------------------------------------------------------
def workloads(quick: bool) -> dict[str, Any]:
    scale = 0.25 if quick else 0.4
    d = 20_000 * scale
    out = {
        "periodic": predict.workload(
            "periodic", keys=int(2000 * scale), duration=d, period_min=20, period_max=2000
        ),
        "bursty": predict.workload(
            "bursty",
            keys=int(2000 * scale),
            duration=d,
            burst_on=300,
            burst_off=3000,
            burst_rate=0.05,
        ),
        "diurnal": predict.workload(
            "diurnal", keys=int(4000 * scale), duration=d, rate=10, cycle=5000
        ),
        "scan": predict.workload(
            "scan",
            keys=int(4000 * scale),
            duration=d,
            rate=10,
            scan_every=1500,
            scan_length=int(2000 * scale),
        ),
    }
    for name in ["web07"] if quick else ["web07", "multi2"]:
        path = TRACES / f"{name}.txt.gz"
        if path.exists():
            out[f"trace-{name}"] = predict.workload(
                "trace", trace_path=path, rate=20, max_requests=40_000 if quick else 60_000
            )
    return out


def _old_process(
    url: str,
    ns: str,
    reads: list[tuple[float, str]],
    *,
    options: Any,
    compress: float,
    capacity: int,
) -> Any:
    """Replays `reads` on a clock `compress` times faster than the workload's; returns the
    cache (its model trained, its hot set published)."""
    old = stratacache.Cache(max_entries=capacity, redis=url, namespace=ns, predictor=options)
    t0 = time.monotonic()
    first = reads[0][0]
    for t, key in reads:
        ahead = (t - first) / compress - (time.monotonic() - t0)
        if ahead > 0.001:
            time.sleep(ahead)
        old.get(key)
    time.sleep(0.2)  # one more drain
    old._predictor.publish(old._predictor.hot_sets())
    return old


def _serve(cache: Any, keys: list[str], counts: tuple[int, ...]) -> dict[int, float]:
    """L1 hit ratio over the first `c` of `keys`, for each c in counts (misses fill L1)."""
    store, prefix, hits, out = cache._store, cache._prefix, 0, {}
    for i, key in enumerate(keys[: max(counts)], start=1):
        if store.get(prefix, key, MISS) is not MISS:
            hits += 1
        else:
            cache.get(key)  # from Redis, backfilled into L1
        if i in counts:
            out[i] = hits / i
    return out


def warm_case(
    name: str, w: Any, url: str, *, rate: float, quick: bool, horizon_reads: int
) -> list[dict[str, Any]]:
    times, ids, writes = w.events()
    reads = [(t, f"o{k}") for t, k, wr in zip(times, ids, writes, strict=True) if not wr]
    cut = int(0.75 * len(reads))
    distinct = len({k for _, k in reads})
    capacity = max(100, distinct // 10)
    after = [k for _, k in reads[cut:]]
    # Checkpoints of the warm-start curve; the last is 10,000 reads or all there are.
    last = min(10_000, len(after))
    counts = (*(c for c in (100, 300, 1000, 3000) if c < last), last)
    compress = (reads[cut - 1][0] - reads[0][0]) / (8.0 if quick else 15.0)
    ns = f"bench-{name}-{rate}"
    seed = stratacache.Cache(redis=url, namespace=ns, l1=False)
    values = sorted({k for _, k in reads})
    for i in range(0, len(values), 1000):
        seed.set_many({k: k for k in values[i : i + 1000]})
    seed.close()
    # The horizon: the workload seconds `horizon_reads` reads take, on the compressed clock.
    span = reads[cut - 1][0] - reads[0][0]
    horizon = span * horizon_reads / cut if horizon_reads else 600.0
    options = PredictorOptions(
        sample_rate=rate,
        horizon=horizon / compress,
        max_tracked=max(10_000, distinct),
        publish_keys=capacity,
        publish_interval=1e9,
    )
    old = _old_process(url, ns, reads[:cut], options=options, compress=compress, capacity=capacity)
    history = [k for _, k in reads[:cut]]
    recent = list(dict.fromkeys(reversed(history)))[:capacity]
    frequent_all = [k for k, _ in collections.Counter(history).most_common(capacity)]
    frequent_win = [
        k for k, _ in collections.Counter(history[-4 * capacity :]).most_common(capacity)
    ]
    steady = _serve(old, after, counts)
    old.close()
    rows = []
    for method in ("cold", "most_recent", "most_frequent(all)", "most_frequent(4C)", "predicted"):
        new = stratacache.Cache(max_entries=capacity, redis=url, namespace=ns)
        report = None
        if method == "predicted":
            report = new.warm(n=capacity)
        elif method != "cold":
            chosen = {
                "most_recent": recent,
                "most_frequent(all)": frequent_all,
                "most_frequent(4C)": frequent_win,
            }[method]
            new.get_many(chosen)
        served = _serve(new, after, counts)
        new.close()
        for c in counts:
            rows.append(
                {
                    "case": f"warm/{name}@sample{rate}/first{c}",
                    "impl": method,
                    "hit_ratio": round(served[c], 4),
                    "steady_hit_ratio": round(steady[c], 4),
                    "of_steady": round(served[c] / steady[c], 4) if steady[c] else None,
                    "warmed": None if report is None else report.keys,
                    "source": None if report is None else report.source,
                    "n": c,
                    "params": {
                        "capacity": capacity,
                        "distinct": distinct,
                        "reads": len(reads),
                        "compress": round(compress, 1),
                        "sample_rate": rate,
                        "horizon_workload_s": round(horizon, 1),
                    },
                }
            )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", nargs="*", help="warm-start workloads to run (default: all)")
    parser.add_argument("--no-cost", action="store_true", help="skip the cost cases")
    parser.add_argument(
        "--horizon-reads",
        type=int,
        default=1000,
        help="predictor horizon: the workload time this many reads take (0: 600 s)",
    )
    parser.add_argument("--rates", type=float, nargs="*", default=[1.0, 0.1])
    args = parser.parse_args(argv)
    quick = args.quick
    load_before = os.getloadavg()
    rows: list[dict[str, Any]] = []
    if not args.no_cost:
        rows += get_hit_rows(50_000 if quick else 200_000, 5 if quick else 9)
        rows += memory_rows([10_000] if quick else [10_000, 100_000])
        rows += feed_rows(1.0 if quick else 3.0)
    for r in rows:
        print(json.dumps(r), flush=True)
    with redis_servers.RedisServer() as server:
        for name, w in workloads(quick).items():
            if args.only and name not in args.only:
                continue
            for rate in args.rates:
                for r in warm_case(
                    name, w, server.url, rate=rate, quick=quick, horizon_reads=args.horizon_reads
                ):
                    print(json.dumps(r), flush=True)
                    rows.append(r)
    if args.only or args.no_cost:
        return 0  # a partial run writes no result file
    load = {
        "before": [round(x, 2) for x in load_before],
        "after": [round(x, 2) for x in os.getloadavg()],
    }
    rows.append({"case": "env/loadavg", "impl": "machine", "loadavg_1_5_15": load, "n": 0})
    out = RESULTS_DIR / ("predict_live_quick.json" if quick else "predict_live.json")
    out.write_text(json.dumps(rows, indent=1) + "\n")
    print(f"wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
