"""Does the access predictor beat simple heuristics? Replayed on timed workloads, in one run.

For each workload (periodic, bursty, diurnal, scan-polluted, and shared traces on a Poisson
clock):

- refresh-ahead: request-path misses against loader calls for XFetch (beta sweep),
  "refresh if read in the last window" (window sweep), the predictor (threshold sweep) and
  the clairvoyant ceiling; the predictor's curve against the baselines' at equal loader calls;
- warming after a flush at 75% of the workload: hit ratio over the next N reads for the
  predictor's top N, most recent and most frequent keys (the baselines at three look-back
  windows, the best of them kept) and the oracle;
- TTL tuning per namespace (each workload a namespace with its own write process): the
  recommended TTL replayed against the grid's best within the staleness budget, and the linear
  rule 2 * budget / write rate.

Then the predictor's own cost: recording with and without training (interleaved rounds,
ratios per ../shared/BENCHMARKS.md), batch scoring, and memory per tracked key from 10^4 to
10^6 keys (the table's accounting and the process's resident set).

Writes bench/results/predict.json (`--quick`: predict_quick.json, under a minute).
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from _harness import RESULTS_DIR, Case, Options, print_table, run_case

from stratacache import predict

TRACES = Path(__file__).resolve().parents[2].parent / "shared" / "traces"
#: TTLs the grid search tries: 10 per decade from 1 s to 10,000 s.
TTL_GRID = [round(10 ** (e / 10), 3) for e in range(41)]


#: The generated kinds: parameters at full size, and the mean seconds between two writes of a
#: key in the TTL section.
KINDS: dict[str, tuple[dict[str, Any], float]] = {
    "periodic": ({"keys": 2000, "period_min": 20, "period_max": 2000}, 600),
    "bursty": ({"keys": 2000, "burst_on": 300, "burst_off": 3000, "burst_rate": 0.05}, 2000),
    "diurnal": ({"keys": 4000, "rate": 10, "cycle": 5000}, 6000),
    "scan": ({"keys": 4000, "rate": 10, "scan_every": 1500, "scan_length": 2000}, 1000),
}


def generated(kind: str, scale: float, key_scale: float = 1.0, **extra: Any) -> predict.Workload:
    """A generated workload `scale` times as long and `scale * key_scale` times as wide."""
    params = dict(KINDS[kind][0])
    for name in ("keys", "scan_length"):
        if name in params:
            params[name] = max(1, int(params[name] * scale * key_scale))
    return predict.workload(kind, duration=20_000 * scale, **params, **extra)


def workloads(quick: bool) -> dict[str, tuple[predict.Workload, float]]:
    """Name -> (workload, TTL of its refresh replay)."""
    scale = 0.4 if quick else 1.0
    out = {kind: (generated(kind, scale), 300.0) for kind in KINDS}
    traces = ["web07"] if quick else ["web07", "sprite", "multi2"]
    for name in traces:
        path = TRACES / f"{name}.txt.gz"
        if path.exists():
            w = predict.workload(
                "trace", trace_path=path, rate=20, max_requests=40_000 if quick else None
            )
            out[f"trace-{name}"] = (w, 60.0)
    return out


def refresh_rows(name: str, w: predict.Workload, ttl: float) -> tuple[list[dict], dict]:
    t0 = time.perf_counter()
    report = predict.evaluate_refresh(w, ttl=ttl, warmup=w.duration / 4)
    seconds = time.perf_counter() - t0
    rows = [
        {
            "case": f"refresh/{name}",
            "impl": p.method,
            "parameter": p.parameter,
            "gets": p.gets,
            "misses": p.misses,
            "refreshes": p.refreshes,
            "loader_calls": p.loader_calls,
            "n": w.size,
            "params": {"ttl": ttl, "warmup": w.duration / 4, "events": w.size},
        }
        for p in report.points
    ]
    summary = {
        "predictor_curve_below_baselines": report.predictor_wins,
        "seconds": round(seconds, 2),
        **{
            f"vs_{k}": {
                "dominates": c.dominates,
                "grid_points_below": c.below,
                "grid_points_above": c.above,
                "grid_points": c.points,
                "loader_range": [round(x) for x in c.loader_range],
                "mean_miss_reduction": round(c.mean_miss_reduction, 4),
                "worst_miss_reduction": round(c.worst_miss_reduction, 4),
            }
            for k, c in report.comparisons.items()
        },
    }
    return rows, summary


def warm_rows(name: str, w: predict.Workload, sizes: list[int]) -> tuple[list[dict], dict]:
    rows: list[dict] = []
    summary: dict[str, Any] = {}
    restart = 0.75 * w.duration
    for n in sizes:
        runs = {
            m: predict.evaluate_warming(w, restart_at=restart, warm_keys=n, window_reads=m * n)
            for m in (1, 4, 16)
        }
        best: dict[str, tuple[float, int]] = {}
        for m, results in runs.items():
            for method, r in results.items():
                if method in ("most_recent", "most_frequent") or m == 1:
                    rows.append(
                        {
                            "case": f"warm/{name}@{n}",
                            "impl": method
                            if method not in ("most_recent", "most_frequent")
                            else f"{method}(window={m}N)",
                            "hit_ratio": round(r.hit_ratio, 4),
                            "hits": r.hits,
                            "n": r.reads,
                            "params": {"restart_at": restart, "warm_keys": n},
                        }
                    )
                key = method
                if key not in best or r.hit_ratio > best[key][0]:
                    best[key] = (r.hit_ratio, m)
        baseline = max(best["most_recent"][0], best["most_frequent"][0])
        summary[str(n)] = {
            "predictor": round(best["predictor"][0], 4),
            "best_baseline": round(baseline, 4),
            "cold": round(best["cold"][0], 4),
            "oracle": round(best["oracle"][0], 4),
            "predictor_wins": best["predictor"][0] > baseline,
        }
    return rows, summary


def ttl_section(quick: bool, budgets: list[float]) -> tuple[list[dict], dict]:
    """Each kind as a namespace with its own write process (mean 600 s to 6000 s)."""
    scale = 0.4 if quick else 1.0
    names = list(KINDS)
    parts = [
        generated(kind, scale, 0.25, update_interval=KINDS[kind][1], namespace=ns)
        for ns, kind in enumerate(names)
    ]
    merged = predict.merge(*parts)
    rows: list[dict] = []
    summary: dict[str, Any] = {}
    for budget in budgets:
        for r in predict.evaluate_ttl(merged, staleness_budget=budget, grid=TTL_GRID):
            ns = names[r.ns]
            case = f"ttl/{ns}@{budget}"
            for label, o in (
                ("recommended", r.at_recommended),
                ("grid_best", r.best),
                ("linear_rule", r.heuristic),
            ):
                rows.append(
                    {
                        "case": case,
                        "impl": label,
                        "ttl": round(o.ttl, 3),
                        "hit_ratio": round(o.hit_ratio, 4),
                        "stale_fraction": round(o.stale_fraction, 4),
                        "n": o.reads,
                        "params": {"staleness_budget": budget},
                    }
                )
            rec, best = r.at_recommended, r.best
            summary[case] = {
                "recommended_ttl": round(rec.ttl, 2),
                "predicted_stale": round(r.recommendation.predicted_stale_fraction, 4),
                "replayed_stale": round(rec.stale_fraction, 4),
                "within_budget": rec.stale_fraction <= budget,
                "stale_over_budget": round(rec.stale_fraction / budget, 3),
                "hit_ratio_gap_to_grid_best": round(best.hit_ratio - rec.hit_ratio, 4),
                "grid_best_ttl": best.ttl,
                "linear_rule_within_budget": r.heuristic.stale_fraction <= budget,
                "linear_rule_gap_to_grid_best": round(best.hit_ratio - r.heuristic.hit_ratio, 4),
            }
    return rows, summary


def cost_rows(opts: Options) -> list[dict]:
    """Recording (features only, features + training) and batch scoring, interleaved."""
    rng = random.Random(opts.seed)
    n = opts.n
    keys = [rng.randrange(50_000) for _ in range(n)]
    times = [i * 0.01 for i in range(n)]

    def recorder(enabled: bool, sample_rate: float) -> Any:
        def run() -> int:
            p = predict.Predictor(horizon=60, enabled=enabled, sample_rate=sample_rate)
            t0 = time.perf_counter_ns()
            p.record(keys, times)
            return time.perf_counter_ns() - t0

        return run

    record = Case("predictor-record", n, params={"keys": 50_000, "horizon_s": 60})
    record.add("features only (enabled=False)", recorder(False, 0.0), ours=True)
    record.add("features + training, sample_rate=0.1", recorder(True, 0.1))
    record.add("features + training, sample_rate=1.0", recorder(True, 1.0))
    rows = run_case(record, opts)

    scorer = predict.Predictor(horizon=60, enabled=True, sample_rate=0.1)
    scorer.record(keys, times)
    tracked = list(range(50_000))
    now = times[-1]

    def score() -> int:
        t0 = time.perf_counter_ns()
        scorer.probabilities(tracked, now)
        return time.perf_counter_ns() - t0

    def top() -> int:
        t0 = time.perf_counter_ns()
        scorer.warm_candidates(1000, now)
        return time.perf_counter_ns() - t0

    scoring = Case("predictor-score", len(tracked), params={"tracked": scorer.tracked})
    scoring.add("probabilities (batch of 50k keys)", score, ours=True)
    scoring.add("warm_candidates(1000) over all tracked", top)
    return rows + run_case(scoring, opts)


_MEMORY_PROBE = """
import gc, os, sys
from pathlib import Path
from stratacache import predict
def rss():
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
k = int(sys.argv[1])
keys = list(range(k))
times = [i * 0.001 for i in range(k)]
gc.collect()
before = rss()
p = predict.Predictor(horizon=60, max_keys=k, enabled=True, sample_rate=0.0)
p.record(keys, times)
print(rss() - before, p.bytes_per_key, p.tracked)
"""


def memory_rows(sizes: list[int]) -> list[dict]:
    """Resident-set growth per tracked key, each size in a fresh process (no reused heap)."""
    rows: list[dict] = []
    for k in sizes:
        out = subprocess.run(
            [sys.executable, "-c", _MEMORY_PROBE, str(k)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
        per_key = int(out[0]) / k
        rows.append(
            {
                "case": "predictor-memory",
                "impl": f"{k} tracked keys",
                "median_bytes": round(per_key, 1),
                # Per-key bytes against the smallest size's: how the cost per key scales.
                "ratio_vs_ours": round(per_key / rows[0]["median_bytes"], 3) if rows else 1.0,
                "n": k,
                "params": {
                    "accounted_bytes_per_key": round(float(out[1]), 1),
                    "tracked": int(out[2]),
                    "measure": "resident set growth per key, one fresh process per size",
                },
            }
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small workloads, under a minute")
    ap.add_argument("--seed", type=int, default=12345)
    args = ap.parse_args(argv)
    started = time.perf_counter()
    rows: list[dict] = []
    summary: dict[str, Any] = {"refresh": {}, "warm": {}}
    for name, (w, ttl) in workloads(args.quick).items():
        r, s = refresh_rows(name, w, ttl)
        rows += r
        summary["refresh"][name] = s
        r, s = warm_rows(name, w, [200] if args.quick else [200, 1000])
        rows += r
        summary["warm"][name] = s
        print(
            f"{name}: {w.size} events, refresh below baselines: "
            f"{s_ok(summary['refresh'][name])}, warm: {s}",
            flush=True,
        )
    r, s = ttl_section(args.quick, [0.02] if args.quick else [0.01, 0.05])
    rows += r
    summary["ttl"] = s
    opts = Options(
        quick=args.quick, rounds=5, warmup=1, n=30_000 if args.quick else 200_000, seed=args.seed
    )
    cost = cost_rows(opts)
    print_table(cost)
    memory = memory_rows([10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000])
    print_table(memory)
    rows += cost + memory
    summary["verdict"] = verdict(summary)
    summary["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(summary["verdict"], indent=2))
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    out = RESULTS_DIR / ("predict_quick.json" if args.quick else "predict.json")
    out.write_text(json.dumps({"summary": summary, "rows": rows}, indent=1) + "\n")
    print(f"wrote {out} in {summary['seconds']} s")
    return 0


def s_ok(s: dict) -> bool:
    return bool(s["predictor_curve_below_baselines"])


def verdict(summary: dict[str, Any]) -> dict[str, Any]:
    """Where the predictor wins and where it does not, in one place."""
    refresh = summary["refresh"]
    warm = summary["warm"]
    ttl = summary["ttl"]
    return {
        "refresh_predictor_dominates": sorted(k for k, v in refresh.items() if s_ok(v)),
        "refresh_predictor_does_not_dominate": sorted(k for k, v in refresh.items() if not s_ok(v)),
        "warm_predictor_wins": sorted(
            f"{k}@{n}" for k, v in warm.items() for n, r in v.items() if r["predictor_wins"]
        ),
        "warm_predictor_loses_or_ties": sorted(
            f"{k}@{n}" for k, v in warm.items() for n, r in v.items() if not r["predictor_wins"]
        ),
        "ttl_recommendation_over_budget": sorted(
            k for k, v in ttl.items() if not v["within_budget"]
        ),
        "ttl_max_hit_ratio_gap": max(
            (v["hit_ratio_gap_to_grid_best"] for v in ttl.values()), default=None
        ),
    }


if __name__ == "__main__":
    sys.exit(main())
