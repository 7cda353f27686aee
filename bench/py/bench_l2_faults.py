"""L2 fault measurements: what the tests cannot assert, as percentiles over many trials ->
bench/results/l2_faults.json (l2_faults_quick.json with --quick).

Every load here runs fail-open with ``RedisOptions(socket_timeout=0.05, connect_timeout=0.05)``
and L1 off, so every call reaches Redis; a call that raises is counted (there must be none).
A standalone server is pinned to CPU 0 and this process to CPU 1, as in bench_l2.py. Cases:

* ``kill-threads`` / ``kill-asyncio``: 2 threads (or 100 tasks) alternate set/get; the server
  is SIGKILLed, left dead for 1 s and restarted. Latency of the calls made during the outage,
  and ``recovery_ms``: from restart() returning until the cache counts an acknowledged SET.
* ``pause-threads`` / ``pause-asyncio``: SIGSTOP for 3 s, then SIGCONT: call latency during
  the hang, circuit-breaker openings, recovery after resume.
* ``sentinel-failover``: 1 primary, 2 replicas, 3 sentinels (down-after 1000 ms); the primary
  is SIGKILLed under load: time until the cache's writes are acknowledged again.
* ``coherence-staleness``: processes A (CPU 0, with the server) and B (CPU 1). B holds key k
  in L1 and polls it; A writes a new value; the window is from A's set() returning to B's
  first get() that no longer returns the old value (CLOCK_MONOTONIC is shared by processes).
  For both coherence modes, with B polling in a tight loop (its invalidation thread then
  waits for the GIL: up to `sys.getswitchinterval()`) and with ``time.sleep(0)`` per poll.
* ``coherence-cut``: the server is SIGKILLed while B holds k: from the kill to B's first get
  that no longer serves the old value (B drops L1 when its subscription drops).
* ``cluster-failover`` (not with --quick): 3 primaries + 3 replicas; the primary of a probe key
  is SIGKILLed under load: time until the probe key is writable, errors, wrong values.

Rows: ``{"case", "impl", "n", "params", ...}`` with the measured fields (``*_ms`` times,
``exceptions``, ``wrong_values``, ``breaker_opened``); ``n`` is the number of trials, or of
calls for latency rows. Nothing is compared with a peer, so there is no ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing as mp
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from _harness import write_results
from bench_l2 import pin, pin_process

import stratacache
from stratacache.testing.redis_servers import (
    RedisClusterGroup,
    RedisSentinelGroup,
    RedisServer,
)

LOAD_KEYS = 200
TIMEOUTS = {"socket_timeout": 0.05, "connect_timeout": 0.05}
CALL_LIMIT = 2_000_000  # per load worker: a bound on top of the time bound


def fault_options(**changes: Any) -> stratacache.RedisOptions:
    return stratacache.RedisOptions(**TIMEOUTS, **changes)


def percentiles(values_s: list[float], prefix: str = "") -> dict[str, Any]:
    """p50/p99/max in milliseconds (None when there is nothing to measure)."""
    if not values_s:
        return {f"{prefix}p50_ms": None, f"{prefix}p99_ms": None, f"{prefix}max_ms": None}
    ms = np.asarray(values_s) * 1e3
    return {
        f"{prefix}p50_ms": round(float(np.percentile(ms, 50)), 3),
        f"{prefix}p99_ms": round(float(np.percentile(ms, 99)), 3),
        f"{prefix}max_ms": round(float(ms.max()), 3),
    }


# -- load ---------------------------------------------------------------------------------------
@dataclass
class Load:
    """Calls made by the load workers: (start, seconds) pairs, exceptions, wrong values."""

    calls: list[tuple[float, float]] = field(default_factory=list)
    exceptions: int = 0
    wrong: int = 0
    stop: threading.Event = field(default_factory=threading.Event)

    @contextlib.contextmanager
    def timed(self) -> Iterator[None]:
        """Records one call's start and duration; an exception is counted, not raised
        (fail-open must not raise)."""
        t0 = time.perf_counter()
        try:
            yield
        except Exception:  # noqa: BLE001 - counted
            self.exceptions += 1
        self.calls.append((t0, time.perf_counter() - t0))

    def during(self, start: float, end: float) -> list[float]:
        return [spent for t0, spent in self.calls if start <= t0 <= end]


def value_of(key: str) -> dict[str, str]:
    """Each key's value encodes the key, so a value served under the wrong key shows."""
    return {"key": key, "pad": "v" * 64}


