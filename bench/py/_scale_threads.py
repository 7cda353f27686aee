"""bench_scale section 4: one cache used from one and from two threads.

100k keys ("user:<id>"), capacity 200k, the bench_l1 Zipf(0.99) stream. A run starts its
threads, releases them together through a barrier and times until the last one is done; each
thread takes every k-th operation of the shared stream (count-bounded; a thread still running
after `JOIN_SECONDS` fails the run). The time is for all operations, so ns/op from 2 threads
below the 1-thread figure would mean the threads overlap.

* ``get-hit``: every thread calls ``get`` on present keys;
* ``get+set``: one thread ``get``s while the other ``set``s present keys (an overwrite), and
  the 1-thread run alternates the two, so both do the same operations.

Contenders: our ``Cache`` with its default shards (1) and with ``shards=2``, and
``cachebox.LRUCache``, each with 1 and with 2 threads, all interleaved in one case. Every call
of these stores holds the GIL, so a second thread can add only switching cost; the rows show
how much (`scaling_2t_over_1t` = 2-thread throughput / 1-thread throughput). The timed figure
is wall time (throughput is what a thread count buys); `process_cpu_ns_per_op` is the process's
CPU time per operation over the same span, the steadier figure on a loaded machine (a thread
waiting for the GIL sleeps, so switching costs show there only as the switches' own work).
"""

from __future__ import annotations

import statistics
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import cachebox
from _harness import Case, Options, key_of, print_table, run_case, with_load_average, zipf_ids
from _scale_l1 import setter_of

import stratacache

N_KEYS = 100_000
OPS = 1_000_000
QUICK_OPS = 40_000
JOIN_SECONDS = 60.0
OURS = f"stratacache Cache ({stratacache.DEFAULT_POLICY}, shards=1)"
OURS_2 = f"stratacache Cache ({stratacache.DEFAULT_POLICY}, shards=2)"
CACHEBOX = "cachebox.LRUCache"

Work = Callable[[], None]


def threaded(works: list[Work], cpu: list[int]) -> Callable[[], int]:
    """A runner starting one thread per work, timing from their common start to the last end;
    the process's CPU time over the same span goes to `cpu`."""

    def run() -> int:
        barrier = threading.Barrier(len(works) + 1)
        errors: list[BaseException] = []

        def body(work: Work) -> None:
            barrier.wait()
            try:
                work()
            except BaseException as exc:  # noqa: BLE001 - reported by the timing thread
                errors.append(exc)

        threads = [threading.Thread(target=body, args=(w,), daemon=True) for w in works]
        for t in threads:
            t.start()
        barrier.wait()
        t0, c0 = time.perf_counter_ns(), time.process_time_ns()
        deadline = time.monotonic() + JOIN_SECONDS
        for t in threads:
            t.join(max(0.0, deadline - time.monotonic()))
        elapsed = time.perf_counter_ns() - t0
        cpu.append(time.process_time_ns() - c0)
        if errors or any(t.is_alive() for t in threads):
            msg = f"a benchmark thread failed or overran {JOIN_SECONDS} s: {errors}"
            raise RuntimeError(msg)
        return elapsed

    return run


def gets(get: Callable[[str], Any], keys: list[str]) -> Work:
    def work() -> None:
        for k in keys:
            get(k)

    return work


def sets(set_: Callable[[str, Any], Any], items: list[tuple[str, Any]]) -> Work:
    def work() -> None:
        for k, v in items:
            set_(k, v)

    return work


def alternating(
    get: Callable[[str], Any],
    set_: Callable[[str, Any], Any],
    keys: list[str],
    items: list[tuple[str, Any]],
) -> Work:
    def work() -> None:
        for k, (sk, sv) in zip(keys, items, strict=True):
            get(k)
            set_(sk, sv)

    return work


def stores() -> dict[str, tuple[Any, Callable[[str, Any], Any]]]:
    keys = [key_of(i) for i in range(N_KEYS)]
    out: dict[str, tuple[Any, Callable[[str, Any], Any]]] = {}
    for name, store in (
        (OURS, stratacache.Cache(max_entries=2 * N_KEYS)),
        (OURS_2, stratacache.Cache(max_entries=2 * N_KEYS, shards=2)),
        (CACHEBOX, cachebox.LRUCache(2 * N_KEYS)),
    ):
        set_ = setter_of(store)
        for i, k in enumerate(keys):
            set_(k, f"value:{i}")
        out[name] = (store, set_)
    return out


CpuTimes = dict[str, list[int]]


def build_cases(opts: Options, cpu: CpuTimes) -> list[Case]:
    n = QUICK_OPS if opts.quick else OPS
    ids = zipf_ids(N_KEYS, n, seed=opts.seed).tolist()
    seq = [key_of(i) for i in ids]
    items = [(key_of(i), f"value:{i}") for i in ids]
    params = {"keys": N_KEYS, "capacity": 2 * N_KEYS, "zipf": 0.99}
    params["switch_interval_s"] = sys.getswitchinterval()
    hit = Case("threads/get-hit", n, params=params, reference=f"{OURS}, 1 thread")
    half = n // 2
    mixed = Case("threads/get+set", 2 * half, params=params, reference=f"{OURS}, 1 thread")

    def add(case: Case, name: str, works: list[Work]) -> None:
        case.add(name, threaded(works, cpu.setdefault(f"{case.name}:{name}", [])))

    for name, (store, set_) in stores().items():
        get = store.get
        add(hit, f"{name}, 1 thread", [gets(get, seq)])
        add(hit, f"{name}, 2 threads", [gets(get, seq[0::2]), gets(get, seq[1::2])])
        writes = items[half : 2 * half]
        add(mixed, f"{name}, 1 thread", [alternating(get, set_, seq[:half], writes)])
        add(mixed, f"{name}, 2 threads", [gets(get, seq[:half]), sets(set_, writes)])
    return [hit, mixed]


def with_scaling(rows: list[dict[str, Any]]) -> None:
    """scaling_2t_over_1t: 2-thread throughput / 1-thread throughput of the same store."""
    by_name = {r["impl"]: r["median_ns"] for r in rows}
    for r in rows:
        base, _, threads = r["impl"].rpartition(", ")
        if threads == "2 threads" and f"{base}, 1 thread" in by_name:
            r["params"]["scaling_2t_over_1t"] = round(
                by_name[f"{base}, 1 thread"] / r["median_ns"], 3
            )


def run(opts: Options) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    cpu: CpuTimes = {}
    for case in build_cases(opts, cpu):
        case_rows = run_case(case, opts)
        with_load_average(case_rows)
        with_scaling(case_rows)
        for r in case_rows:
            spent = cpu[f"{case.name}:{r['impl']}"][opts.warmup :]
            r["params"]["process_cpu_ns_per_op"] = round(statistics.median(spent) / case.n, 2)
        print_table(case_rows)
        for r in case_rows:
            p = r["params"]
            if "scaling_2t_over_1t" in p:
                print(
                    f"    {r['impl']}: throughput 2 threads / 1 thread {p['scaling_2t_over_1t']:.2f}x"
                )
        rows += case_rows
    return rows
