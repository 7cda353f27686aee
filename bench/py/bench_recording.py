"""Cost of access recording on the L1 hot path, and of using what was recorded.

-> bench/results/recording.json. Every case runs the same cache with recording off and on at
two sample rates, on the same 10k keys ("user:<id>") and seeded Zipf(0.99) sequence,
interleaved; ratios are against recording off, so (ratio - 1) * median is the cost per op.
The key set fits in the CPU caches on purpose: with 100k keys (bench_l1) memory stalls vary
by more than the few tens of ns measured here.
Then the per-record cost of `export_trace` and `miss_ratio_curve` over a full ring. Run with
--quick for a run under a minute.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _harness import (
    Case,
    Options,
    empty_loop,
    key_of,
    parse_options,
    print_table,
    run_case,
    sync_loop1,
    sync_loop2,
    write_results,
    zipf_ids,
)

import stratacache

N_KEYS = 10_000
OFF = "recording off"
#: (label, record=) of the implementations, ours (the reference) first.
MODES: list[tuple[str, float | None]] = [(OFF, None), ("record=1.0", 1.0), ("record=0.01", 0.01)]


def caches(capacity: int) -> dict[str, stratacache.Cache]:
    ring = {"record_capacity": 1 << 20}
    return {
        label: stratacache.Cache(max_entries=capacity, record=rate, **(ring if rate else {}))
        for label, rate in MODES
    }


def hot_path_cases(opts: Options) -> list[Case]:
    keys = [key_of(i) for i in range(N_KEYS)]
    seq = [keys[i] for i in zipf_ids(N_KEYS, opts.n, seed=opts.seed).tolist()]
    miss = [key_of(N_KEYS + i) for i in range(opts.n)]
    items = [(k, k) for k in seq]
    params = {"keys": N_KEYS, "zipf": 0.99, "capacity": 2 * N_KEYS, "ring": 1 << 20}
    hit = Case("get-hit", opts.n, params=params, reference=OFF)
    get_miss = Case("get-miss", opts.n, params=params, reference=OFF)
    over = Case("set-overwrite", opts.n, params=params, reference=OFF)
    for label, cache in caches(2 * N_KEYS).items():
        for k in keys:
            cache.set(k, k)
        hit.add(label, sync_loop1(cache.get, seq), ours=label == OFF)
        get_miss.add(label, sync_loop1(cache.get, miss), ours=label == OFF)
        over.add(label, sync_loop2(cache.set, items), ours=label == OFF)
    for case in (hit, get_miss, over):
        case.add("empty loop (floor)", empty_loop(seq))
    return [hit, get_miss, over]


def timed(fn: Any, rounds: int) -> float:
    """Median seconds of `fn()` over `rounds` calls."""
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return sorted(times)[len(times) // 2]


def offline_rows(opts: Options) -> list[dict[str, Any]]:
    """ns per record of export_trace and of miss_ratio_curve over a ring filled at rate 1."""
    ring = 1 << (16 if opts.quick else 18)
    cache = stratacache.Cache(max_entries=N_KEYS // 10, record=1.0, record_capacity=ring)
    for k in (key_of(i) for i in zipf_ids(N_KEYS, ring, seed=opts.seed).tolist()):
        cache.get(k)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.gz"
        runs = {
            "export_trace": lambda: cache.export_trace(path),
            "miss_ratio_curve lru": lambda: cache.miss_ratio_curve("lru"),
            "miss_ratio_curve s3fifo, 8 sizes": lambda: cache.miss_ratio_curve(
                "s3fifo", sizes=[1 << i for i in range(8, 16, 1)]
            ),
        }
        for name, fn in runs.items():
            seconds = timed(fn, opts.rounds)
            rows.append(
                {
                    "case": name,
                    "impl": "stratacache",
                    "median_ns": round(seconds * 1e9 / ring, 2),
                    "ratio_vs_ours": 1.0,
                    "n": ring,
                    "params": {"records": ring, "rounds": opts.rounds, "per": "record"},
                }
            )
        rows[0]["params"]["bytes"] = path.stat().st_size
    return rows


def main(argv: list[str] | None = None) -> int:
    opts = parse_options(__doc__ or "", argv)
    rows: list[dict[str, Any]] = []
    for case in hot_path_cases(opts):
        rows += run_case(case, opts)
    rows += offline_rows(opts)
    print_table(rows)
    path = write_results("recording_quick" if opts.quick else "recording", rows)
    print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
