"""bench_scale section 1: L1 get/set cost and memory per entry from 10^3 to 10^7 entries.

At each size N every store gets capacity N and is filled with the N keys ``"user:<i>"`` (so
it is exactly full and nothing is evicted), values taken from a pool of 1,024 shared strings
(their bytes are not the stores'). Then, interleaved as in ``bench_l1.py``:

* ``get-hit-zipf``: Zipf(0.99) over the N keys; ``get-hit-uniform``: uniform over them (the
  memory hierarchy's case: at 10^7 nearly every lookup leaves the CPU caches);
* ``get-miss``: absent keys, same Zipf ids; ``set-overwrite``: present keys, Zipf ids;
* ``set-insert-full``: keys never seen, in order, so every set inserts and evicts one entry.

Memory per entry: the resident set size before and after a store's fill, divided by N (our
rows also net of the key's UTF-8 bytes, which the store copies, and the store's own account).
Below 10^5 entries it is page-granular noise. All stores of a size live at once when they fit
in ``BUDGET_BYTES`` (and leave ``RESERVE_BYTES`` of the machine's available memory to others);
otherwise each policy runs in its own group beside fresh peers, and a peer that would not fit
is skipped and named in the summary row.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import cachebox
import numpy as np
from _harness import (
    Case,
    Options,
    key_of,
    print_table,
    run_case,
    with_load_average,
    zipf_ids,
)

import stratacache

SIZES = (10**3, 10**4, 10**5, 10**6, 10**7)
QUICK_SIZES = (10**3, 10**4, 10**5)
VALUE_POOL = 1024
BUDGET_BYTES = 6 * 2**30  # this process's own ceiling (the machine is shared)
RESERVE_BYTES = 3 * 2**30  # of MemAvailable, left to the other processes
GUESS_BYTES = {"ours": 300.0, "cachebox": 200.0, "dict": 120.0}  # before any size is measured
GROWTH_MARGIN = 1.3  # per-entry cost measured at N, times this, is the guess at 10 N
CACHEBOX = "cachebox.LRUCache"
FLOOR = "(floor) dict"
OPS = ("get-hit-zipf", "get-hit-uniform", "get-miss", "set-overwrite", "set-insert-full")


def ours_name(policy: str) -> str:
    return f"stratacache Cache ({policy})"


@dataclass(frozen=True)
class Spec:
    """One store of a group: its row name, its kind and (ours) its policy."""

    name: str
    kind: str  # "ours", "cachebox" or "dict"
    policy: str = ""


# -- memory ------------------------------------------------------------------------------------
_LIBC = ctypes.CDLL(None)


def rss_bytes() -> int:
    with open("/proc/self/statm", encoding="ascii") as f:  # noqa: PTH123
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def mem_available() -> int:
    with open("/proc/meminfo", encoding="ascii") as f:  # noqa: PTH123
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return 0


def release() -> None:
    """Frees what the last group held: unfreeze (run_case froze it), collect, trim the heap."""
    gc.unfreeze()
    gc.collect()
    with contextlib.suppress(AttributeError):  # not glibc
        _LIBC.malloc_trim(0)


# -- data --------------------------------------------------------------------------------------
@dataclass
class SizeData:
    """The keys of one size and the access sequences every store shares."""

    entries: int
    ops: int  # per timed run
    keys: list[str]
    pool: list[str]
    hit_zipf: list[str]
    hit_uniform: list[str]
    miss: list[str]
    overwrite: list[tuple[str, str]]
    fresh: list[tuple[str, str]]  # the insert-full stream, long enough for every run
    key_bytes: float = field(default=0.0)


def ops_at(entries: int, n: int) -> int:
    """Operations per timed run at a size: fewer where each costs a trip to DRAM and the
    fill dominates the run time (n/4 at 10^6 entries, n/10 at 10^7)."""
    divisor = 1 if entries <= 100_000 else 4 if entries <= 1_000_000 else 10
    return max(1_000, n // divisor)


def size_data(entries: int, opts: Options) -> SizeData:
    ops = ops_at(entries, opts.n)
    keys = [key_of(i) for i in range(entries)]
    pool = [f"value:{i}" for i in range(VALUE_POOL)]
    ids = zipf_ids(entries, ops, seed=opts.seed).tolist()
    uniform = np.random.default_rng(opts.seed + 1).integers(0, entries, ops).tolist()
    runs = opts.warmup + opts.rounds
    fresh_ids = range(2 * entries, 2 * entries + runs * ops)
    return SizeData(
        entries=entries,
        ops=ops,
        keys=keys,
        pool=pool,
        hit_zipf=[keys[i] for i in ids],
        hit_uniform=[keys[i] for i in uniform],
        miss=[key_of(entries + i) for i in ids],
        overwrite=[(keys[i], pool[i % VALUE_POOL]) for i in ids],
        fresh=[(key_of(i), pool[i % VALUE_POOL]) for i in fresh_ids],
        key_bytes=statistics.fmean(len(k.encode()) for k in keys[-1000:]),
    )


def build(spec: Spec, entries: int) -> Any:
    if spec.kind == "ours":
        return stratacache.Cache(max_entries=entries, policy=spec.policy)
    if spec.kind == "cachebox":
        return cachebox.LRUCache(entries)
    return {}


def setter_of(store: Any) -> Callable[[Any, Any], Any]:
    return store.set if isinstance(store, stratacache.Cache) else store.__setitem__


def filled(spec: Spec, data: SizeData) -> tuple[Any, dict[str, Any]]:
    """The store holding every key of `data`, and what its fill cost in memory and time."""
    release()
    before = rss_bytes()
    started = time.perf_counter_ns()
    store = build(spec, data.entries)
    set_, pool = setter_of(store), data.pool
    for i, k in enumerate(data.keys):
        set_(k, pool[i % VALUE_POOL])
    fill_ns = (time.perf_counter_ns() - started) / data.entries
    per_entry = (rss_bytes() - before) / data.entries
    mem: dict[str, Any] = {
        "rss_per_entry": round(per_entry, 1),
        "fill_ns_per_entry": round(fill_ns, 1),
        "held": len(store),
    }
    if spec.kind == "ours":
        mem["net_of_key_bytes"] = round(per_entry - data.key_bytes, 1)
        mem["accounted_overhead_bytes"] = round(store._store.overhead_bytes() / len(store), 1)
    return store, mem


# -- grouping under the memory budget -----------------------------------------------------------
def plan(entries: int, estimate: dict[str, float]) -> tuple[list[list[Spec]], list[str]]:
    """Groups of stores that live at once at this size, and the peers skipped for memory."""
    ours = [Spec(ours_name(p), "ours", p) for p in stratacache.POLICIES]
    peers = [Spec(CACHEBOX, "cachebox"), Spec(FLOOR, "dict")]
    room = min(BUDGET_BYTES - rss_bytes(), mem_available() - RESERVE_BYTES)

    def need(specs: list[Spec]) -> float:
        return sum(estimate.get(s.name, GUESS_BYTES[s.kind]) * entries for s in specs)

    if need(ours + peers) <= room:
        return [ours + peers], []
    kept, skipped = list(peers), []
    while kept and max(need([o, *kept]) for o in ours) > room:
        skipped.append(f"{kept.pop(0).name} at {entries:,} entries")
    if max(need([o]) for o in ours) > room:
        return [], [f"every store at {entries:,} entries (room {room / 2**30:.1f} GiB)"]
    return [[o, *kept] for o in ours], skipped


# -- cases ---------------------------------------------------------------------------------------
def cpu_loop(op: Callable[..., Any], args: list[Any], wall: list[int], *, pairs: bool) -> Any:
    """A runner calling op(x) (op(a, b) with pairs) for each x of args, as the harness's
    sync_loop1/2 do, returning this thread's CPU time; its wall time goes to `wall`.

    On a shared machine a descheduled slice lands in the wall time of whichever store was
    running; the thread's CPU time leaves it out (cache misses and all the work stay in)."""

    def run() -> int:
        w0, c0 = time.perf_counter_ns(), time.thread_time_ns()
        if pairs:
            for a, b in args:
                op(a, b)
        else:
            for x in args:
                op(x)
        cpu = time.thread_time_ns() - c0
        wall.append(time.perf_counter_ns() - w0)
        return cpu

    return run


