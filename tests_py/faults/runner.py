"""Runs the app of `app.py` as worker processes on real servers and injects the faults.

`App` starts the workers (2 sync readers, 1 asyncio reader, 1 writer), waits until each has
built its cache, and stops them by PID at the end (a stop line on stdin, then SIGUSR1 for a
stack dump and SIGKILL if one hangs). The fault functions each inject one fault on servers
the test owns and return its `Window` (monotonic start and end, shared with the workers).
Every wait here is bounded.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import stratacache
from stratacache.testing.redis_servers import RedisClusterGroup, RedisSentinelGroup, RedisServer

from .app import value_of

if TYPE_CHECKING:
    from typing_extensions import Self

APP = Path(__file__).with_name("app.py")
KEYS_PER_METHOD = 10
KEY_PREFIX = "sc:"
STOP_GRACE_S = 20.0


@dataclass(frozen=True)
class Plan:
    """Phase lengths (seconds) and trials of one form of the suite."""

    form: str
    warm: float
    after: float
    trials: int
    outage: float  # kill -9: seconds dead; SIGSTOP: seconds stopped; foreign bytes: seconds
    cuts: int

    def seconds(self) -> float:
        """A bound on a worker's lifetime for this plan (the runner stops it sooner)."""
        per_trial = self.outage + self.after + 30.0  # failover waits and restarts included
        return self.warm + self.trials * per_trial + 30.0


SHORT = Plan(form="short", warm=1.0, after=3.5, trials=1, outage=2.0, cuts=3)
LONG = Plan(form="long", warm=2.0, after=8.0, trials=3, outage=5.0, cuts=12)


def cache_options() -> dict[str, Any]:
    """The workers' RedisOptions: defaults but a short degraded TTL, and one deadline per call
    when this version of the library has it (`call_timeout`)."""
    options: dict[str, Any] = {"degraded_l1_ttl": 0.5}
    if "call_timeout" in stratacache.RedisOptions.__dataclass_fields__:
        options["call_timeout"] = 0.25
    return options


def call_deadline(options: dict[str, Any]) -> float:
    """The longest one Redis call may take under `options`: call_timeout when it exists, else
    what the socket timeout, retries and backoff allow."""
    full = stratacache.RedisOptions(**options)
    timeout = getattr(full, "call_timeout", None)
    if timeout is not None:
        return float(timeout)
    return full.socket_timeout * (full.retries + 1) + full.backoff_max * full.retries


@dataclass
class Window:
    """One injected fault: what and when (monotonic seconds)."""

    start: float
    end: float
    info: dict[str, Any] = field(default_factory=dict)


@dataclass
class Worker:
    name: str
    process: subprocess.Popen[str]
    out: Path


class App:
    """The app's processes on `cache_url`, over the database at `db_url`."""

    def __init__(
        self,
        cache_url: str,
        db_url: str,
        directory: Path,
        plan: Plan,
        *,
        signing_key: bytes | None = None,
    ) -> None:
        self.options = cache_options()
        common = {
            "cache_url": cache_url,
            "db_url": db_url,
            "options": self.options,
            "keys": KEYS_PER_METHOD,
            "ttl": 60.0,
            "loader_delay": 0.03,  # queries of 1-30 ms: a burst's second update lands meanwhile
            "burst_gap": 0.01,
            "seconds": plan.seconds(),
            "max_ops": 2_000_000,
            "signing_key": None if signing_key is None else signing_key.hex(),
        }
        self.configs = [
            {"name": "r1", "role": "reader", "threads": 2, "pace": 0.001, "lock_timeout": 0.5},
            {"name": "r2", "role": "reader", "threads": 2, "pace": 0.001},
            {"name": "a1", "role": "async-reader", "tasks": 8, "pace": 0.001},
            # ~10 keys/s updated out of 40: a key changes every ~4 s, so a stale value is not
            # hidden by the next invalidation of its key before the window is over.
            {"name": "w1", "role": "writer", "pace": 0.08},
        ]
        for seed, config in enumerate(self.configs, start=1):
            config.update(common, seed=seed, out=str(directory / f"{config['name']}.json"))
        self.directory = directory
        self.workers: list[Worker] = []
        self.logs: list[dict[str, Any]] = []

    def __enter__(self) -> Self:
        try:
            for config in self.configs:
                path = self.directory / f"{config['name']}.config.json"
                path.write_text(json.dumps(config))
                process = subprocess.Popen(
                    [sys.executable, str(APP), str(path)],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                )
                self.workers.append(Worker(config["name"], process, Path(config["out"])))
            for worker in self.workers:
                wait_for_line(worker, "ready", 60.0)
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> list[dict[str, Any]]:
        """Stops every worker (by PID, bounded) and reads their logs once."""
        for worker in self.workers:
            if worker.process.poll() is None and worker.process.stdin is not None:
                try:
                    worker.process.stdin.write("stop\n")
                    worker.process.stdin.flush()
                except OSError:
                    pass
        for worker in self.workers:
            end_process(worker)
        if not self.logs:
            self.logs = [read_log(w) for w in self.workers]
        self.workers = []
        return self.logs


def wait_for_line(worker: Worker, line: str, timeout: float) -> None:
    """Reads the worker's stdout until `line` (bounded in time and lines)."""
    stdout = worker.process.stdout
    assert stdout is not None
    deadline = time.monotonic() + timeout
    for _ in range(100):
        if time.monotonic() > deadline:
            break
        got = stdout.readline()
        if got.strip() == line:
            return
        if not got:
            msg = f"worker {worker.name} exited before printing {line!r}"
            raise RuntimeError(msg)
    msg = f"worker {worker.name} did not print {line!r} in time"
    raise RuntimeError(msg)


