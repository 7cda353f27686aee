"""Hit ratio of our policies on every trace of shared/traces, beside LRU, OPT and libcachesim.

For each trace and capacity of `index.tsv`, replays the trace through each of our policies and
Belady's OPT (`stratacache.simulate`) and through libcachesim's LRU, W-TinyLFU, S3-FIFO, SIEVE,
ARC and LIRS (PyPI `libcachesim`, defaults), all in this run. The W-TinyLFU (theine) column of
the traces README is read from the README itself (theine's policy core is not replayable here).

The target (issue #3): the default policy, on every trace and capacity, reaches at least the
best of LRU, S3-FIFO and W-TinyLFU minus 2 points.

Writes bench/results/hit_ratio.json. `--quick` keeps the traces under 200k requests.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import libcachesim as lcs

import stratacache

TRACES = Path(__file__).resolve().parents[2].parent / "shared" / "traces"
RESULTS = Path(__file__).resolve().parents[1] / "results"
QUICK = {"loop", "gli", "multi2", "sprite", "2_pools", "web07", "vaultservice"}

LCS_POLICIES = {
    "lcs-lru": lcs.LRU,
    "lcs-wtinylfu": lcs.WTinyLFU,
    "lcs-s3fifo": lcs.S3FIFO,
    "lcs-sieve": lcs.Sieve,
    "lcs-arc": lcs.ARC,
    "lcs-lirs": lcs.LIRS,
}
# Columns of the README tables, in order after "capacity".
README_COLUMNS = ["lru", "opt", "theine", "lcs-wtinylfu", "lcs-s3fifo", "sieve", "arc", "lirs"]


def read_index(traces: Path) -> list[tuple[str, str, list[int]]]:
    rows = []
    for line in (traces / "index.tsv").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, file, caps = line.split("\t")
        rows.append((name, file, [int(c) for c in caps.split(",")]))
    return rows


def read_reference(traces: Path) -> dict[tuple[str, int], dict[str, float]]:
    """The README's reference table: (trace, capacity) -> column -> hit ratio in %."""
    ref: dict[tuple[str, int], dict[str, float]] = {}
    trace = None
    for line in (traces / "README.md").read_text().splitlines():
        if m := re.match(r"^\*\*([\w-]+)\*\* \(", line):
            trace = m.group(1)
            continue
        cells = [c.strip().strip("*").replace(",", "") for c in line.strip().strip("|").split("|")]
        if trace and len(cells) == 1 + len(README_COLUMNS) and cells[0].isdigit():
            ref[(trace, int(cells[0]))] = dict(
                zip(README_COLUMNS, map(float, cells[1:]), strict=True)
            )
    return ref


def to_plain_text(src: Path, dst: Path) -> None:
    """libcachesim's text reader wants unsigned ids: negative keys become their 64-bit
    two's complement, a one-to-one renaming."""
    with gzip.open(src, "rt") as f, dst.open("w") as out:
        out.writelines(f"{int(line) & 0xFFFFFFFFFFFFFFFF}\n" for line in f)


def lcs_hit_ratio(cls: type, plain: Path, capacity: int) -> float:
    reader = lcs.TraceReader(str(plain), lcs.TraceType.PLAIN_TXT_TRACE)
    miss_ratio, _ = cls(cache_size=capacity).process_trace(reader)
    return 1.0 - float(miss_ratio)


def run_trace(name: str, path: Path, caps: list[int], tmp: Path) -> list[dict[str, Any]]:
    plain = tmp / f"{name}.txt"
    to_plain_text(path, plain)
    rows: list[dict[str, Any]] = []
    for cap in caps:
        for policy in [*stratacache.POLICIES, "opt"]:
            t0 = time.perf_counter()
            r = stratacache.simulate(path, policy=policy, capacity=cap)
            elapsed = time.perf_counter() - t0
            rows.append(row(name, cap, policy, r.hit_ratio, seconds=elapsed, n=r.requests))
        for impl, cls in LCS_POLICIES.items():
            t0 = time.perf_counter()
            hr = lcs_hit_ratio(cls, plain, cap)
            rows.append(row(name, cap, impl, hr, seconds=time.perf_counter() - t0, n=None))
    plain.unlink()
    return rows


