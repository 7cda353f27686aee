"""Write-behind throughput against a plain pipeline of the same writes
-> bench/results/write_behind.json (write_behind_quick.json with --quick).

Servers started here: a store server (standing for the database), a stream server, and a
stream primary with one replica (for WAIT). All are pinned to CPU 0 and this process to CPU 1.
Every case does the same N writes of the same 100-byte dict values (msgpack), on unique keys:

* ``end-to-end``: ours is N ``WriteBehind.set`` (each durable in the stream before it
  returns) and a ``flush`` whose worker applies them to the store in batches of 100 (one
  pipeline per batch). Peers: the same writes sent straight to the store as one pipeline per
  100 writes (the ceiling: no durability step at all), and as one SET per write.
* ``enqueue-replicated``: only ``set`` (XADD + WAIT 1 per write) on the replicated primary,
  against the same writes to that primary as a pipeline and as one SET per write.

Both cases also run ``set_many`` with 100 writes per call (one round trip and one WAIT per
100), the way to make write-behind throughput approach the pipeline's.

ratio_vs_ours = peer time / our time: below 1, the peer is faster. What the durability costs
is one round trip (and, replicated, one replica acknowledgement) per write.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import Any

import msgpack
import redis
from _harness import Case, parse_options, print_table, run_case, write_results

from stratacache.patterns import WriteBehind
from stratacache.testing.redis_servers import RedisServer

BATCH = 100


def pin_all(servers: list[RedisServer]) -> str:
    if len(os.sched_getaffinity(0)) < 2:
        return "unpinned (fewer than 2 CPUs)"
    for server in servers:
        for task in Path(f"/proc/{server.pid}/task").iterdir():
            with contextlib.suppress(ProcessLookupError):
                os.sched_setaffinity(int(task.name), {0})
    os.sched_setaffinity(0, {1})
    return "servers CPU 0, client CPU 1"


def values(n: int) -> list[tuple[str, dict[str, str]]]:
    return [(f"user:{i}", {"data": f"{i:0100d}"}) for i in range(n)]


def timed(fn: Any) -> Any:
    import time  # noqa: PLC0415

    def run() -> int:
        t0 = time.perf_counter_ns()
        fn()
        return time.perf_counter_ns() - t0

    return run


def plain_runners(client: Any, writes: list[tuple[str, dict[str, str]]]) -> tuple[Any, Any]:
    # Values are packed in each run, as ours encodes each one.
    def pipeline() -> None:
        for start in range(0, len(writes), BATCH):
            pipe = client.pipeline(transaction=False)
            for k, v in writes[start : start + BATCH]:
                pipe.set(k, msgpack.packb(v))
            pipe.execute()

    def one_by_one() -> None:
        for k, v in writes:
            client.set(k, msgpack.packb(v))

    return timed(pipeline), timed(one_by_one)


def end_to_end(stream_url: str, store: Any, n: int) -> Case:
    writes = values(n)

    def apply(items: dict[str, Any]) -> None:
        pipe = store.pipeline(transaction=False)
        for k, v in items.items():
            pipe.set(k, msgpack.packb(v))
        pipe.execute()

    wb = WriteBehind(stream_url, apply, name="bench", batch=BATCH, partitions=1, replicas=0)

    def ours() -> None:
        for k, v in writes:
            wb.set(k, v)
        wb.flush(timeout=600)

    def ours_many() -> None:
        for start in range(0, len(writes), BATCH):
            wb.set_many(dict(writes[start : start + BATCH]))
        wb.flush(timeout=600)

    case = Case("end-to-end", n, params={"batch": BATCH, "value": "100B dict", "replicas": 0})
    case.add("stratacache WriteBehind set + flush", timed(ours), ours=True)
    case.add("stratacache WriteBehind set_many(100) + flush", timed(ours_many))
    pipeline, one = plain_runners(store, writes)
    case.add("redis-py pipeline of the same SETs", pipeline)
    case.add("redis-py one SET per write", one)
    return case


def enqueue_replicated(primary_url: str, n: int) -> Case:
    writes = values(n)
    wb = WriteBehind(primary_url, lambda _items: None, name="bench-r", batch=BATCH, partitions=1)
    assert wb._appender.replicas == 1
    raw = redis.Redis.from_url(primary_url)

    def ours() -> None:
        for k, v in writes:
            wb.set(k, v)
        raw.delete("sc:wb:{bench-r:0}")  # the next round starts from an empty stream
        wb._ensure_groups()

    def ours_many() -> None:
        for start in range(0, len(writes), BATCH):
            wb.set_many(dict(writes[start : start + BATCH]))
        raw.delete("sc:wb:{bench-r:0}")
        wb._ensure_groups()

    case = Case("enqueue-replicated", n, params={"value": "100B dict", "replicas": 1})
    case.add("stratacache WriteBehind set (XADD + WAIT 1)", timed(ours), ours=True)
    case.add("stratacache WriteBehind set_many(100) (one WAIT per 100)", timed(ours_many))
    pipeline, one = plain_runners(raw, writes)
    case.add("redis-py pipeline of the same SETs", pipeline)
    case.add("redis-py one SET per write", one)
    return case


def main() -> int:
    opts = parse_options(__doc__ or "", sys.argv[1:])
    n = 1000 if opts.quick else 5000
    with (
        RedisServer() as store_server,
        RedisServer() as streams,
        RedisServer() as primary,
        RedisServer(replicaof=primary.address) as replica,
    ):
        placement = pin_all([store_server, streams, primary, replica])
        store = redis.Redis.from_url(store_server.url)
        import time  # noqa: PLC0415

        deadline = time.monotonic() + 30
        probe = primary.client()
        while int(probe.info("replication").get("connected_slaves", 0)) == 0:
            if time.monotonic() > deadline:
                msg = "the replica did not connect"
                raise RuntimeError(msg)
            time.sleep(0.05)
        probe.close()
        rows = []
        for case in (
            end_to_end(streams.url, store, n),
            enqueue_replicated(primary.url, n),
        ):
            case.params["placement"] = placement
            got = run_case(case, opts)
            for row in got:
                row["ops_per_s"] = round(1e9 / row["median_ns"], 1)
            rows += got
        print_table(rows)
        path = write_results("write_behind_quick" if opts.quick else "write_behind", rows)
        sys.stdout.write(f"\nwrote {path}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