def check(load: Load, key: str, got: Any) -> None:
    if got is not None and got != value_of(key):
        load.wrong += 1


def calls(load: Load, offset: int, seconds: float) -> Iterator[tuple[str, bool]]:
    """A worker's calls, (key, True for a set), until stopped, `seconds` or CALL_LIMIT."""
    keys = [f"user:{i}" for i in range(LOAD_KEYS)]
    deadline = time.monotonic() + seconds
    for i in range(offset, offset + CALL_LIMIT):
        if load.stop.is_set() or time.monotonic() > deadline:
            return
        yield keys[i % LOAD_KEYS], bool(i % 2)


def sync_worker(cache: stratacache.Cache, load: Load, offset: int, seconds: float) -> None:
    for key, is_set in calls(load, offset, seconds):
        with load.timed():
            if is_set:
                cache.set(key, value_of(key))
            else:
                check(load, key, cache.get(key))


async def async_worker(
    cache: stratacache.AsyncCache, load: Load, offset: int, seconds: float
) -> None:
    for key, is_set in calls(load, offset, seconds):
        with load.timed():
            if is_set:
                await cache.set(key, value_of(key))
            else:
                check(load, key, await cache.get(key))


class Acks:
    """Watches a cache's acknowledged-SET counter from a thread (sync) or a task (async)."""

    def __init__(self) -> None:
        self.sets = 0
        self.opened = 0
        self.changed_at = 0.0  # perf_counter of the last increase seen

    def update(self, stats: Any) -> None:
        if stats.l2.sets != self.sets:
            self.sets, self.changed_at = stats.l2.sets, time.perf_counter()
        self.opened = stats.l2.breaker_opened

    def first_ack_after(self, start: float, timeout: float) -> float | None:
        """Seconds from `start` to the first acknowledged SET seen after it (None: timeout)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.changed_at > start:
                return self.changed_at - start
            time.sleep(0.001)
        return None


# -- 1 and 2: kill -9 and SIGSTOP on a standalone server ----------------------------------------
@dataclass
class Trial:
    """Outcome of one fault: its window, the recovery time and the breaker openings."""

    start: float
    end: float
    recovery_s: float | None
    opened: int


def fault(server: RedisServer, kind: str) -> Callable[[Acks], Trial]:
    """Kills (1 s dead, then restart) or pauses (3 s) `server` once the load has settled."""

    def inject(acks: Acks) -> Trial:
        time.sleep(0.3)
        opened = acks.opened
        start = time.perf_counter()
        if kind == "kill":
            server.kill()
            time.sleep(1.0)
            server.restart()
            pin_process(server.pid, 0)
        else:
            server.pause()
            time.sleep(3.0)
            server.resume()
        end = time.perf_counter()
        recovery = acks.first_ack_after(end, timeout=10.0)
        time.sleep(0.2)
        return Trial(start, end, recovery, acks.opened - opened)

    return inject


def sync_trial(url: str, inject: Callable[[Acks], Trial]) -> tuple[Load, Trial]:
    """2 threads of load on a fresh Cache while `inject` runs in this thread."""
    load, acks = Load(), Acks()
    with stratacache.Cache(redis=url, l1=False, redis_options=fault_options()) as cache:
        acks.update(cache.stats())
        workers = [
            threading.Thread(target=sync_worker, args=(cache, load, w, 60.0)) for w in range(2)
        ]

        def watch() -> None:
            while not load.stop.is_set():
                acks.update(cache.stats())
                time.sleep(0.001)

        workers.append(threading.Thread(target=watch))
        for thread in workers:
            thread.start()
        try:
            trial = inject(acks)
        finally:
            load.stop.set()
            for thread in workers:
                thread.join()
    return load, trial


def async_trial(url: str, inject: Callable[[Acks], Trial]) -> tuple[Load, Trial]:
    """100 tasks of load on a fresh AsyncCache while `inject` runs in a thread."""
    load, acks = Load(), Acks()

    async def run() -> Trial:
        cache = stratacache.AsyncCache(redis=url, l1=False, redis_options=fault_options())
        try:
            acks.update(await cache.stats())
            tasks = [asyncio.create_task(async_worker(cache, load, w, 60.0)) for w in range(100)]

            async def watch() -> None:
                while not load.stop.is_set():
                    acks.update(await cache.stats())
                    await asyncio.sleep(0.001)

            tasks.append(asyncio.create_task(watch()))
            try:
                return await asyncio.to_thread(inject, acks)
            finally:
                load.stop.set()
                await asyncio.gather(*tasks)
        finally:
            await cache.close()

    return load, asyncio.run(run())


def load_row(
    case: str, impl: str, runs: list[tuple[Load, Trial]], params: dict[str, Any]
) -> dict[str, Any]:
    """Latency of the calls made during each fault, recovery, exceptions and wrong values."""
    during = [s for load, t in runs for s in load.during(t.start, t.end)]
    recovery = [t.recovery_s for _, t in runs if t.recovery_s is not None]
    row = {
        "case": case,
        "impl": impl,
        "n": len(runs),
        "calls_during_fault": len(during),
        **percentiles(during),
        **percentiles(recovery, "recovery_"),
        "recovery_timeouts": len(runs) - len(recovery),
        "exceptions": sum(load.exceptions for load, _ in runs),
        "wrong_values": sum(load.wrong for load, _ in runs),
        "breaker_opened": [t.opened for _, t in runs],
        "params": {**params, **TIMEOUTS},
    }
    print_row(row)
    return row


def standalone_rows(server: RedisServer, opts: FaultOptions, params: dict[str, Any]) -> list[Any]:
    rows = []
    faults = {"kill": "SIGKILL, 1 s dead, restart()", "pause": "SIGSTOP 3 s, SIGCONT"}
    for kind, trials in (("kill", opts.kill_trials), ("pause", opts.pause_trials)):
        inject = fault(server, kind)
        sync_runs = [sync_trial(server.url, inject) for _ in range(trials)]
        async_runs = [async_trial(server.url, inject) for _ in range(trials)]
        info = {**params, "fault": faults[kind]}
        rows.append(
            load_row(f"{kind}-threads", "stratacache Cache(l1=False), 2 threads", sync_runs, info)
        )
        rows.append(
            load_row(
                f"{kind}-asyncio", "stratacache AsyncCache(l1=False), 100 tasks", async_runs, info
            )
        )
    return rows


# -- 3 and 5. Sentinel and Cluster failover ---------------------------------------------------
def failover(kill: Callable[[], object], acks: Acks) -> Trial:
    """Kills a primary once the load has settled; recovery lasts until `acks` sees a SET
    acknowledged (those counted in the first 50 ms were answered before the kill)."""
    time.sleep(0.3)
    opened = acks.opened
    start = time.perf_counter()
    kill()
    recovery = acks.first_ack_after(start + 0.05, timeout=30.0)
    end = start + 0.05 + (recovery or 0.0)
    time.sleep(0.2)
    return Trial(start, end, None if recovery is None else end - start, acks.opened - opened)


def sentinel_rows(opts: FaultOptions, params: dict[str, Any]) -> list[Any]:
    runs = []
    with RedisSentinelGroup(down_after_ms=1000) as group:  # stops every process on the way out
        for _ in range(opts.sentinel_trials):
            runs.append(sync_trial(group.url, lambda acks: failover(group.kill_primary, acks)))
            group.wait_for_failover()
            group.heal()
    info = {**params, "placement": "unpinned", "down_after_ms": 1000, "fault": "SIGKILL"}
    return [load_row("sentinel-failover", "stratacache Cache(l1=False), 2 threads", runs, info)]


PROBE = "probe"


@contextlib.contextmanager
def probe_writer(url: str) -> Iterator[Acks]:
    """A thread writing only PROBE through a cache of its own; its acks tell when PROBE's
    slot takes writes again, whatever the other slots do."""
    acks, stop = Acks(), threading.Event()
    options = fault_options(coherence=None, key_prefix="probe:")
    with stratacache.Cache(redis=url, l1=False, redis_options=options) as cache:

        def run() -> None:
            deadline = time.monotonic() + 60.0
            while not stop.is_set() and time.monotonic() < deadline:
                cache.set(PROBE, value_of(PROBE))
                acks.update(cache.stats())
                time.sleep(0.001)

        thread = threading.Thread(target=run)
        thread.start()
        try:
            acks.first_ack_after(time.perf_counter() - 1.0, timeout=10.0)
            yield acks
        finally:
            stop.set()
            thread.join()


def probe_key(group: RedisClusterGroup) -> str:
    """The Redis key our cache stored PROBE under (found, not rebuilt from the key layout)."""
    for node in group.primaries:
        found = node.command("KEYS", f"probe:*{PROBE}")
        if found:
            return str(found[0])
    msg = "the probe key was not written"
    raise RuntimeError(msg)


def cluster_rows(opts: FaultOptions, params: dict[str, Any]) -> list[Any]:
    """Time until the killed primary's slot takes writes again (seen by the probe writer);
    the load, on every slot, counts exceptions and wrong values."""
    runs = []
    with RedisClusterGroup(node_timeout_ms=1000) as group:
        for _ in range(opts.cluster_trials):
            with probe_writer(group.url) as acks:
                key = probe_key(group)

                def inject(_: Acks, acks: Acks = acks, key: str = key) -> Trial:
                    return failover(lambda: group.kill_primary_of(key), acks)

                runs.append(sync_trial(group.url, inject))
            group.wait_cluster_ok()
            group.heal()
    info = {**params, "placement": "unpinned", "node_timeout_ms": 1000, "fault": "SIGKILL"}
    return [load_row("cluster-failover", "stratacache Cache(l1=False), 2 threads", runs, info)]


# -- 4. coherence: the staleness window and the subscription cut --------------------------------
KEY = "k"


def coherent_cache(url: str, coherence: str) -> stratacache.Cache:
    # A short breaker recovery: after a cut, B reads again 0.2 s after the server is back.
    breaker = stratacache.BreakerConfig(recovery_time=0.2)
    options = stratacache.RedisOptions(
        coherence=coherence, key_prefix=f"{coherence}:", breaker=breaker
    )
    return stratacache.Cache(redis=url, redis_options=options)


def writer_process(url: str, coherence: str, conn: Any) -> None:
    """A: writes each value it is sent; answers (monotonic ns once set() returned, acked)."""
    pin_process(os.getpid(), 0)
    with coherent_cache(url, coherence) as cache:
        conn.send("up")
        while (value := conn.recv()) is not None:
            before = cache.stats().l2.sets
            cache.set(KEY, value)
            done = time.monotonic_ns()
            conn.send((done, cache.stats().l2.sets > before))


def reader_process(url: str, coherence: str, conn: Any) -> None:
    """B: for each (old, polite) it is sent, gets `old` into L1, says "holding", then polls
    until get() returns something else and answers the monotonic ns of that get (or None)."""
    pin_process(os.getpid(), 1)
    with coherent_cache(url, coherence) as cache:
        conn.send("up")
        while (message := conn.recv()) is not None:
            old, polite = message
            if not hold(cache, old):
                conn.send("failed")
                continue
            conn.send("holding")
            get, deadline, seen = cache.get, time.monotonic() + 5.0, None
            while time.monotonic() < deadline:
                if get(KEY) != old:
                    seen = time.monotonic_ns()
                    break
                if polite:
                    time.sleep(0)
            conn.send(seen)


def hold(cache: stratacache.Cache, old: Any) -> bool:
    """Until `old` is in B's L1 and B's subscription is up (bounded: 15 s)."""
    deadline = time.monotonic() + 15.0
    while time.monotonic() < deadline:
        if cache.stats().l2.coherent and cache.get(KEY) == old and KEY in cache:
            return True
        time.sleep(0.005)
    return False


@contextlib.contextmanager
def writer_and_reader(url: str, coherence: str) -> Iterator[tuple[Any, Any]]:
    """Processes A and B (spawned), stopped (by PID, if they hang) on the way out."""
    ctx = mp.get_context("spawn")
    pipes, procs = [], []
    try:
        for target in (writer_process, reader_process):
            ours, theirs = ctx.Pipe()
            proc = ctx.Process(target=target, args=(url, coherence, theirs), daemon=True)
            proc.start()
            pipes.append(ours)
            procs.append(proc)
        for conn in pipes:
            if not conn.poll(60) or conn.recv() != "up":
                msg = "a coherence process did not start"
                raise RuntimeError(msg)
        yield pipes[0], pipes[1]
    finally:
        for conn in pipes:
            with contextlib.suppress(OSError):
                conn.send(None)
        for proc in procs:
            proc.join(5)
            if proc.is_alive():
                proc.kill()
                proc.join(5)


def write(writer: Any, value: int) -> int:
    """A's set of `value`, retried until acknowledged (the server may have just restarted)."""
    for _ in range(200):
        writer.send(value)
        done, acked = writer.recv()
        if acked:
            return int(done)
        time.sleep(0.05)
    msg = "the writer could not write for 10 s"
    raise RuntimeError(msg)


