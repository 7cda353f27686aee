"""Where an asyncio get's time goes at N concurrent tasks: per-get call counts (cProfile) of
every function on the path, for ours and the peers, on one redis-server started here.

    python bench/py/async_get_profile.py [--tasks 100] [--n 20000] [--impl ours] [--top 25]
    python bench/py/async_get_profile.py --compare [--rounds 7]   # quick ops/s, interleaved
    python bench/py/async_get_profile.py --case ours --n 5000 --port P   # l2_instructions

Impls: ``ours`` (``AsyncCache(l1=False)``, 100-byte dict), ``raw`` (redis.asyncio GET per
await + msgpack) and ``bare`` (bench_l2's ceiling: one asyncio.Protocol + hiredis). Each run
does `n` gets spread over `tasks` tasks after a warm-up of the same size; cProfile's counts
are divided by `n`, so "calls/get" is what one get costs in Python calls, layer by layer.
``--compare`` times the impls instead, interleaved round by round in one loop (a quick check;
bench_l2.py makes the figures that are kept). ``--case`` runs one impl without a profiler (the body `l2_instructions.py` counts
instructions of: its setup is the same for every `n`, so a difference of two runs is the gets
alone).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import sys
from collections.abc import Awaitable, Callable
from typing import Any

VALUE = {"data": "x" * 100}
N_KEYS = 1_000
IMPLS = ("ours", "raw", "bare")


async def getter(impl: str, port: int) -> tuple[Callable[[str], Awaitable[Any]], Any]:
    """(get, close) of `impl`, its keys filled with VALUE."""
    import msgpack  # noqa: PLC0415

    keys = [f"user:{i}" for i in range(N_KEYS)]
    unpack = msgpack.unpackb
    if impl == "ours":
        import stratacache  # noqa: PLC0415

        # Timeouts valgrind's slowdown (~50x) cannot reach: a get cut short would be a miss.
        # No coherence: its subscriber thread's work grows with time, not with gets (it would
        # not cancel out of a difference of two runs), and under valgrind a slow subscription
        # counts as trouble, whose recovery grace turns every older value into a miss.
        opts = stratacache.RedisOptions(
            key_prefix="prof:",
            socket_timeout=30,
            call_timeout=60,
            connect_timeout=30,
            coherence=None,
        )
        url = f"redis://127.0.0.1:{port}/0"
        cache = stratacache.AsyncCache(redis=url, l1=False, redis_options=opts)
        await cache.set_many(dict.fromkeys(keys, VALUE))

        async def close() -> None:
            stats = cache.stats().l2
            assert stats is not None
            await cache.close()
            odd = (stats.misses, stats.grace_misses, stats.skipped_reads, stats.skipped_writes)
            if any(odd):
                print(f"l2 stats: {stats}", file=sys.stderr)

        return cache.get, close
    if impl == "raw":
        import redis.asyncio as aioredis  # noqa: PLC0415

        pool = aioredis.BlockingConnectionPool(
            host="127.0.0.1",
            port=port,
            max_connections=64,
            timeout=None,
            socket_connect_timeout=30,  # valgrind's pace
        )
        raw = aioredis.Redis(connection_pool=pool)
        await raw.mset({f"raw:{k}": msgpack.packb(VALUE) for k in keys})

        async def raw_get(key: str) -> Any:
            data = await raw.get("raw:" + key)
            return None if data is None else unpack(data)

        return raw_get, raw.aclose
    import redis  # noqa: PLC0415
    from bench_l2 import BareProtocol  # noqa: PLC0415

    redis.Redis(port=port).mset({f"raw:{k}": msgpack.packb(VALUE) for k in keys})
    _, bare = await asyncio.get_running_loop().create_connection(BareProtocol, "127.0.0.1", port)

    async def bare_get(key: str) -> Any:
        data = await bare.get(b"raw:" + key.encode())
        return None if data is None else unpack(data)

    async def close() -> None:
        bare.transport.close()
        await asyncio.sleep(0)

    return bare_get, close


async def burst(get: Callable[[str], Awaitable[Any]], n: int, tasks: int) -> None:
    """`n` gets of keys in turn, shared by `tasks` tasks; raises on a wrong value."""
    keys = [f"user:{i % N_KEYS}" for i in range(n)]

    async def worker(part: list[str]) -> None:
        for key in part:
            if (value := await get(key)) != VALUE:
                msg = f"wrong value for {key}: {value!r:.100}"
                raise RuntimeError(msg)

    await asyncio.gather(*(worker(keys[i::tasks]) for i in range(tasks)))


async def run(impl: str, port: int, n: int, tasks: int, profile: cProfile.Profile | None) -> None:
    get, close = await getter(impl, port)
    try:
        await burst(get, n if profile is not None else 1000, tasks)  # warm-up
        if profile is not None:
            profile.enable()
        await burst(get, n, tasks)
        if profile is not None:
            profile.disable()
    finally:
        await close()


async def compare(impls: list[str], port: int, n: int, tasks: int, rounds: int) -> None:
    """Median ops/s of each impl over `rounds` interleaved bursts, and ours over each."""
    import statistics  # noqa: PLC0415
    import time  # noqa: PLC0415

    clients = {impl: await getter(impl, port) for impl in impls}
    times: dict[str, list[int]] = {impl: [] for impl in impls}
    try:
        for get, _ in clients.values():
            await burst(get, 1000, tasks)
        for _ in range(rounds):
            for impl, (get, _) in clients.items():
                t0 = time.perf_counter_ns()
                await burst(get, n, tasks)
                times[impl].append(time.perf_counter_ns() - t0)
    finally:
        for _, close in clients.values():
            await close()
    ops = {impl: n / statistics.median(t) * 1e9 for impl, t in times.items()}
    for impl, rate in ops.items():
        ratio = f"  ours/{impl} {ops['ours'] / rate:.2f}x" if "ours" in ops else ""
        print(f"{impl:6s} {rate:10,.0f} ops/s{ratio}")


def report(profile: cProfile.Profile, n: int, top: int) -> None:
    """The functions called most per get, with their own time per get."""
    stats = pstats.Stats(profile)
    rows = []
    for (path, line, name), (_, calls, own, cum, _) in stats.stats.items():  # type: ignore[attr-defined]
        where = f"{path.rsplit('/', 2)[-1]}:{line}({name})" if line else name
        rows.append((calls / n, own / n * 1e6, cum / n * 1e6, where))
    total = sum(r[0] for r in rows)
    print(f"{total:.1f} calls per get; top {top} by calls/get:")
    print(f"{'calls/get':>9} {'own us/get':>10} {'cum us/get':>10}  function")
    for calls, own, cum, where in sorted(rows, reverse=True)[:top]:
        print(f"{calls:9.2f} {own:10.3f} {cum:10.3f}  {where}")


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--impl", choices=IMPLS, action="append")
    parser.add_argument("--case", choices=IMPLS, help="one run, no profiler (callgrind body)")
    parser.add_argument("--port", type=int)
    parser.add_argument("--tasks", type=int, default=100)
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--compare", action="store_true", help="ops/s instead of a profile")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    if args.case:
        asyncio.run(run(args.case, args.port, args.n, args.tasks, None))
        return 0
    from stratacache.testing.redis_servers import RedisServer  # noqa: PLC0415

    server = RedisServer().start()
    try:
        if args.compare:
            impls = args.impl or list(IMPLS)
            asyncio.run(compare(impls, server.port, args.n, args.tasks, args.rounds))
            return 0
        for impl in args.impl or IMPLS:
            profile = cProfile.Profile()
            asyncio.run(run(impl, server.port, args.n, args.tasks, profile))
            print(f"\n== {impl}, {args.tasks} tasks, {args.n} gets")
            report(profile, args.n, args.top)
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
