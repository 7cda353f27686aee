"""bench_scale's optional section (``--cachegrind``): where a get's cost grows with size.

This VM exposes no hardware counters (``perf stat`` reports cycles and cache misses as "not
supported"), so the cache misses behind the get-hit-uniform curve are counted by valgrind's
cachegrind, which simulates this machine's caches (it reads their sizes from CPUID). A child
process fills one store with N keys and then does K uniform get hits; it runs twice, with K1
and K2 gets (the first-level data cache as CPUID reports it, the last level as `LL_CACHE`), and the difference over K2 - K1 is the cost of one get alone (as
``bench/cpp/instructions_per_op.py`` does with callgrind): instructions (Ir), data reads (Dr),
first-level data read misses (D1mr) and last-level data read misses (DLmr, the trips to DRAM).
The counts do not depend on the machine's load. Slow (the interpreter runs ~50x slower under
valgrind): a few minutes, so it is not part of the default run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from _harness import Options

import stratacache

SIZES = (10_000, 1_000_000)
QUICK_SIZES = (10_000,)
K1, K2 = 20_000, 220_000
EVENTS = ("Ir", "Dr", "D1mr", "DLmr")
#: This machine's L3 (lscpu: 32 MiB, 16-way, 64 B lines). Given explicitly: on this VM
#: cachegrind reads a 512 MiB 2-way last level from CPUID, which no access here would miss.
LL_CACHE = "33554432,16,64"
IMPLS = (f"stratacache Cache ({stratacache.DEFAULT_POLICY})", "stratacache Cache (lru)")
PEERS = ("cachebox.LRUCache", "(floor) dict")
CHILD = """
import sys, random
import cachebox, stratacache
impl, n, k = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
keys = [f"user:{i}" for i in range(n)]
if impl.startswith("stratacache"):
    policy = impl.split("(")[1].rstrip(")")
    store = stratacache.Cache(max_entries=n, policy=policy)
    put = store.set
elif impl.startswith("cachebox"):
    store = cachebox.LRUCache(n)
    put = store.__setitem__
else:
    store = {}
    put = store.__setitem__
for i, key in enumerate(keys):
    put(key, "v")
rng = random.Random(7)
seq = [keys[rng.randrange(n)] for _ in range(K2)]
get = store.get
for key in seq[:k]:
    get(key)
""".replace("K2", str(K2))


def counts(impl: str, n: int, k: int, folder: Path) -> dict[str, int]:
    out = folder / f"cg.{k}.out"
    # One hash seed for both runs: with random ones the fills' probe sequences differ, and at
    # 10^6 entries that difference was larger than the 100k gets being measured.
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    subprocess.run(
        [
            "valgrind",
            "--tool=cachegrind",
            "--cache-sim=yes",
            f"--LL={LL_CACHE}",
            f"--cachegrind-out-file={out}",
            sys.executable,
            "-c",
            CHILD,
            impl,
            str(n),
            str(k),
        ],
        check=True,
        capture_output=True,
        timeout=1200,
        env=env,
    )
    events: list[str] = []
    for line in out.read_text().splitlines():
        if line.startswith("events:"):
            events = line.split()[1:]
        if line.startswith("summary:"):
            return dict(zip(events, map(int, line.split()[1:]), strict=True))
    msg = f"no summary in cachegrind output for {impl}"
    raise RuntimeError(msg)


def per_get(impl: str, n: int) -> dict[str, float]:
    """The two counts run side by side (two processes: the machine has two cores)."""
    with (
        tempfile.TemporaryDirectory(prefix="bench-scale-cg-") as tmp,
        ThreadPoolExecutor(2) as pool,
    ):
        runs = [pool.submit(counts, impl, n, k, Path(tmp)) for k in (K1, K2)]
        low, high = (run.result() for run in runs)
    return {e: round((high[e] - low[e]) / (K2 - K1), 2) for e in EVENTS}


def run(opts: Options) -> list[dict[str, Any]]:
    if shutil.which("valgrind") is None:
        print("valgrind is not installed: the cachegrind section is skipped", file=sys.stderr)
        return []
    rows = []
    for n in QUICK_SIZES if opts.quick else SIZES:
        for impl in (*IMPLS, *PEERS):
            figures = per_get(impl, n)
            print(
                f"  get-hit-uniform@{n:,} {impl:<40} "
                + "  ".join(f"{e} {figures[e]:>8.2f}" for e in EVENTS),
                flush=True,
            )
            rows.append(
                {
                    "case": f"cachegrind/get-hit-uniform@{n}",
                    "impl": impl,
                    "per_op": figures,
                    "n": K2 - K1,
                    "params": {"entries": n, "k1": K1, "k2": K2, "access": "uniform"},
                }
            )
    return rows
