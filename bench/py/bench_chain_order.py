"""Why the chain is L1 -> disk -> Redis: what an L1 miss costs when the disk answers it and
when Redis does, in one process run against a real redis-server on loopback.

Each operation is the tiered driver's read after an L1 miss (`cache._driver.read`): decode,
checks and L1 backfill included, as a cache pays them. Contenders:
- "disk hit": L1 -> disk -> Redis, the value on disk (no network);
- "disk hit, tagged": the same with one tag (one MGET of its version in Redis);
- "redis hit": L1 -> Redis, the value in Redis (GET, decode);
- "redis hit, tagged": GET, then MGET of the tag version.
The server is pinned to CPU0 and this process to CPU1 (the realistic placement of
REDIS-FACTS.md) when the machine has two CPUs. The load average is recorded with the rows.

    python bench/py/bench_chain_order.py [--quick]   ->   rows "chain_order ..." of
    bench/results/disk.json (the other rows of that file are kept)
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from _harness import RESULTS_DIR, Case, parse_options, print_table, run_case

import stratacache
from stratacache.testing.redis_servers import RedisServer

KEYS = 256
PREFIX = "chain_order"


def reader(cache: Any, keys: list[str], n: int) -> Any:
    read, ns = cache._driver.read, cache.namespace
    store, prefix = cache._store, cache._prefix

    def run() -> int:
        start = time.perf_counter_ns()
        for i in range(n):
            key = keys[i % KEYS]
            read(ns, key)
            store.delete(prefix, key)  # the next read of it misses L1 again
        return time.perf_counter_ns() - start

    return run


def pin(server: RedisServer) -> str:
    if len(os.sched_getaffinity(0)) < 2 or not hasattr(os, "sched_setaffinity"):
        return "unpinned"
    os.sched_setaffinity(server.pid, {0})
    os.sched_setaffinity(0, {1})
    return "server CPU0, client CPU1"


def main() -> None:
    opts = parse_options(__doc__ or "")
    n = 2_000 if opts.quick else 10_000
    value = os.urandom(100)
    rows: list[dict[str, Any]] = []
    with RedisServer() as server, tempfile.TemporaryDirectory() as tmp:
        placement = pin(server)
        disk = stratacache.DiskOptions(Path(tmp) / "d", durability="none")
        chained = stratacache.Cache(redis=server.url, disk=disk, namespace="c", default_ttl=3600)
        plain = stratacache.Cache(redis=server.url, namespace="r", default_ttl=3600)
        deadline = time.monotonic() + 10
        while not all(c.stats().l2.coherent for c in (chained, plain)):  # type: ignore[union-attr]
            if time.monotonic() > deadline:
                msg = "the subscriptions did not come up"
                raise SystemExit(msg)
            time.sleep(0.01)
        for tagged in (False, True):
            keys = [f"{'t' if tagged else 'k'}{i}" for i in range(KEYS)]
            tags = ["grp"] if tagged else None
            for cache in (chained, plain):
                for key in keys:
                    cache.set(key, value, tags=tags)
            suffix = ", tagged" if tagged else ""
            case = Case(
                f"{PREFIX} get after an L1 miss 100B{suffix}",
                n,
                params={"value_bytes": 100, "placement": placement},
            )
            case.add(f"disk hit{suffix}", reader(chained, keys, n), ours=True)
            case.add(f"redis hit{suffix}", reader(plain, keys, n))
            rows += run_case(case, opts)
        stats = chained.stats()
        assert stats.l2 is not None
        assert stats.l2.hits == 0, "a disk read fell through to Redis"
        chained.close()
        plain.close()
    load = os.getloadavg()
    for row in rows:
        row["params"]["loadavg"] = [round(x, 2) for x in load]
    print_table(rows)
    path = RESULTS_DIR / "disk.json"
    kept = [r for r in json.loads(path.read_text()) if not r["case"].startswith(PREFIX)]
    path.write_text(json.dumps(kept + rows, indent=1) + "\n", encoding="utf-8")
    print(f"\nwrote {len(rows)} rows to {path} (load average {load})")


if __name__ == "__main__":
    main()