def insert_runner(
    set_: Callable[[Any, Any], Any], fresh: list[tuple[str, str]], n: int, wall: list[int]
) -> Any:
    """Each call sets the next `n` never-seen keys; fails rather than reuse one."""
    position = 0

    def run() -> int:
        nonlocal position
        if position + n > len(fresh):
            msg = "the insert-full stream is exhausted: more runs than planned"
            raise RuntimeError(msg)
        batch = fresh[position : position + n]
        position += n
        return int(cpu_loop(set_, batch, wall, pairs=True)())

    return run


Walls = dict[tuple[str, str], list[int]]


def group_cases(
    stores: dict[Spec, tuple[Any, dict[str, Any]]], data: SizeData, n: int, walls: Walls
) -> list[Case]:
    params: dict[str, Any] = {
        "entries": data.entries,
        "capacity": data.entries,
        "value_pool": VALUE_POOL,
    }
    params["clock"] = "thread CPU time (wall time in wall_median_ns)"
    cases = {op: Case(f"l1/{op}@{data.entries}", n, params=dict(params)) for op in OPS}
    cases["get-hit-zipf"].params["access"] = "zipf 0.99"
    cases["get-hit-uniform"].params["access"] = "uniform"
    for spec, (store, _mem) in stores.items():
        set_ = setter_of(store)
        wall = {op: walls.setdefault((op, spec.name), []) for op in OPS}
        runs = {
            "get-hit-zipf": cpu_loop(store.get, data.hit_zipf, wall[OPS[0]], pairs=False),
            "get-hit-uniform": cpu_loop(store.get, data.hit_uniform, wall[OPS[1]], pairs=False),
            "get-miss": cpu_loop(store.get, data.miss, wall[OPS[2]], pairs=False),
            "set-overwrite": cpu_loop(set_, data.overwrite, wall[OPS[3]], pairs=True),
        }
        if spec.kind != "dict":  # a dict has no bound: it would only grow
            runs["set-insert-full"] = insert_runner(set_, data.fresh, n, wall[OPS[4]])
        for op, run in runs.items():
            cases[op].add(spec.name, run, ours=spec.kind == "ours")
    reference = next(s.name for s in stores if s.kind == "ours")
    if any(s.policy == stratacache.DEFAULT_POLICY for s in stores):
        reference = ours_name(stratacache.DEFAULT_POLICY)
    for case in cases.values():
        case.reference = reference
    return [case for case in cases.values() if case.impls]  # insert-full last: it evicts


