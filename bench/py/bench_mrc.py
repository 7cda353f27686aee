"""Miss-ratio curves: how close the sampled curves come to the exact ones, and what they cost.

For every trace of shared/traces and each policy (lru, tinylfu, s3fifo; opt too in the full
run), computes the exact curve (sample_rate=1.0) and the 1%-sampled one (LRU also at 0.1%)
with `stratacache.miss_ratio_curve`, all on one size grid per trace, the union of:

- geometric: sizes spaced evenly in log from 100 entries (one entry of a 1% sample) up to the
  trace's distinct keys, as the default grid is; most of its points are small caches;
- linear: equal steps up to the distinct keys, where a fixed-width histogram puts its points;
- index: the capacities of index.tsv.

Reported per curve: the mean absolute error of the miss ratios against the exact curve on each
grid, the largest error, and the time of a whole call (reading the trace included, which both
do). `ratio_vs_ours` is this row's time over the 1%-sampled row's (the exact row's is the
speed-up). Exact and sampled calls are interleaved over 5 rounds (median) on traces under 200k
requests and run once on the larger ones (`params.rounds`): an exact W-TinyLFU curve of a 5M
request trace takes minutes.

Also, through stratacache._core, for the 1% curves: the same curve from other key samples
(seeds), whose mean error is the error to expect on that trace, and two ablations: the paper's
algorithms alone ("pure": fixed-rate SHARDS / miniature simulation, no floor, no adjustment)
and with SHARDS_adj but without the 32-entry floor ("adj, no floor").

Writes bench/results/mrc.json; `--quick` (six small traces, coarser grids, one round, no opt)
writes bench/results/mrc_quick.json. `--only orm-busy,p3` and `--policies lru,opt` run part of
it and merge into that file: their rows replace the rows of the same trace and policy, the other
rows stay as they were (each row carries the load average of its own run), and the summary rows
are recomputed from all of them.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _harness import RESULTS_DIR, write_results
from bench_hit_ratio import parse_trace_args, read_index

import stratacache
from stratacache import _core

QUICK = ("gli", "multi2", "sprite", "2_pools", "web07", "vaultservice")
REFERENCE = "sampled@0.01"
RATE = 0.01
FULL_ROUNDS_BELOW = 200_000  # requests; larger traces run once


def size_grids(distinct: int, capacities: list[int], quick: bool) -> dict[str, list[int]]:
    """The three grids of a trace with `distinct` keys."""
    n_geo, n_lin = (16, 10) if quick else (20, 10)
    lo, hi = 100, max(100, distinct)
    geometric = sorted({round(lo * (hi / lo) ** (i / (n_geo - 1))) for i in range(n_geo)})
    linear = sorted({max(1, distinct * i // n_lin) for i in range(1, n_lin + 1)})
    return {"geometric": geometric, "linear": linear, "index": sorted(capacities)}


def errors(curve: Any, exact: dict[int, float], grids: dict[str, list[int]]) -> dict[str, Any]:
    """Mean absolute error on each grid and the largest error anywhere."""
    at = dict(zip(curve.sizes, curve.miss_ratios, strict=True))
    out: dict[str, Any] = {
        name: round(statistics.fmean(abs(at[s] - exact[s]) for s in sizes), 5)
        for name, sizes in grids.items()
    }
    out["max"] = round(max(abs(at[s] - exact[s]) for s in exact), 5)
    return out


def interleaved(calls: dict[str, Callable[[], Any]], rounds: int) -> tuple[dict, dict, dict]:
    """Runs the calls A B C, B C A, ... for `rounds` rounds; their last results, median
    seconds and median CPU seconds (every thread of the process: the cost, whatever else the
    machine runs)."""
    names = list(calls)
    seconds: dict[str, list[float]] = {n: [] for n in names}
    cpu: dict[str, list[float]] = {n: [] for n in names}
    results: dict[str, Any] = {}
    for r in range(rounds):
        for j in range(len(names)):
            name = names[(r + j) % len(names)]
            t0, c0 = time.perf_counter(), time.process_time()
            results[name] = calls[name]()
            seconds[name].append(time.perf_counter() - t0)
            cpu[name].append(time.process_time() - c0)
    return (
        results,
        {n: statistics.median(v) for n, v in seconds.items()},
        {n: statistics.median(v) for n, v in cpu.items()},
    )


def run_policy(
    name: str, path: Path, policy: str, grids: dict[str, list[int]], probe: Any, *, quick: bool
) -> list[dict[str, Any]]:
    """The rows of one trace and policy; `probe` is an exact curve of the trace at one size."""
    sizes = sorted(set().union(*grids.values()))
    calls: dict[str, Callable[[], Any]] = {
        "exact": lambda: stratacache.miss_ratio_curve(path, policy, 1.0, sizes),
        REFERENCE: lambda: stratacache.miss_ratio_curve(path, policy, RATE, sizes),
    }
    if policy == "lru":
        calls["sampled@0.001"] = lambda: stratacache.miss_ratio_curve(path, policy, 0.001, sizes)
    rounds = 1 if quick or probe.requests >= FULL_ROUNDS_BELOW else 5
    curves, seconds, cpu = interleaved(calls, rounds)
    for label, options in (("pure", {"min_entries": 0, "adjust": False}),
                           ("adj, no floor", {"min_entries": 0, "adjust": True})):  # fmt: skip
        t0, c0 = time.perf_counter(), time.process_time()
        curves[f"{REFERENCE} {label}"] = _core.miss_ratio_curve(
            str(path), policy, RATE, sizes, **options
        )
        seconds[f"{REFERENCE} {label}"] = time.perf_counter() - t0
        cpu[f"{REFERENCE} {label}"] = time.process_time() - c0
    exact = dict(zip(curves["exact"].sizes, curves["exact"].miss_ratios, strict=True))
    # Other key samples: the error one should expect, not just this sample's.
    n_seeds = 3 if quick or probe.requests >= 200_000 else 10
    seeded = [curves[REFERENCE]] + [
        _core.miss_ratio_curve(str(path), policy, RATE, sizes, seed=s) for s in range(1, n_seeds)
    ]
    by_seed = [errors(c, exact, grids) for c in seeded]
    rows = []
    for impl, curve in curves.items():
        row: dict[str, Any] = {
            "case": f"mrc/{name}/{policy}",
            "impl": impl,
            "median_ns": round(seconds[impl] * 1e9),
            "seconds": round(seconds[impl], 3),
            "ratio_vs_ours": round(seconds[impl] / seconds[REFERENCE], 3),
            "cpu_seconds": round(cpu[impl], 3),
            "cpu_ratio_vs_ours": round(cpu[impl] / cpu[REFERENCE], 3),
            "n": 1,
            "mae": errors(curve, exact, grids),
            "sampled_requests": curve.sampled_requests,
            "params": {
                "trace": name,
                "policy": policy,
                "sample_rate": curve.sample_rate,
                "requests": curve.requests,
                "distinct_keys": probe.distinct_keys,
                "points": {k: len(v) for k, v in grids.items()},
                "rounds": rounds if impl in calls else 1,
                "reference": REFERENCE,
                "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()],
            },
        }
        if impl == REFERENCE:
            row["mae_over_seeds"] = {
                "seeds": n_seeds,
                **{
                    f"{grid}_{stat}": round(fn(e[grid] for e in by_seed), 5)
                    for grid in grids
                    for stat, fn in (("mean", statistics.fmean), ("max", max))
                },
            }
        rows.append(row)
    return rows


def summarize(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per policy and rate: the traces under 0.01 on each grid, and the median speed-up."""
    out = []
    impls = ["sampled@0.01", "sampled@0.001", f"{REFERENCE} pure", f"{REFERENCE} adj, no floor"]
    for policy in dict.fromkeys(r["params"]["policy"] for r in rows):
        exact_ns = {r["case"]: r["median_ns"] for r in rows if r["impl"] == "exact"}
        exact_cpu = {r["case"]: r["cpu_seconds"] for r in rows if r["impl"] == "exact"}
        for impl in impls:
            mine = [r for r in rows if r["params"]["policy"] == policy and r["impl"] == impl]
            if not mine:
                continue
            out.append({
                "case": f"mrc/summary/{policy}",
                "impl": impl,
                "traces": len(mine),
                **{
                    f"under_0.01_{grid}": sorted(
                        r["params"]["trace"] for r in mine if r["mae"][grid] < 0.01
                    )
                    for grid in ("geometric", "linear", "index")
                },
                **{
                    f"under_0.01_{grid}_mean_over_seeds": sorted(
                        r["params"]["trace"]
                        for r in mine
                        if "mae_over_seeds" in r and r["mae_over_seeds"][f"{grid}_mean"] < 0.01
                    )
                    for grid in ("geometric", "linear")
                    if impl == REFERENCE
                },
                "median_speedup_vs_exact": round(
                    statistics.median(exact_ns[r["case"]] / r["median_ns"] for r in mine), 2
                ),
                "median_cpu_speedup_vs_exact": round(
                    statistics.median(
                        exact_cpu[r["case"]] / max(r["cpu_seconds"], 1e-3) for r in mine
                    ),
                    2,
                ),
                "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()],
            })  # fmt: skip
    return out


