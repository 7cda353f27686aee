"""Scale curves (issue 17, "Scale"): how cost grows, beside peers -> bench/results/scale.json.

Four sections, each run side by side with its peers in this one process (``_harness.py``):

1. ``l1``: L1 ``get`` hit (Zipf 0.99 and uniform), ``get`` miss, ``set`` overwrite and ``set``
   insert-into-full at 10^3 ... 10^7 entries, every policy beside ``cachebox.LRUCache`` and a
   plain ``dict`` floor, plus resident memory per entry at each size (``_scale_l1.py``).
2. ``simulate``: ``stratacache.simulate`` on a seeded 10 M-request Zipf/scan trace against
   libCacheSim's own simulator (the ceiling), LRU, S3-FIFO and W-TinyLFU (``_scale_sim.py``).
3. ``async``: ``AsyncCache`` gets from 1 to 1,000 tasks, L1 only and L1 off against a
   redis-server started here on loopback, beside redis.asyncio (``_scale_async.py``).
4. ``threads``: get-hit throughput of one cache from 1 and 2 threads, default shards and
   ``shards=2``, beside cachebox (``_scale_threads.py``).

Every loop is bounded in count and time. ``--quick`` is a smoke test under a minute (sizes up
to 10^5, a 1 M-request trace, short runs); the full run takes about ten minutes. The load
average is recorded before and after each section (the machine is shared and noisy: read the
ratios, not the absolute figures). ``--sections l1,simulate`` runs a subset; a subset run
writes ``scale_partial.json`` so it never overwrites the full results. ``--cachegrind`` adds
per-get instruction and simulated cache-miss counts at two sizes (``_scale_cachegrind.py``).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import _scale_async
import _scale_cachegrind
import _scale_l1
import _scale_sim
import _scale_threads
from _harness import Options, write_results

SECTIONS: dict[str, Callable[[Options], list[dict[str, Any]]]] = {
    "l1": _scale_l1.run,
    "simulate": _scale_sim.run,
    "async": _scale_async.run,
    "threads": _scale_threads.run,
}
#: Optional (`--cachegrind`): instruction and cache-miss counts per get, a few minutes.
OPTIONAL = {"cachegrind": _scale_cachegrind.run}


def parse(argv: Sequence[str] | None = None) -> tuple[Options, list[str]]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke test under a minute")
    parser.add_argument("--rounds", type=int, default=None, help="interleaved rounds (>= 5)")
    parser.add_argument("--n", type=int, default=None, help="L1 operations per timed run")
    parser.add_argument("--seed", type=int, default=12345)
    parser.add_argument(
        "--sections", default=",".join(SECTIONS), help=f"comma-separated, of {list(SECTIONS)}"
    )
    parser.add_argument(
        "--cachegrind", action="store_true", help="add the cachegrind counts (a few minutes)"
    )
    args = parser.parse_args(argv)
    sections = [s.strip() for s in args.sections.split(",") if s.strip()]
    if args.cachegrind:
        sections.append("cachegrind")
    unknown = [s for s in sections if s not in SECTIONS and s not in OPTIONAL]
    if unknown or not sections:
        parser.error(f"unknown section(s) {unknown}; known: {[*SECTIONS, *OPTIONAL]}")
    rounds = args.rounds or (5 if args.quick else 9)
    if rounds < 5:
        parser.error("the protocol asks for at least 5 rounds")
    n = args.n or (20_000 if args.quick else 200_000)
    if n < 1_000:
        parser.error("--n must be at least 1000")
    return Options(quick=args.quick, rounds=rounds, warmup=1, n=n, seed=args.seed), sections


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def main(argv: Sequence[str] | None = None) -> int:
    opts, sections = parse(argv)
    rows: list[dict[str, Any]] = []
    summary: dict[str, Any] = {"quick": opts.quick, "rounds": opts.rounds, "sections": {}}
    for name in sections:
        before, started = load(), time.monotonic()
        print(f"\n=== {name} (load average {before}) ===", flush=True)
        section_rows = {**SECTIONS, **OPTIONAL}[name](opts)
        seconds = round(time.monotonic() - started, 1)
        after = load()
        for row in section_rows:
            row.setdefault("params", {})["section_load_average_before_after"] = [before, after]
        rows += section_rows
        summary["sections"][name] = {
            "seconds": seconds,
            "load_average_1_5_15_before": before,
            "load_average_1_5_15_after": after,
        }
        print(f"=== {name}: {seconds} s (load average {after}) ===", flush=True)
    rows.append({"case": "scale/summary", "impl": "-", "n": None, "params": summary})
    if sections == ["cachegrind"]:
        name = "scale_cachegrind"
    elif not set(SECTIONS) <= set(sections):
        name = "scale_partial"
    else:
        name = "scale_quick" if opts.quick else "scale"
    print(f"\nwrote {write_results(name, rows)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