def with_peer_ratio(rows: list[dict[str, Any]]) -> None:
    """Adds cachebox_over_this (cachebox's time / this row's) to every row of a case."""
    peer = next((r["median_ns"] for r in rows if r["impl"] == CACHEBOX), None)
    for r in rows:
        if peer is not None:
            r["params"]["cachebox_over_this"] = round(peer / r["median_ns"], 3)


# -- one size, all sizes -------------------------------------------------------------------------
def run_group(
    specs: list[Spec], data: SizeData, opts: Options
) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """Fills the group's stores, runs its cases; everything it built is garbage on return."""
    stores = {spec: filled(spec, data) for spec in specs}
    rows: list[dict[str, Any]] = []
    walls: Walls = {}
    for case in group_cases(stores, data, data.ops, walls):
        case_rows = run_case(case, opts)
        with_load_average(case_rows)
        with_peer_ratio(case_rows)
        op = case.name.removeprefix("l1/").partition("@")[0]
        for r in case_rows:
            timed = walls[(op, r["impl"])][opts.warmup :]
            r["params"]["wall_median_ns"] = round(statistics.median(timed) / case.n, 2)
        tag = "+".join(s.policy for s in specs if s.kind == "ours")
        for r in case_rows:
            r["params"]["group"] = tag
        print_table(case_rows)
        rows += case_rows
    return rows, {spec.name: mem for spec, (_store, mem) in stores.items()}


