"""The event broker's costs -> bench/results/events.json (events_quick.json with --quick).

* ``set-l1``: `Cache.set` of an L1-only cache with no subscriber (the reference: the engine's
  setter, untouched) against the same sets while one subscriber takes set events (a no-op
  handler on its own thread), and while one takes only application events (the write path is
  not hooked: it should cost nothing).
* ``set-redis``: `Cache.set` with a Redis tier, ``events=False`` (reference) against
  ``events=True`` (every set also queued for the publisher thread, which PUBLISHes in
  batches off the caller's path).
* ``emit->handler``: one-way latency from `emit` in this process to the handler of a
  subscriber in a child process (the clock is CLOCK_MONOTONIC, shared by both), events
  spaced 2 ms apart so none waits behind another; against the same payload sent with a raw
  redis-py PUBLISH to a raw redis-py pub/sub thread in a child (the floor of the channel).
  Reported as p50 (``median_ns``) and p99 (``p99_ns``).

ratio_vs_ours = impl time / reference time: here above 1 is what the events cost.
"""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import msgpack
import redis
from _harness import Case, parse_options, print_table, run_case, write_results

import stratacache
from stratacache.testing.redis_servers import RedisServer

CHILD = Path(__file__).resolve().parents[2] / "tests_py" / "tiers" / "events_child.py"
RAW_LISTENER = """
import sys, time, json, msgpack, redis
client = redis.Redis.from_url(sys.argv[1])
pubsub = client.pubsub(ignore_subscribe_messages=True)
pubsub.subscribe("raw-events")
while pubsub.get_message(timeout=0.1) is None and not pubsub.subscribed:
    pass
print("ready", flush=True)
lines, deadline = [], time.monotonic() + float(sys.argv[3])
while len(lines) < int(sys.argv[2]) and time.monotonic() < deadline:
    item = pubsub.get_message(timeout=0.1)
    if item is not None and item["type"] == "message":
        payload = msgpack.unpackb(item["data"])
        lines.append(json.dumps({"i": payload["i"], "ns": time.monotonic_ns() - payload["t"]}))
print("\\n".join(lines), flush=True)
"""


def pin(server: RedisServer) -> str:
    if len(os.sched_getaffinity(0)) < 2:
        return "unpinned (fewer than 2 CPUs)"
    for task in Path(f"/proc/{server.pid}/task").iterdir():
        with contextlib.suppress(ProcessLookupError):
            os.sched_setaffinity(int(task.name), {0})
    os.sched_setaffinity(0, {1})
    return "server CPU 0, this process and its children CPU 1"


def set_runner(cache: Any, n: int) -> Any:
    keys = [f"user:{i}" for i in range(n)]
    value = {"name": "x" * 40}

    def run() -> int:
        setter = cache.set
        t0 = time.perf_counter_ns()
        for key in keys:
            setter(key, value)
        return time.perf_counter_ns() - t0

    return run


def l1_case(n: int) -> Case:
    off, on, app = stratacache.Cache(), stratacache.Cache(), stratacache.Cache()
    on.events.subscribe(lambda _event: None, kinds=["set"], queue_size=1 << 20)
    app.events.subscribe(lambda _event: None, kinds=["app"])
    case = Case("set-l1", n, params={"value": "dict of one 40-char str"})
    case.add("no subscriber", set_runner(off, n), ours=True)
    case.add("one set subscriber (no-op handler)", set_runner(on, n))
    case.add("one app-only subscriber", set_runner(app, n))
    return case


def redis_case(url: str, n: int) -> tuple[Case, list[Any]]:
    off = stratacache.Cache(redis=url, namespace="off")
    on = stratacache.Cache(redis=url, namespace="on", events=True)
    case = Case("set-redis", n, params={"value": "dict of one 40-char str"})
    case.add("events=False", set_runner(off, n), ours=True)

    def run_on() -> int:
        elapsed: int = set_runner(on, n)()
        on.events.flush(30)  # published before the next round: no backlog carried over
        return elapsed

    case.add("events=True (publisher thread)", run_on)
    return case, [off, on]


def spawn(args: list[str]) -> subprocess.Popen[str]:
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if line != "ready":
        proc.kill()
        msg = f"child did not start: {line!r}"
        raise RuntimeError(msg)
    return proc


def latencies(proc: subprocess.Popen[str]) -> list[int]:
    out, _ = proc.communicate(timeout=120)
    return [json.loads(line)["ns"] for line in out.splitlines() if line.startswith("{")]


def latency_rows(url: str, count: int) -> list[dict[str, Any]]:
    seconds = count * 0.002 + 30
    ours = spawn([sys.executable, str(CHILD), "listen", url, str(count), str(seconds)])
    with stratacache.Cache(redis=url) as cache:
        for i in range(count):
            cache.events.emit("bench.tick", {"i": i, "t": time.monotonic_ns()})
            time.sleep(0.002)
        cache.events.flush(30)
    ours_ns = latencies(ours)
    raw = spawn([sys.executable, "-c", RAW_LISTENER, url, str(count), str(seconds)])
    client = redis.Redis.from_url(url)
    for i in range(count):
        client.publish("raw-events", msgpack.packb({"i": i, "t": time.monotonic_ns()}))
        time.sleep(0.002)
    client.close()
    raw_ns = latencies(raw)
    rows = []
    for impl, values in (("cache.events (emit -> handler)", ours_ns), ("raw PUBLISH", raw_ns)):
        values.sort()
        rows.append(
            {
                "case": "emit->handler cross-process",
                "impl": impl,
                "median_ns": round(statistics.median(values), 1),
                "p99_ns": values[min(len(values) - 1, int(len(values) * 0.99))],
                "ratio_vs_ours": 0.0,
                "n": len(values),
                "params": {"sent": count, "spacing_ms": 2},
            }
        )
    rows[1]["ratio_vs_ours"] = round(rows[1]["median_ns"] / rows[0]["median_ns"], 3)
    rows[0]["ratio_vs_ours"] = 1.0
    return rows


def main() -> None:
    opts = parse_options(__doc__ or "", None)
    n = opts.n if opts.n != 200_000 else 50_000
    n = 5_000 if opts.quick and n == 30_000 else n
    server = RedisServer().start()
    try:
        placement = pin(server)
        rows = run_case(l1_case(n), opts)
        case, caches = redis_case(server.url, max(1000, n // 10))
        rows += run_case(case, opts)
        for cache in caches:
            cache.close()
        rows += latency_rows(server.url, 300 if opts.quick else 2000)
        load = [round(x, 2) for x in os.getloadavg()]
        for row in rows:
            row["params"]["placement"] = placement
            row["params"]["load_average_1_5_15m_at_end"] = load
        print_table(rows)
        for row in rows:
            if "p99_ns" in row:
                print(f"  {row['impl']:<44} p99 {row['p99_ns'] / 1000:.1f} us")
        write_results("events_quick" if opts.quick else "events", rows)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