def staleness(writer: Any, reader: Any, trials: int, *, polite: bool) -> tuple[list[float], int]:
    """Windows in seconds (< 0 means B saw the change before A's set() returned) and failures."""
    windows, failed = [], 0
    write(writer, 0)
    for i in range(1, trials + 1):
        reader.send((i - 1, polite))
        if reader.recv() != "holding":
            failed += 1
            write(writer, i)
            continue
        acked = write(writer, i)
        seen = reader.recv()
        if seen is None:
            failed += 1
        else:
            windows.append((seen - acked) / 1e9)
    return windows, failed


def cut(server: RedisServer, writer: Any, reader: Any, trials: int) -> tuple[list[float], int]:
    """From SIGKILL of the server to B's first get that no longer returns the old value."""
    times, failed = [], 0
    for i in range(trials):
        write(writer, 10_000 + i)
        reader.send((10_000 + i, True))
        if reader.recv() != "holding":
            failed += 1
            continue
        killed = time.monotonic_ns()
        server.kill()
        seen = reader.recv()
        server.restart()
        pin_process(server.pid, 0)
        if seen is None:
            failed += 1
        else:
            times.append((seen - killed) / 1e9)
    return times, failed


def coherence_rows(server: RedisServer, opts: FaultOptions, params: dict[str, Any]) -> list[Any]:
    rows = []
    info = {**params, "placement": "server and A on CPU 0, B on CPU 1"}
    info["switch_interval_ms"] = sys.getswitchinterval() * 1e3
    for coherence in ("pubsub", "tracking"):
        with writer_and_reader(server.url, coherence) as (writer, reader):
            for polite in (False, True):
                windows, failed = staleness(writer, reader, opts.staleness_trials, polite=polite)
                loop = "time.sleep(0) per poll" if polite else "tight loop"
                row = {
                    "case": "coherence-staleness",
                    "impl": f"coherence={coherence!r}, B polls in a {loop}",
                    "n": len(windows),
                    **percentiles([max(w, 0.0) for w in windows]),
                    "seen_before_ack": sum(w < 0 for w in windows),
                    "failed_trials": failed,
                    "params": info,
                }
                print_row(row)
                rows.append(row)
            if coherence == "pubsub":
                times, failed = cut(server, writer, reader, opts.cut_trials)
                row = {
                    "case": "coherence-cut",
                    "impl": "coherence='pubsub', server SIGKILLed while B holds k",
                    "n": len(times),
                    **percentiles(times),
                    "failed_trials": failed,
                    "params": {**info, "breaker_recovery_s": 0.2},
                }
                print_row(row)
                rows.append(row)
    return rows


