"""Cost of the engine's statistics: L1 get-hit with latency timing off, sampled and on, and a
Redis get with and without timing -> bench/results/stats.json.

Per-namespace counters are always on (they replaced the per-shard ones, one increment per
call either way); what `timing=` adds is measured here against the same cache without it, in
one process, interleaved, with cachetools and a bare dict as peers and floor. The Redis case
needs a redis-server on PATH (it starts one on a free loopback port). Run with --quick for a
run under a minute.
"""

from __future__ import annotations

import cachebox
import cachetools
from _harness import (
    Case,
    key_of,
    parse_options,
    print_table,
    run_case,
    sync_loop1,
    with_load_average,
    write_results,
    zipf_ids,
)

import stratacache
from stratacache.testing.redis_servers import RedisServer

N_KEYS = 100_000
OFF = "stratacache Cache, timing off"


def get_hit_case(n: int, seed: int) -> Case:
    """get of present keys (Zipf 0.99) with each timing setting, on equal caches."""
    keys = [key_of(i) for i in range(N_KEYS)]
    seq = [keys[i] for i in zipf_ids(N_KEYS, n, seed=seed).tolist()]
    case = Case("get-hit", n, params={"keys": N_KEYS, "zipf": 0.99}, reference=OFF)
    caches = {
        OFF: stratacache.Cache(max_entries=2 * N_KEYS),
        "stratacache Cache, timing=1/64": stratacache.Cache(max_entries=2 * N_KEYS, timing=1 / 64),
        "stratacache Cache, timing=1": stratacache.Cache(max_entries=2 * N_KEYS, timing=1.0),
    }
    ct = cachetools.LRUCache(maxsize=2 * N_KEYS)
    cb = cachebox.LRUCache(2 * N_KEYS)
    floor: dict[str, str] = {}
    for k in keys:
        for c in caches.values():
            c.set(k, k)
        ct[k] = cb[k] = floor[k] = k
    for name, c in caches.items():
        case.add(name, sync_loop1(c.get, seq), ours=name == OFF)
    case.add("cachetools.LRUCache", sync_loop1(ct.get, seq))
    case.add("cachebox.LRUCache", sync_loop1(cb.get, seq))
    case.add("(floor) dict", sync_loop1(floor.get, seq))
    return case


def redis_get_case(url: str, n: int) -> Case:
    """get through the Redis tier (l1=False) with and without timing."""
    keys = [key_of(i) for i in range(1000)]
    seq = [keys[i % len(keys)] for i in range(n)]
    untimed = stratacache.Cache(redis=url, l1=False, namespace="b0")
    timed = stratacache.Cache(redis=url, l1=False, namespace="b1", timing=1.0)
    for k in keys:
        untimed.set(k, k)
        timed.set(k, k)
    ref = "stratacache Cache l1=False, timing off"
    case = Case("redis-get", n, params={"keys": len(keys)}, reference=ref)
    case.add(ref, sync_loop1(untimed.get, seq), ours=True)
    case.add("stratacache Cache l1=False, timing=1", sync_loop1(timed.get, seq))
    return case


def main() -> None:
    opts = parse_options(__doc__ or "")
    rows = run_case(get_hit_case(opts.n, opts.seed), opts)
    with_load_average(rows)
    print_table(rows)
    with RedisServer() as server:
        redis_rows = run_case(redis_get_case(server.url, max(2000, opts.n // 50)), opts)
    with_load_average(redis_rows)
    print_table(redis_rows)
    path = write_results("stats_quick" if opts.quick else "stats", rows + redis_rows)
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