def memory_rows(entries: int, mems: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Resident bytes per entry of each store at this size (median over the groups it was in)."""
    values: list[tuple[str, float, dict[str, Any]]] = []
    for name, runs in mems.items():
        info = {
            "held": min(m["held"] for m in runs),
            "fills": len(runs),
            "fill_ns_per_entry": statistics.median(m["fill_ns_per_entry"] for m in runs),
        }
        values.append((name, statistics.median(m["rss_per_entry"] for m in runs), info))
        if "net_of_key_bytes" in runs[0]:
            info["accounted_overhead_bytes"] = runs[0]["accounted_overhead_bytes"]
            net = statistics.median(m["net_of_key_bytes"] for m in runs)
            values.append((f"{name} net of key bytes", net, {**info, "net": True}))
    reference = f"{ours_name(stratacache.DEFAULT_POLICY)} net of key bytes"
    ours = next((v for name, v, _ in values if name == reference), None)
    return [
        {
            "case": f"l1/rss-per-entry@{entries}",
            "impl": name,
            "median_bytes": round(value, 1),
            "ratio_vs_ours": round(value / ours, 3) if ours else None,
            "n": entries,
            "params": {**info, "entries": entries, "reference": reference},
        }
        for name, value, info in values
    ]


def run_size(
    entries: int, opts: Options, estimate: dict[str, float]
) -> tuple[list[dict[str, Any]], list[str]]:
    started = time.monotonic()
    data = size_data(entries, opts)
    groups, skipped = plan(entries, estimate)
    print(f"\n--- {entries:,} entries: {len(groups)} group(s), skipped {skipped or 'none'}")
    rows: list[dict[str, Any]] = []
    mems: dict[str, list[dict[str, Any]]] = {}
    for specs in groups:
        group_rows, group_mems = run_group(specs, data, opts)
        release()
        rows += group_rows
        for name, mem in group_mems.items():
            mems.setdefault(name, []).append(mem)
    if mems:
        mem_rows = memory_rows(entries, mems)
        print_table(mem_rows)
        rows += mem_rows
    if entries >= 100_000:  # below, the RSS delta is page noise: keep the guesses
        for name, runs in mems.items():
            measured = statistics.median(m["rss_per_entry"] for m in runs)
            estimate[name] = max(measured, 1.0) * GROWTH_MARGIN
    print(f"--- {entries:,} entries: {time.monotonic() - started:.0f} s")
    return rows, skipped


def curves(rows: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, float]]]:
    """op -> impl -> entries -> ns/op (bytes/entry for memory), every size that ran; a peer
    measured in several groups (one per policy) gets its median. Also "<op> vs cachebox":
    policy -> entries -> cachebox's time / ours, each from the same group."""
    points: dict[str, dict[str, dict[str, list[float]]]] = {}
    for r in rows:
        op, _, entries = r["case"].removeprefix("l1/").partition("@")
        value = float(r["median_ns"] if "median_ns" in r else r["median_bytes"])
        points.setdefault(op, {}).setdefault(r["impl"], {}).setdefault(entries, []).append(value)
        ratio = r["params"].get("cachebox_over_this")
        if ratio is not None and r["impl"].startswith("stratacache"):
            vs = points.setdefault(f"{op} vs cachebox", {}).setdefault(r["impl"], {})
            vs.setdefault(entries, []).append(ratio)
    return {
        op: {
            impl: {n: round(statistics.median(v), 3) for n, v in by_size.items()}
            for impl, by_size in impls.items()
        }
        for op, impls in points.items()
    }


def print_curves(table: dict[str, dict[str, dict[str, float]]]) -> None:
    for op, impls in table.items():
        sizes = sorted({int(s) for points in impls.values() for s in points})
        unit = {"rss-per-entry": "B/entry"}.get(op, "x" if "vs" in op else "ns/op")
        print(f"\n{op} ({unit})".ljust(52) + "".join(f"{s:>10.0e}" for s in sizes))
        for impl, points in impls.items():
            cells = "".join(
                f"{points[str(s)]:>10.1f}" if str(s) in points else f"{'-':>10}" for s in sizes
            )
            print(f"  {impl:<48}{cells}")


def run(opts: Options) -> list[dict[str, Any]]:
    estimate: dict[str, float] = {}
    rows: list[dict[str, Any]] = []
    skipped: list[str] = []
    for entries in QUICK_SIZES if opts.quick else SIZES:
        size_rows, size_skipped = run_size(entries, opts, estimate)
        rows += size_rows
        skipped += size_skipped
    table = curves(rows)
    print_curves(table)
    summary = {"skipped_for_memory": skipped, "curves": table, "budget_bytes": BUDGET_BYTES}
    rows.append({"case": "l1/summary", "impl": "-", "n": None, "params": summary})
    return rows