# -- main ---------------------------------------------------------------------------------------
@dataclass
class FaultOptions:
    """Trials per case."""

    quick: bool
    kill_trials: int
    pause_trials: int
    sentinel_trials: int
    staleness_trials: int
    cut_trials: int
    cluster_trials: int


def parse_fault_options(argv: list[str] | None = None) -> FaultOptions:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer trials, under ~90 s")
    args = parser.parse_args(argv)
    if args.quick:
        return FaultOptions(True, 2, 1, 1, 200, 8, 0)
    return FaultOptions(False, 8, 3, 4, 500, 30, 3)


def print_row(row: dict[str, Any]) -> None:
    shown = {k: v for k, v in row.items() if k not in ("case", "impl", "params") and v is not None}
    print(f"\n{row['case']}: {row['impl']}")
    print("  " + ", ".join(f"{k}={v}" for k, v in shown.items()), flush=True)


def main() -> None:
    opts = parse_fault_options()
    rows: list[dict[str, Any]] = []
    load_average = {"load_average_1m": round(os.getloadavg()[0], 2)}  # shared, noisy machines
    server = RedisServer().start()
    try:
        params = {**pin(server), **load_average}
        rows += standalone_rows(server, opts, params)
        rows += coherence_rows(server, opts, params)
    finally:
        server.stop()
    rows += sentinel_rows(opts, load_average)
    if opts.cluster_trials:
        rows += cluster_rows(opts, load_average)
    path = write_results("l2_faults_quick" if opts.quick else "l2_faults", rows)
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