def print_table(rows: list[dict[str, Any]]) -> None:
    print(f"{'trace/policy':26s} {'impl':28s} {'geo':>7s} {'linear':>7s} {'index':>7s}"
          f" {'max':>7s} {'seconds':>8s} {'x exact':>8s}")  # fmt: skip
    exact_ns = {r["case"]: r["median_ns"] for r in rows if r["impl"] == "exact"}
    for r in rows:
        m = r["mae"]
        speedup = exact_ns[r["case"]] / r["median_ns"]
        print(f"{r['case'][4:]:26s} {r['impl']:28s} {m['geometric']:7.4f} {m['linear']:7.4f}"
              f" {m['index']:7.4f} {m['max']:7.4f} {r['seconds']:8.2f} {speedup:8.1f}")  # fmt: skip


def part_args() -> argparse.Namespace:
    """`--only` and `--policies`, taken out of sys.argv before parse_trace_args reads it."""
    ap = argparse.ArgumentParser(add_help=False)
    ap.add_argument("--only", type=lambda v: v.split(","), default=None)
    ap.add_argument("--policies", type=lambda v: v.split(","), default=None)
    part, rest = ap.parse_known_args()
    sys.argv[1:] = rest
    return part


def merged(name: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`rows` in place of the rows of the same cases in bench/results/<name>.json, if any."""
    path = RESULTS_DIR / f"{name}.json"
    if not path.exists():
        return rows
    cases = {r["case"] for r in rows}
    old = json.loads(path.read_text(encoding="utf-8"))
    kept = [r for r in old if "median_ns" in r and r["case"] not in cases]
    return kept + rows


def main() -> int:
    part = part_args()
    args = parse_trace_args(__doc__.splitlines()[0], "six small traces, under ~30 s")
    if args is None:
        return 1
    policies = part.policies or ["lru", "tinylfu", "s3fifo"] + ([] if args.quick else ["opt"])
    rows: list[dict[str, Any]] = []
    for name, file, capacities in read_index(args.traces):
        if (args.quick and name not in QUICK) or (part.only and name not in part.only):
            continue
        t0 = time.perf_counter()
        path = args.traces / file
        probe = stratacache.miss_ratio_curve(path, "lru", 1.0, [1])
        grids = size_grids(probe.distinct_keys, capacities, args.quick)
        for policy in policies:
            rows += run_policy(name, path, policy, grids, probe, quick=args.quick)
        print(f"{name}: {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    print_table(rows)
    result = "mrc_quick" if args.quick else "mrc"
    if part.only or part.policies:
        rows = merged(result, rows)
    summary = summarize(rows)
    for s in summary:
        print(s)
    out = write_results(result, [*rows, *summary])
    print(f"wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
