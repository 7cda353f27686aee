"""The disk tier (L3) against diskcache (the Python anchor, SQLite) and raw LMDB (py-lmdb, the
ceiling): get-hit, get-miss and set of 100 B, 10 KB and 1 MB values, in one process and in four
processes on one directory.

"ours" is the tier an L1 miss reaches: `DiskTier.read`/`write` (codec envelope + the C++ store
through the binding). All three store bytes without fsync per write (ours durability="none",
py-lmdb sync=False, diskcache's default WAL + synchronous=NORMAL): the same guarantee, a
process crash loses nothing, a power cut may lose the last writes. Values are random bytes
(incompressible: the codec's compression is tried and skipped, a cost it pays in real use).

Four processes: each runs the same operations on its own keys at once, after a barrier; the
figure is wall time of the slowest / operations of one process (lower is better).

    python bench/py/bench_disk.py [--quick]   ->   bench/results/disk.json
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import diskcache
import lmdb

sys.path.insert(0, str(Path(__file__).parent))
from _harness import (
    RESULTS_DIR,
    Case,
    Options,
    parse_options,
    print_table,
    run_case,
    with_load_average,
    write_results,
)

import stratacache
from stratacache.tiers.disk.tier import DiskTier

MAX_BYTES = 1 << 30
SIZES = {"100B": 100, "10KB": 10_000, "1MB": 1_000_000}
IMPLS = ("stratacache", "diskcache", "lmdb (raw)")


def ops_for(size: int, opts: Options) -> int:
    base = 2_000 if opts.quick else 10_000
    return max(50, min(base, (200 << 20) // (size * 4)))


class Target:
    """One implementation opened on a directory: get(key), set(key, value)."""

    def __init__(self, impl: str, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        if impl == "stratacache":
            tier = DiskTier(
                stratacache.DiskOptions(path, max_bytes=MAX_BYTES, durability="none"),
                stratacache.Codec(),
            )
            self.get: Callable[[str], Any] = lambda k: tier.read("", k)
            self.set: Callable[[str, bytes], Any] = lambda k, v: tier.write("", k, v, 3600.0)
        elif impl == "diskcache":
            dc = diskcache.Cache(str(path), size_limit=MAX_BYTES)
            self.get = dc.get
            self.set = lambda k, v: dc.set(k, v, expire=3600)
        else:
            env = lmdb.open(str(path), map_size=2 * MAX_BYTES, sync=False, metasync=False)

            def get(k: str) -> Any:
                with env.begin(buffers=False) as txn:
                    return txn.get(k.encode())

            def put(k: str, v: bytes) -> Any:
                with env.begin(write=True) as txn:
                    return txn.put(k.encode(), v)

            self.get, self.set = get, put


def loop(op: Callable[..., Any], calls: list[tuple[Any, ...]]) -> int:
    t0 = time.perf_counter_ns()
    for c in calls:
        op(*c)
    return time.perf_counter_ns() - t0


def prepare(impl: str, root: Path, size: int, n: int, prefix: str) -> Target:
    target = Target(impl, root / impl.split(maxsplit=1)[0])
    value = os.urandom(size)
    for i in range(n):
        target.set(f"{prefix}hit{i}", value)
    return target


def one_process_runner(target: Target, kind: str, size: int, n: int, prefix: str):
    value = os.urandom(size)
    if kind == "get-hit":
        return lambda: loop(target.get, [(f"{prefix}hit{i}",) for i in range(n)])
    if kind == "get-miss":
        return lambda: loop(target.get, [(f"{prefix}miss{i}",) for i in range(n)])
    return lambda: loop(target.set, [(f"{prefix}set{i}", value) for i in range(n)])


def _worker(  # noqa: PLR0917 - multiprocessing passes arguments by position
    impl: str, root: str, kind: str, size: int, n: int, w: int, barrier: Any, q: Any
) -> None:
    prefix = f"w{w}-"
    target = prepare(impl, Path(root), size, n if kind == "get-hit" else 0, prefix)
    run = one_process_runner(target, kind, size, n, prefix)
    run()  # warm-up
    barrier.wait(timeout=120)
    q.put(run())


def four_process_runner(impl: str, root: Path, kind: str, size: int, n: int):
    ctx = mp.get_context("fork")

    def run() -> int:
        barrier, q = ctx.Barrier(4), ctx.Queue()
        procs = [
            ctx.Process(target=_worker, args=(impl, str(root), kind, size, n, w, barrier, q))
            for w in range(4)
        ]
        for p in procs:
            p.start()
        times = [q.get(timeout=300) for _ in procs]
        for p in procs:
            p.join(timeout=60)
        return max(times)

    return run


def _other_rows() -> list[dict[str, Any]]:
    """The rows other benchmarks keep in disk.json (bench_chain_order.py's), left as they are."""
    path = RESULTS_DIR / "disk.json"
    if not path.exists():
        return []
    return [r for r in json.loads(path.read_text()) if r["case"].startswith("chain_order")]


def main() -> None:
    opts = parse_options(__doc__ or "")
    root = Path(tempfile.mkdtemp(prefix="bench_disk_"))
    rows: list[dict[str, Any]] = []
    try:
        for label, size in SIZES.items():
            n = ops_for(size, opts)
            for kind in ("get-hit", "get-miss", "set"):
                case = Case(f"{kind} {label} 1 process", n, params={"value_bytes": size})
                for impl in IMPLS:
                    target = prepare(impl, root / "p1" / label / kind, size, n, "")
                    case.add(
                        impl,
                        one_process_runner(target, kind, size, n, ""),
                        ours=impl == "stratacache",
                    )
                case_rows = run_case(case, opts)
                with_load_average(case_rows)
                rows += case_rows
                case4 = Case(f"{kind} {label} 4 processes", n, params={"value_bytes": size})
                for impl in IMPLS:
                    d = root / "p4" / label / kind
                    case4.add(
                        impl,
                        four_process_runner(impl, d, kind, size, n),
                        ours=impl == "stratacache",
                    )
                quick4 = Options(opts.quick, 5, 0, opts.n, opts.seed)
                case_rows = run_case(case4, quick4)
                with_load_average(case_rows)
                rows += case_rows
                print_table(rows[-6:])
    finally:
        shutil.rmtree(root, ignore_errors=True)
    path = write_results("disk", rows + _other_rows())
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
