"""bench_scale section 3: asyncio gets from 1 to 1,000 tasks, L1 only and L1 off (Redis).

N tasks share one sequence of gets (task i takes seq[i::N], uniform over 10k keys holding a
100-byte dict) in one event loop; a run's time is the time until every task is done, bounded
by `RUN_SECONDS` (a cut run is extrapolated and counted in `time_bounded_runs`). Runs are
interleaved over the harness's rounds, as in ``bench_l2.py``, whose runner this reuses.

* L1 only: ``AsyncCache(max_entries=...)`` holding every key, beside the floor "await a bare
  ``async def`` doing one dict lookup" at the same concurrency.
* L1 off: ``AsyncCache(redis=url, l1=False)`` against a redis-server started here on loopback
  (stopped by PID), beside redis.asyncio (a GET per await, hiredis parser if installed, the
  same pool size) with and without msgpack decoding: the same work, and the bare client.

Like ``bench_l2.py``, the server is pinned to CPU 0 and this process to CPU 1 for the section
(the affinity is restored after it).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import msgpack
import numpy as np
import redis.asyncio as aioredis
from _harness import Case, Options, close_loop, run_case
from bench_l2 import Misses, as_throughput, concurrent_runner, payload, pin, print_throughput

import stratacache
from stratacache.testing.redis_servers import RedisServer

TASKS = (1, 10, 100, 1000)
N_KEYS = 10_000
POOL = 64  # connections per client, ours and redis.asyncio alike
RUN_SECONDS = 1.5
L1_OPS = 50_000  # per run, every task count
L2_OPS = {1: 1_000, 10: 2_000, 100: 4_000, 1000: 6_000}
OURS_L1 = "stratacache AsyncCache (L1 only)"
FLOOR = "(floor) await bare async def: dict.get"
OURS_L2 = "stratacache AsyncCache(l1=False)"
RAW = "redis.asyncio GET (bytes)"
RAW_PACK = "redis.asyncio GET + msgpack"

Getter = Callable[[str], Awaitable[Any]]


def cases(
    loop: asyncio.AbstractEventLoop,
    getters: dict[str, Getter],
    ops: Callable[[int], int],
    opts: Options,
    tier: str,
) -> tuple[list[Case], Misses]:
    rng = np.random.default_rng(opts.seed + 11)
    misses = Misses()
    seconds = RUN_SECONDS / 3 if opts.quick else RUN_SECONDS
    out = []
    reference = OURS_L1 if tier == "l1" else OURS_L2
    for tasks in TASKS:
        n = ops(tasks)
        seq = [f"user:{i}" for i in rng.integers(0, N_KEYS, n).tolist()]
        info = {"tasks": tasks, "keys": N_KEYS, "payload": "dict-100B", "tier": tier}
        case = Case(f"async/{tier}/get-c{tasks}", n, params=info, reference=reference)
        for name, get in getters.items():
            runner = concurrent_runner(
                loop, get, seq, tasks, tally=(misses, f"{tasks}:{name}"), seconds=seconds
            )
            case.add(name, runner, ours=name == reference)
        out.append(case)
    return out, misses


def timed(cases_: list[Case], misses: Misses, opts: Options) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for case in cases_:
        case_rows = as_throughput(run_case(case, opts), misses)
        load = [round(x, 2) for x in os.getloadavg()]
        for row in case_rows:
            row["params"]["load_average_1_5_15"] = load
        print_throughput(case_rows)
        rows += case_rows
    return rows


def l1_rows(loop: asyncio.AbstractEventLoop, opts: Options, value: Any) -> list[dict[str, Any]]:
    keys = [f"user:{i}" for i in range(N_KEYS)]
    ours = stratacache.AsyncCache(max_entries=2 * N_KEYS)
    loop.run_until_complete(ours.set_many(dict.fromkeys(keys, value)))
    table = dict.fromkeys(keys, value)

    async def bare(key: str) -> Any:
        return table.get(key)

    getters: dict[str, Getter] = {OURS_L1: ours.get, FLOOR: bare}
    n = L1_OPS // 10 if opts.quick else L1_OPS
    try:
        return timed(*cases(loop, getters, lambda _tasks: n, opts, "l1"), opts)
    finally:
        loop.run_until_complete(ours.close())


@contextlib.contextmanager
def pinned(server: RedisServer) -> Iterator[dict[str, Any]]:
    """bench_l2's placement for the section, then this thread's CPUs back as they were."""
    before = os.sched_getaffinity(0)
    try:
        yield pin(server)
    finally:
        os.sched_setaffinity(0, before)


def l2_rows(loop: asyncio.AbstractEventLoop, opts: Options, value: Any) -> list[dict[str, Any]]:
    keys = [f"user:{i}" for i in range(N_KEYS)]
    blob = msgpack.packb(value)
    server = RedisServer().start()
    try:
        with pinned(server) as placement:
            options = stratacache.RedisOptions(max_connections=POOL, key_prefix="scale:")
            ours = stratacache.AsyncCache(redis=server.url, l1=False, redis_options=options)
            pool = aioredis.BlockingConnectionPool(
                host="127.0.0.1", port=server.port, max_connections=POOL
            )
            raw = aioredis.Redis(connection_pool=pool)
            loop.run_until_complete(ours.set_many(dict.fromkeys(keys, value)))
            loop.run_until_complete(raw.mset({f"raw:{k}": blob for k in keys}))
            unpack = msgpack.unpackb

            async def raw_get(key: str) -> Any:
                return await raw.get("raw:" + key)

            async def raw_pack_get(key: str) -> Any:
                data = await raw.get("raw:" + key)
                return None if data is None else unpack(data)

            getters: dict[str, Getter] = {OURS_L2: ours.get, RAW_PACK: raw_pack_get, RAW: raw_get}
            for name, get in getters.items():
                got = loop.run_until_complete(get(keys[0]))
                if got not in (value, blob):
                    msg = f"{name} returned a wrong value"
                    raise RuntimeError(msg)
            scale = 10 if opts.quick else 1
            try:
                rows = timed(
                    *cases(loop, getters, lambda t: L2_OPS[t] // scale, opts, "redis"), opts
                )
            finally:
                loop.run_until_complete(ours.close())
                loop.run_until_complete(raw.aclose())
            for row in rows:
                row["params"].update(placement, pool=POOL)
            return rows
    finally:
        server.stop()


def run(opts: Options) -> list[dict[str, Any]]:
    value = payload("dict", 100, np.random.default_rng(opts.seed + 3))
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        rows = l1_rows(loop, opts, value)
        rows += l2_rows(loop, opts, value)
    finally:
        close_loop(loop)
        asyncio.set_event_loop(None)
    return rows
