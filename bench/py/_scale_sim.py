"""bench_scale section 2: `stratacache.simulate` on a 10 M-request trace beside libCacheSim.

No shared trace is that long (the longest, w106, has 5.3 M requests), so the trace is made
here, seeded: Zipf(0.9) over 1 M keys, with 1% of the trace's 10k-request windows replaced by
scans of never-seen keys (10% of the requests, one-hit wonders that LRU keeps and S3-FIFO and
W-TinyLFU filter out). It is written twice in a temp dir: one integer key per line (the format
both simulators read: the same file for ours and libCacheSim's text reader) and libCacheSim's
binary oracleGeneral format (24-byte records, its fastest reader, no parsing: the ceiling).

Per capacity (1% and 10% of the Zipf keys) and policy (LRU, S3-FIFO, W-TinyLFU, each
simulator's own implementation with its defaults, except libCacheSim's hash table, sized to
the capacity: `lcs_hashpower`), the three runs are interleaved over
`SIM_ROUNDS` rounds (a run is seconds long; fewer rounds than the L1 cases' nine). Each run
reads the trace from the file: the time is requests / second end to end, parse included.
Both wall time and this process's CPU time (user + system, every thread) are kept: on a
loaded machine the CPU figure is the steadier of the two.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import libcachesim as lcs
import numpy as np
from _harness import Options, zipf_ids

import stratacache

REQUESTS = 10_000_000
QUICK_REQUESTS = 1_000_000
ZIPF_KEYS = 1_000_000
ZIPF_ALPHA = 0.9
SCAN_LENGTH = 10_000
SCAN_SHARE = 0.1
CAPACITY_SHARES = (0.01, 0.1)
SIM_ROUNDS = 3
QUICK_ROUNDS = 1
POLICIES = {  # ours -> libCacheSim's
    "lru": lcs.LRU,
    "s3fifo": lcs.S3FIFO,
    "tinylfu": lcs.WTinyLFU,
}
OURS = "stratacache.simulate (text)"
LCS_TEXT = "libCacheSim (text)"
LCS_BINARY = "libCacheSim (oracleGeneral binary, ceiling)"
ORACLE_GENERAL = np.dtype([("time", "<u4"), ("id", "<u8"), ("size", "<u4"), ("next", "<i8")])


def make_trace(requests: int, seed: int) -> np.ndarray:
    """The Zipf/scan mix: int64 keys, seeded."""
    zipf_keys = min(ZIPF_KEYS, requests // 10)
    ids = zipf_ids(zipf_keys, requests, alpha=ZIPF_ALPHA, seed=seed).astype(np.int64)
    windows = requests // SCAN_LENGTH
    scans = int(windows * SCAN_SHARE)
    rng = np.random.default_rng(seed + 7)
    next_key = zipf_keys
    for window in np.sort(rng.choice(windows, size=scans, replace=False)).tolist():
        start = window * SCAN_LENGTH
        ids[start : start + SCAN_LENGTH] = np.arange(next_key, next_key + SCAN_LENGTH)
        next_key += SCAN_LENGTH
    return ids


def write_trace(ids: np.ndarray, folder: Path) -> tuple[Path, Path]:
    text = folder / "scale.txt"
    with text.open("w", encoding="ascii") as out:
        chunk = 1_000_000
        for start in range(0, len(ids), chunk):
            out.write("\n".join(map(str, ids[start : start + chunk].tolist())) + "\n")
    records = np.zeros(len(ids), dtype=ORACLE_GENERAL)
    records["time"] = np.arange(len(ids), dtype=np.uint32)
    records["id"] = ids.astype(np.uint64)
    records["size"] = 1
    records["next"] = -1
    binary = folder / "scale.oracleGeneral.bin"
    records.tofile(binary)
    return text, binary


def lcs_hashpower(capacity: int) -> int:
    """log2 of libCacheSim's initial hash table size, sized to the cache (its table grows).

    The default, 24 (16 M buckets, per internal queue), makes a run allocate and touch hundreds
    of MB whatever the capacity: on a 1 M-request trace it took 6x the CPU time of a table
    sized like this one, which is libCacheSim at its best, the ceiling."""
    return max(12, capacity.bit_length() + 1)


def runners(
    policy: str, capacity: int, text: Path, binary: Path
) -> dict[str, Callable[[], tuple[float, int]]]:
    """name -> a run returning (hit ratio, requests seen)."""
    cls = POLICIES[policy]
    hashpower = lcs_hashpower(capacity)

    def ours() -> tuple[float, int]:
        result = stratacache.simulate(text, policy=policy, capacity=capacity)
        return result.hit_ratio, result.requests

    def lcs_run(path: Path, kind: Any) -> Callable[[], tuple[float, int]]:
        def run() -> tuple[float, int]:
            reader = lcs.TraceReader(str(path), kind)
            cache = cls(cache_size=capacity, hashpower=hashpower)
            miss_ratio, _ = cache.process_trace(reader)
            return 1.0 - float(miss_ratio), -1

        return run

    return {
        OURS: ours,
        LCS_TEXT: lcs_run(text, lcs.TraceType.PLAIN_TXT_TRACE),
        LCS_BINARY: lcs_run(binary, lcs.TraceType.ORACLE_GENERAL_TRACE),
    }


def measure(
    policy: str, capacity: int, paths: tuple[Path, Path], requests: int, rounds: int
) -> list[dict[str, Any]]:
    runs = runners(policy, capacity, *paths)
    names = list(runs)
    seconds: dict[str, list[float]] = {name: [] for name in names}
    cpu: dict[str, list[float]] = {name: [] for name in names}
    ratios: dict[str, float] = {}
    for r in range(rounds):
        for j in range(len(names)):
            name = names[(r + j) % len(names)]
            t0, c0 = time.perf_counter(), time.process_time()
            hit_ratio, seen = runs[name]()
            seconds[name].append(time.perf_counter() - t0)
            cpu[name].append(time.process_time() - c0)
            if seen not in (-1, requests):
                msg = f"{name} replayed {seen} requests, not {requests}"
                raise RuntimeError(msg)
            ratios[name] = hit_ratio
    ours_s = statistics.median(seconds[OURS])
    ours_cpu = statistics.median(cpu[OURS])
    return [
        {
            "case": f"simulate/{policy}@{capacity}",
            "impl": name,
            "ops_per_s": round(requests / statistics.median(seconds[name])),
            "median_s": round(statistics.median(seconds[name]), 3),
            "cpu_s": round(statistics.median(cpu[name]), 3),
            "ops_per_cpu_s": round(requests / statistics.median(cpu[name])),
            "hit_ratio": round(ratios[name] * 100, 3),
            # ops/s ratio ours / peer, as the other throughput rows: > 1, ours is faster.
            "ratio_vs_ours": round(statistics.median(seconds[name]) / ours_s, 3),
            "cpu_ratio_vs_ours": round(statistics.median(cpu[name]) / ours_cpu, 3),
            "n": requests,
            "params": {
                "policy": policy,
                "capacity": capacity,
                "rounds": rounds,
                "lcs_hashpower": lcs_hashpower(capacity),
            },
        }
        for name in names
    ]


def print_rows(rows: list[dict[str, Any]]) -> None:
    current = None
    for row in rows:
        if row["case"] != current:
            current = row["case"]
            print(f"\n{current}  (n={row['n']:,}; ratio = peer time / ours, > 1: ours faster)")
        print(
            f"  {row['impl']:<46} {row['ops_per_s'] / 1e6:>6.2f} M req/s {row['ratio_vs_ours']:>6.2f}x"
            f"  | CPU: {row['ops_per_cpu_s'] / 1e6:>6.2f} M req/s {row['cpu_ratio_vs_ours']:>6.2f}x"
            f"  | hit {row['hit_ratio']:>6.2f}%"
        )


def run(opts: Options) -> list[dict[str, Any]]:
    requests = QUICK_REQUESTS if opts.quick else REQUESTS
    rounds = QUICK_ROUNDS if opts.quick else SIM_ROUNDS
    started = time.monotonic()
    ids = make_trace(requests, opts.seed)
    info = {
        "requests": requests,
        "distinct_keys": len(np.unique(ids)),
        "zipf_keys": min(ZIPF_KEYS, requests // 10),
        "zipf_alpha": ZIPF_ALPHA,
        "scan_share": SCAN_SHARE,
        "scan_length": SCAN_LENGTH,
        "seed": opts.seed,
    }
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        paths = write_trace(ids, Path(tmp))
        info["text_bytes"] = paths[0].stat().st_size
        print(f"trace: {info} ({time.monotonic() - started:.1f} s to make)")
        del ids
        for share in CAPACITY_SHARES[:1] if opts.quick else CAPACITY_SHARES:
            capacity = int(info["zipf_keys"] * share)
            for policy in POLICIES:
                case_rows = measure(policy, capacity, paths, requests, rounds)
                for row in case_rows:
                    row["params"]["trace"] = info
                print_rows(case_rows)
                rows += case_rows
    return rows
