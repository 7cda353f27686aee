"""L1 peer comparison: get/set/miss, decorator hits and memory per entry -> bench/results/l1.json.

Every implementation sees the same 100k keys ("user:<id>"), the same value objects and the
same seeded Zipf(0.99) access sequence. Hit and overwrite cases give every implementation the
same capacity, twice the key count, so all keys fit. Run with --quick for a run under a minute.
"""

from __future__ import annotations

import asyncio
import functools
import sys
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import bench_memory
import cachebox
import cachetools
import lru
import theine
from _harness import (
    Case,
    Options,
    async_loop1,
    async_loop2,
    close_loop,
    empty_loop,
    key_of,
    parse_options,
    print_table,
    run_case,
    sync_loop1,
    sync_loop2,
    with_load_average,
    write_results,
    zipf_ids,
)
from aiocache import SimpleMemoryCache
from aiocache import cached as aiocache_cached
from cashews import Cache as CashewsCache

import stratacache

N_KEYS = 100_000
TTL_S = 3600  # long enough that nothing expires during a run, for the TTL-capable peers
OURS = f"stratacache Cache ({stratacache.DEFAULT_POLICY})"
OURS_ASYNC = f"stratacache AsyncCache ({stratacache.DEFAULT_POLICY})"


class Data:
    """The keys, values and access sequences every implementation shares."""

    def __init__(self, opts: Options) -> None:
        self.keys = [key_of(i) for i in range(N_KEYS)]
        self.values = [f"value:{i}" for i in range(N_KEYS)]
        self.capacity = 2 * N_KEYS
        ids = zipf_ids(N_KEYS, opts.n, seed=opts.seed).tolist()
        self.seq = [self.keys[i] for i in ids]
        self.items = [(self.keys[i], self.values[i]) for i in ids]
        self.miss = [key_of(N_KEYS + i) for i in ids]
        n_async = max(opts.n // 8, 5_000)  # the slowest async peers take ~100 us per call
        self.n_async = n_async
        self.aseq, self.aitems, self.amiss = (
            self.seq[:n_async],
            self.items[:n_async],
            self.miss[:n_async],
        )
        # Decorator arguments: a from the key sequence, b from a second Zipf stream over 100.
        b_ids = zipf_ids(100, opts.n, seed=opts.seed + 1).tolist()
        self.pairs = list(zip(ids, b_ids, strict=True))
        self.apairs = self.pairs[:n_async]
        self.pair_capacity = 2 * len(set(self.pairs))


def sync_stores(data: Data) -> dict[str, Any]:
    """One instance of every synchronous store, ours first, each bounded at data.capacity."""
    cap = data.capacity
    stores: dict[str, Any] = {OURS: stratacache.Cache(max_entries=cap)}
    for policy in stratacache.POLICIES:
        if policy != stratacache.DEFAULT_POLICY:
            stores[f"stratacache Cache ({policy})"] = stratacache.Cache(
                max_entries=cap, policy=policy
            )
    stores["cachetools.LRUCache"] = cachetools.LRUCache(cap)
    stores["cachetools.TTLCache"] = cachetools.TTLCache(cap, TTL_S)
    stores["cachebox.LRUCache"] = cachebox.LRUCache(cap)
    stores["theine.Cache"] = theine.Cache(cap)
    stores["theine.Cache (nolock)"] = theine.Cache(cap, nolock=True)
    stores["lru-dict LRU"] = lru.LRU(cap)
    return stores


def setter_of(store: Any) -> Callable[[Any, Any], Any]:
    """The plain set call of a store: ours and theine have set(), the rest are mappings."""
    if isinstance(store, stratacache.Cache | theine.Cache):
        return store.set
    return store.__setitem__


def fill(store: Any, data: Data) -> Any:
    set_ = setter_of(store)
    for k, v in zip(data.keys, data.values, strict=True):
        set_(k, v)
    return store


def store_cases(data: Data, n: int) -> list[Case]:
    """get-hit, get-miss and set-overwrite on full-size stores; set-insert-full on small ones."""
    params = {"keys": N_KEYS, "zipf": 0.99, "capacity": data.capacity}
    hit = Case("get-hit", n, params=params)
    miss = Case("get-miss", n, params=params)
    over = Case("set-overwrite", n, params=params)
    for name, store in sync_stores(data).items():
        fill(store, data)
        hit.add(name, sync_loop1(store.get, data.seq), ours=name == OURS)
        miss.add(name, sync_loop1(store.get, data.miss), ours=name == OURS)
        over.add(name, sync_loop2(setter_of(store), data.items), ours=name == OURS)
    lookup = dict(zip(data.keys, data.values, strict=True))
    cached_fn = functools.lru_cache(maxsize=data.capacity)(lookup.__getitem__)
    for k in data.keys:
        cached_fn(k)
    hit.add("functools.lru_cache (cached fn of key)", sync_loop1(cached_fn, data.seq))
    for case, run in (
        (hit, sync_loop1(lookup.get, data.seq)),
        (miss, sync_loop1(lookup.get, data.miss)),
        (over, sync_loop2(lookup.__setitem__, data.items)),
    ):
        case.add("(floor) dict, unbounded", run)
    hit.add("(floor) loop only", empty_loop(data.seq))
    return [hit, miss, over, insert_full_case(data, n)]


def insert_full_case(data: Data, n: int) -> Case:
    """set of keys not present into a full cache, so that (almost) every set evicts.

    The keys cycle through all 100k keys in order with capacity 50k: under LRU each one was
    evicted 50k sets ago. Each runner keeps its own position, so all see the same stream.
    """
    cap = N_KEYS // 2
    case = Case("set-insert-full", n, params={"keys": N_KEYS, "capacity": cap, "order": "cyclic"})
    pool = list(zip(data.keys, data.values, strict=True))
    for name in sync_stores(data):
        store = _small_store(name, cap)
        set_ = setter_of(store)
        for k, v in pool[cap:]:
            set_(k, v)
        case.add(name, _cyclic_runner(set_, pool, n), ours=name == OURS)
    return case


def _small_store(name: str, cap: int) -> Any:
    if name.startswith("stratacache"):
        policy = name.split("(")[1].rstrip(")")
        return stratacache.Cache(max_entries=cap, policy=policy)
    factories: dict[str, Callable[[], Any]] = {
        "cachetools.LRUCache": lambda: cachetools.LRUCache(cap),
        "cachetools.TTLCache": lambda: cachetools.TTLCache(cap, TTL_S),
        "cachebox.LRUCache": lambda: cachebox.LRUCache(cap),
        "theine.Cache": lambda: theine.Cache(cap),
        "theine.Cache (nolock)": lambda: theine.Cache(cap, nolock=True),
        "lru-dict LRU": lambda: lru.LRU(cap),
    }
    return factories[name]()


def _cyclic_runner(
    set_: Callable[[Any, Any], Any], pool: list[tuple[str, str]], n: int
) -> Callable[[], int]:
    position = 0

    def run() -> int:
        nonlocal position
        batch = [pool[(position + i) % len(pool)] for i in range(n)]
        position = (position + n) % len(pool)
        return sync_loop2(set_, batch)()

    return run


def async_store_cases(data: Data, loop: asyncio.AbstractEventLoop) -> list[Case]:
    """Our AsyncCache against the asyncio caches, awaited one operation at a time."""
    n = data.n_async
    params = {"keys": N_KEYS, "zipf": 0.99, "capacity": data.capacity}
    hit = Case("async-get-hit", n, params=params)
    miss = Case("async-get-miss", n, params=params)
    over = Case("async-set-overwrite", n, params=params)
    ours = stratacache.AsyncCache(max_entries=data.capacity)
    cashews = CashewsCache()
    cashews.setup("mem://", size=data.capacity)
    # timeout=None: aiocache's default 5 s timeout wraps every call in asyncio.wait_for.
    aio = SimpleMemoryCache(timeout=None)
    for name, store in (
        (OURS_ASYNC, ours),
        ("cashews mem://", cashews),
        ("aiocache SimpleMemoryCache", aio),
    ):
        for k, v in zip(data.keys, data.values, strict=True):
            loop.run_until_complete(store.set(k, v))
        hit.add(name, async_loop1(loop, store.get, data.aseq), ours=store is ours)
        miss.add(name, async_loop1(loop, store.get, data.amiss), ours=store is ours)
        over.add(name, async_loop2(loop, store.set, data.aitems), ours=store is ours)
    lookup = dict(zip(data.keys, data.values, strict=True))

    async def bare_get(key: str) -> Any:
        return lookup.get(key)

    async def bare_set(key: str, value: Any) -> None:
        lookup[key] = value

    hit.add("(floor) await bare async def: dict.get", async_loop1(loop, bare_get, data.aseq))
    miss.add("(floor) await bare async def: dict.get", async_loop1(loop, bare_get, data.amiss))
    over.add("(floor) await bare async def: dict set", async_loop2(loop, bare_set, data.aitems))
    return [hit, miss, over]


def _add(a: int, b: int) -> int:
    return a * 1000 + b


def decorator_cases(data: Data, loop: asyncio.AbstractEventLoop) -> list[Case]:
    """Hits of a cached f(a, b), sync and async; every wrapper is warmed on all pairs first."""
    if not hasattr(stratacache, "cache"):
        print("stratacache.cache is not available yet: decorator cases skipped", file=sys.stderr)
        return []
    return [_sync_decorator_case(data), _async_decorator_case(data, loop)]


def _sync_decorator_case(data: Data) -> Case:
    cap = data.pair_capacity
    case = Case("decorator-hit", len(data.pairs), params={"capacity": cap, "args": 2})
    stratacache.configure(max_entries=cap)
    wrappers: dict[str, Callable[[int, int], int]] = {
        "@stratacache.cache": stratacache.cache(_add),
        "@Cache().cache()": stratacache.Cache(max_entries=cap).cache()(_add),
        "functools.lru_cache": functools.lru_cache(maxsize=cap)(_add),
        "cachetools.cached(LRUCache)": cachetools.cached(cachetools.LRUCache(cap))(_add),
        "cachebox.cached(LRUCache)": cachebox.cached(cachebox.LRUCache(cap))(_add),
        "theine.Memoize": theine.Memoize(cap, None)(_add),
    }
    for name, wrapper in wrappers.items():
        for a, b in data.pairs:
            wrapper(a, b)
        case.add(name, sync_loop2(wrapper, data.pairs), ours=name == "@stratacache.cache")
    case.add("(floor) uncached call", sync_loop2(_add, data.pairs))
    return case


def _async_decorator_case(data: Data, loop: asyncio.AbstractEventLoop) -> Case:
    cap = data.pair_capacity
    n = len(data.apairs)
    case = Case("async-decorator-hit", n, params={"capacity": cap, "args": 2})

    async def add(a: int, b: int) -> int:
        return a * 1000 + b

    # A fresh default cache: left holding the sync case's entries, its table would be several
    # times larger than the other caches' and lose on memory locality alone.
    stratacache.configure(max_entries=cap)
    cashews = CashewsCache()
    cashews.setup("mem://", size=cap)
    wrappers: dict[str, Callable[[int, int], Any]] = {
        "@stratacache.cache (async)": stratacache.cache(add),
        "@AsyncCache().cache()": stratacache.AsyncCache(max_entries=cap).cache()(add),
        "cashews @cache(mem://)": cashews(ttl=timedelta(seconds=TTL_S))(add),
        "aiocache @cached": aiocache_cached(ttl=TTL_S, timeout=None)(add),
        "cachebox.cached (async)": cachebox.cached(cachebox.LRUCache(cap))(add),
        "theine.Memoize (async)": theine.Memoize(cap, None)(add),
    }
    for name, wrapper in wrappers.items():
        for a, b in data.apairs:
            loop.run_until_complete(_call(wrapper, a, b))
        case.add(
            name, async_loop2(loop, wrapper, data.apairs), ours=name == "@stratacache.cache (async)"
        )
    table = {(a, b): a * 1000 + b for a, b in data.apairs}

    async def bare(a: int, b: int) -> int:
        return table[a, b]

    case.add("(target) await bare async def: dict lookup", async_loop2(loop, bare, data.apairs))
    return case


async def _call(wrapper: Callable[[int, int], Any], a: int, b: int) -> Any:
    return await wrapper(a, b)


TARGETS = (
    # (label, case, peer row, the ratio peer/ours must be at least this)
    ("get-hit time <= cachebox's", "get-hit", "cachebox.LRUCache", 1.0),
    ("sync decorator hit >= 5x faster than cachetools", "decorator-hit", "cachetools.cached", 5.0),
    (
        "async decorator hit <= 2x a bare awaited dict lookup",
        "async-decorator-hit",
        "(target)",
        0.5,
    ),
    ("memory per entry <= cachebox's", "memory-per-entry", "cachebox.LRUCache", 1.0),
    (
        "memory per entry, 32-char keys, <= cachebox's",
        "memory-per-entry-long-keys",
        "cachebox.LRUCache",
        1.0,
    ),
)


def print_targets(rows: list[dict[str, Any]]) -> None:
    """Prints each target of issue #3 as met or missed, with the ratio reached."""
    print("\ntargets (issue #3; ratio = peer / ours)")
    for label, case, peer, need in TARGETS:
        row = next((r for r in rows if r["case"] == case and r["impl"].startswith(peer)), None)
        if row is None:
            print(f"  {label:<54} not measured")
            continue
        ratio = row["ratio_vs_ours"]
        verdict = "met" if ratio >= need else "MISSED"
        print(f"  {label:<54} {verdict:<7} {ratio:.2f}x (need >= {need:g}x)")


def main() -> None:
    opts = parse_options(__doc__ or "")
    data = Data(opts)
    loop = asyncio.new_event_loop()
    rows: list[dict[str, Any]] = []
    cases = [
        *store_cases(data, opts.n),
        *async_store_cases(data, loop),
        *decorator_cases(data, loop),
    ]
    for case in cases:
        case_rows = run_case(case, opts)
        with_load_average(case_rows)
        print_table(case_rows)
        rows += case_rows
    for key_len in (0, bench_memory.LONG_KEY):
        memory_rows = bench_memory.measure(
            200_000 if opts.quick else 1_000_000, 1 if opts.quick else 3, key_len
        )
        with_load_average(memory_rows)
        bench_memory.print_rows(memory_rows)
        rows += memory_rows
    close_loop(loop)
    print_targets(rows)
    # A quick run must not overwrite the full results committed next to it.
    path = write_results("l1_quick" if opts.quick else "l1", rows)
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