def end_process(worker: Worker) -> None:
    process = worker.process
    try:
        process.wait(STOP_GRACE_S)
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGUSR1)  # faulthandler: the stacks of the hang to stderr
        time.sleep(0.5)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(5)
    for stream in (process.stdin, process.stdout):
        if stream is not None:
            stream.close()


def read_log(worker: Worker) -> dict[str, Any]:
    if not worker.out.exists():
        return {"name": worker.name, "role": "?", "missing": True, "exceptions": ["no log"]}
    data: dict[str, Any] = json.loads(worker.out.read_text())
    return data


# -- faults ------------------------------------------------------------------------------------
def kill_and_restart(server: RedisServer, plan: Plan) -> Window:
    """kill -9, `plan.outage` seconds dead, restart on the same port (AOF keeps the data)."""
    start = time.monotonic()
    server.kill()
    time.sleep(plan.outage)
    server.restart()
    return Window(start, time.monotonic(), {"dead_s": plan.outage})


def stop_and_continue(server: RedisServer, plan: Plan) -> Window:
    """SIGSTOP for `plan.outage` seconds, then SIGCONT."""
    start = time.monotonic()
    server.pause()
    try:
        time.sleep(plan.outage)
    finally:
        server.resume()
    return Window(start, time.monotonic(), {"stopped_s": plan.outage})


def sentinel_failover(group: RedisSentinelGroup, plan: Plan) -> Window:
    """kill -9 of the primary; the window ends once the sentinels agree on a new one."""
    start = time.monotonic()
    old = group.kill_primary()
    group.wait_for_failover(timeout=30.0)
    end = time.monotonic()
    return Window(start, end, {"old_primary": old.port, "new_primary": group.primary.port})


def cluster_primary_kill(group: RedisClusterGroup, plan: Plan, key: str) -> Window:
    """kill -9 of the primary serving `key`; the window ends once the cluster is ok again."""
    start = time.monotonic()
    node = group.kill_primary_of(value_rkey(key))
    group.wait_cluster_ok(timeout=30.0)
    return Window(start, time.monotonic(), {"killed": node.port, "key": key})


def cut_subscriptions(server: RedisServer, plan: Plan) -> Window:
    """CLIENT KILL TYPE pubsub `plan.cuts` times, 0.5 s apart."""
    start, killed = time.monotonic(), []
    for n in range(plan.cuts):
        if n:
            time.sleep(0.5)
        killed.append(int(server.command("CLIENT", "KILL", "TYPE", "pubsub")))
    return Window(start, time.monotonic(), {"cuts": plan.cuts, "connections_killed": killed})


def value_rkey(key: str) -> bytes:
    """The Redis key the workers' caches keep `key` under (namespace "")."""
    return (KEY_PREFIX + "\x1f" + key).encode()


def plant_foreign_bytes(
    server: RedisServer, plan: Plan, keys: list[str], *, forged: bool = False
) -> Window:
    """For `plan.outage` seconds, every 20 ms: junk into value keys, tag-version keys and lock
    keys. With `forged`, also well-formed envelopes the app never wrote (unsigned, another
    key's, another signing key's, and a small one that decodes to a 2M-item list)."""
    rng = random.Random(7)
    client = server.client(decode=False)
    planted: dict[str, int] = {}
    junk_tags = [b"junk", b"\xff\xfe", b"1.5", b"-", b"9" * 40, b""]
    strange = stratacache.Codec(signing_key=bytes(range(32)))
    plain = stratacache.Codec()
    start = time.monotonic()
    deadline = start + plan.outage
    try:
        for _ in range(100_000):
            if time.monotonic() > deadline:
                break
            key = rng.choice(keys)
            rkey = value_rkey(key)
            kind = rng.choice(
                ["random", "header", "truncated", "tag", "lock", *(["forged"] * 3 * forged)]
            )
            if kind == "random":
                client.set(rkey, rng.randbytes(rng.randrange(1, 64)))
            elif kind == "header":
                client.set(rkey, b"SC\x01\x01" + rng.randbytes(rng.randrange(0, 60)))
            elif kind == "truncated":
                genuine = client.get(rkey)
                if genuine:
                    client.set(rkey, genuine[: rng.randrange(len(genuine))])
            elif kind == "tag":
                group = rng.randrange(4)
                client.set(f"{KEY_PREFIX}tag:grp{group}".encode(), rng.choice(junk_tags))
            elif kind == "lock":
                lock = KEY_PREFIX.encode() + b"lock:" + rkey
                client.set(lock, rng.randbytes(16), px=rng.randrange(200, 2000))
            else:
                client.set(
                    rkey,
                    forged_envelope(rng, client, key=key, keys=keys, plain=plain, strange=strange),
                )
            planted[kind] = planted.get(kind, 0) + 1
            time.sleep(0.02)
    finally:
        client.close()
    return Window(start, time.monotonic(), {"planted": planted})


def forged_envelope(
    rng: random.Random,
    client: Any,
    *,
    key: str,
    keys: list[str],
    plain: stratacache.Codec,
    strange: stratacache.Codec,
) -> bytes:
    """A well-formed envelope for `key` that the app never wrote."""
    name = value_rkey(key).decode()
    other = rng.choice(keys)
    choice = rng.randrange(4)
    if choice == 0:  # genuine bytes of another key
        genuine = client.get(value_rkey(other))
        if genuine:
            return bytes(genuine)
    if choice == 1:  # decodes to 2M items from a few KB
        return plain.encode_entry(name, [0] * 2_000_000, ttl_ms=60_000, compute_us=0, tags={})
    codec = plain if choice == 2 else strange
    return codec.encode_entry(name, value_of(other, 10**6), ttl_ms=60_000, compute_us=0, tags={})