def row(
    trace: str, cap: int, impl: str, hit_ratio: float, *, seconds: float, n: int | None
) -> dict[str, Any]:
    return {
        "case": f"hit_ratio/{trace}@{cap}",
        "impl": impl,
        "hit_ratio": round(hit_ratio * 100, 3),
        "seconds": round(seconds, 3),
        "n": n,
        "params": {"trace": trace, "capacity": cap},
    }


def summarize(
    rows: list[dict[str, Any]], ref: dict[tuple[str, int], dict[str, float]]
) -> dict[str, Any]:
    """Adds ratio_vs_ours (ours / peer) per row and the default policy's margin to the target."""
    by_case: dict[str, dict[str, dict[str, Any]]] = {}
    for r in rows:
        by_case.setdefault(r["case"], {})[r["impl"]] = r
    default = stratacache.DEFAULT_POLICY
    margins, gaps, gaps3 = [], [], []
    for case, impls in by_case.items():
        ours = impls[default]["hit_ratio"]
        for r in impls.values():
            r["ratio_vs_ours"] = round(ours / r["hit_ratio"], 4) if r["hit_ratio"] else None
        params = impls[default]["params"]
        reference = ref.get((params["trace"], params["capacity"]), {})
        # The target's three: LRU, S3-FIFO, W-TinyLFU (libcachesim's and theine's from the README).
        best = max(
            [impls[k]["hit_ratio"] for k in ("lcs-lru", "lcs-s3fifo", "lcs-wtinylfu")]
            + [reference[k] for k in ("theine",) if k in reference]
        )
        # Reference policies only (libcachesim's and the README's), not ours: the issue's
        # "best reference policy", which our default can then meet or beat.
        best_any = max(
            [r["hit_ratio"] for k, r in impls.items() if k.startswith("lcs-")]
            + [v for k, v in reference.items() if k != "opt"]
        )
        margins.append((ours - (best - 2.0), case, ours, best))
        gaps.append(best_any - ours)
        gaps3.append(best - ours)
    misses = [m for m in margins if m[0] < 0]
    return {
        "default_policy": default,
        "cases": len(margins),
        "target_met_cases": len(margins) - len(misses),
        "target_missed": [
            {"case": c, "ours": round(o, 2), "best_of_lru_s3fifo_wtinylfu": round(b, 2)}
            for _, c, o, b in sorted(misses)
        ],
        "mean_gap_to_best_reference_points": round(sum(gaps) / len(gaps), 3) if gaps else None,
        "max_gap_to_best_reference_points": round(max(gaps), 3) if gaps else None,
        # The target's own average: best of LRU, S3-FIFO and W-TinyLFU minus ours (<= 0: met).
        "mean_gap_to_best_of_lru_s3fifo_wtinylfu_points": (
            round(sum(gaps3) / len(gaps3), 3) if gaps3 else None
        ),
    }


def print_table(rows: list[dict[str, Any]]) -> None:
    impls = list(dict.fromkeys(str(r["impl"]) for r in rows))
    cases = list(dict.fromkeys(str(r["case"]) for r in rows))
    table = {(str(r["case"]), str(r["impl"])): r["hit_ratio"] for r in rows}
    print(f"{'case':28s}" + "".join(f"{i[-10:]:>11s}" for i in impls))
    for c in cases:
        print(f"{c[10:]:28s}" + "".join(f"{table.get((c, i), float('nan')):11.2f}" for i in impls))


def parse_trace_args(description: str, quick_help: str) -> argparse.Namespace | None:
    """`--quick` and `--traces`; None (after saying why) if the traces are missing."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--quick", action="store_true", help=quick_help)
    ap.add_argument("--traces", type=Path, default=TRACES)
    args = ap.parse_args()
    if not (args.traces / "index.tsv").exists():
        print(f"no traces at {args.traces}", file=sys.stderr)
        return None
    return args


def main() -> int:
    args = parse_trace_args(__doc__.splitlines()[0], "small traces only")
    if args is None:
        return 1
    ref = read_reference(args.traces)
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, file, caps in read_index(args.traces):
            if args.quick and name not in QUICK:
                continue
            t0 = time.perf_counter()
            rows += run_trace(name, args.traces / file, caps, Path(tmp))
            print(f"{name}: {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    summary = summarize(rows, ref)
    summary["load_average_1_5_15"] = [round(x, 2) for x in os.getloadavg()]
    print_table(rows)
    print(json.dumps(summary, indent=2))
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / ("hit_ratio_quick.json" if args.quick else "hit_ratio.json")
    out.write_text(json.dumps({"summary": summary, "rows": rows}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
