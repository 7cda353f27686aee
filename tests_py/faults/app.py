"""A user-style app for the fault suite: one process reading or writing through stratacache.

Run as ``python app.py CONFIG.json`` by `runner.py`, never imported by the app itself. The
source of truth is a redis-server of its own (the "database", never faulted): record ``rec:K``
holds the version of key K, and the value of K at version V is `value_of(K, V)`. Roles:

* ``reader``: threads reading random keys, half through the decorated loaders and half
  through ``cache.get`` (a miss then calls the loader); each read is logged as
  (start, end, key, version, how) with monotonic times, which every process shares.
* ``async-reader``: the same with an `AsyncCache`, async loaders and tasks.
* ``writer``: bumps a record in the database, then invalidates it through the cache with
  the method its key belongs to (``cache.delete``, ``invalidate_tags``,
  ``invalidate_pattern`` or the decorated function's ``invalidate``), logs the
  acknowledgement (time, key, version) and reads the key back at once with ``get``. Half
  the updates come twice, 10 ms apart, while the loaders (1-30 ms each) started by the
  first are still running: a fill that began before an invalidation must not survive it.

Every process samples its cache's stats every 20 ms. It prints ``ready`` once its cache is
built, stops on a line (or EOF) on stdin or at its own deadline, writes its log to the
config's ``out`` path as JSON and prints ``done``. Exceptions are counted, never raised: a
fail-open cache must not raise to the app.
"""

from __future__ import annotations

import asyncio
import dataclasses
import faulthandler
import json
import random
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis
import redis.asyncio

import stratacache

METHODS = ("del", "tag", "pat", "fn")
TAG_GROUPS = 4
SAMPLE_EVERY = 0.02
HOW_LOADER, HOW_GET, HOW_GET_THEN_LOADER = 0, 1, 2
WRONG = -1


def key_of(method: str, i: int) -> str:
    """The cache key of record i of a method; "pat" keys end in a suffix the glob matches."""
    return f"pat:{i}:rec" if method == "pat" else f"{method}:{i}"


def all_keys(per_method: int) -> list[str]:
    return [key_of(m, i) for m in METHODS for i in range(per_method)]


def value_of(key: str, version: int) -> dict[str, Any]:
    """The value of `key` at `version`: it names both, so another key's value shows."""
    return {"key": key, "v": version, "pad": f"{key}@{version};" * 4}


def version_in(key: str, got: Any) -> int:
    """The version `got` is of `key`, or WRONG for anything no write ever produced."""
    if not isinstance(got, dict) or got.get("key") != key:
        return WRONG
    version = got.get("v")
    if type(version) is not int or version < 0 or got != value_of(key, version):
        return WRONG
    return version


def redis_options(config: dict[str, Any]) -> stratacache.RedisOptions:
    return stratacache.RedisOptions(**config["options"])


def codec(config: dict[str, Any]) -> stratacache.Codec | None:
    key = config.get("signing_key")
    return None if key is None else stratacache.Codec(signing_key=bytes.fromhex(key))


class Log:
    """What one process saw, written as JSON at the end."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.keys = all_keys(config["keys"])
        self.index = {k: n for n, k in enumerate(self.keys)}
        self.reads: list[tuple[float, float, int, int, int]] = []
        self.acks: list[tuple[float, float, int, int]] = []  # (db done, ack, key, version)
        self.exceptions: list[str] = []
        self.wrong: list[str] = []
        self.samples: list[tuple[float, int, int, int, str]] = []
        self.final_stats: dict[str, Any] = {}
        self.lock = threading.Lock()

    def read(self, t0: float, key: str, got: Any, how: int) -> None:
        t1 = time.monotonic()
        version = version_in(key, got)
        if version == WRONG and len(self.wrong) < 20:
            self.wrong.append(f"{key}: {got!r:.200}")
        with self.lock:
            self.reads.append((t0, t1, self.index[key], version, how))

    def failed(self, what: str, exc: BaseException) -> None:
        with self.lock:
            self.exceptions.append(f"{what}: {type(exc).__name__}: {exc!s:.300}")

    def sample(self, stats: Any) -> None:
        l2 = stats.l2
        answered = l2.hits + l2.misses + l2.corrupt + l2.tag_misses + l2.sets + l2.deletes
        answered += l2.tombstone_misses + l2.grace_misses  # answered, the value distrusted
        skipped = l2.skipped_reads + l2.skipped_writes
        self.samples.append((time.monotonic(), answered, skipped, int(l2.coherent), l2.breaker))

    def write(self) -> None:
        data = {
            "name": self.config["name"],
            "role": self.config["role"],
            "keys": self.keys,
            "reads": self.reads,
            "acks": self.acks,
            "exceptions": self.exceptions,
            "wrong": self.wrong,
            "samples": self.samples,
            "final_stats": self.final_stats,
        }
        Path(self.config["out"]).write_text(json.dumps(data))


def running(stop: threading.Event, deadline: float, done: int, limit: int) -> bool:
    return not stop.is_set() and time.monotonic() < deadline and done < limit


# -- sync: readers and the writer ------------------------------------------------------------
def sync_loaders(cache: stratacache.Cache, config: dict[str, Any]) -> Callable[[str, int], Any]:
    """call(method, i): the decorated function of that method (tagged ones by group)."""
    db = redis.Redis.from_url(config["db_url"], socket_timeout=5)
    delay = config["loader_delay"]

    def fetch(key: str) -> dict[str, Any]:
        version = int(db.get("rec:" + key) or 0)
        # A query of 1 ms to `delay`: a slow one that read the old version can end after a
        # fast one that read the new one, and its fill comes last.
        time.sleep(random.uniform(0.001, delay))
        return value_of(key, version)

    fns: dict[str, Any] = {}
    for method in ("del", "pat", "fn"):

        def load(i: int, method: str = method) -> dict[str, Any]:
            return fetch(key_of(method, i))

        fns[method] = cache.cache(key=lambda i, method=method: key_of(method, i))(load)
    for group in range(TAG_GROUPS):

        def load_tagged(i: int) -> dict[str, Any]:
            return fetch(key_of("tag", i))

        decorate = cache.cache(key=lambda i: key_of("tag", i), tags=[f"grp{group}"])
        fns[f"tag{group}"] = decorate(load_tagged)

    def call(method: str, i: int) -> Any:
        return fns[f"tag{i % TAG_GROUPS}" if method == "tag" else method](i)

    call.fns = fns  # type: ignore[attr-defined]
    return call


def read_one(cache: Any, call: Callable[[str, int], Any], rng: random.Random, log: Log) -> None:
    method, i = rng.choice(METHODS), rng.randrange(log.config["keys"])
    key = key_of(method, i)
    t0 = time.monotonic()
    try:
        if rng.random() < 0.5:
            log.read(t0, key, call(method, i), HOW_LOADER)
            return
        got = cache.get(key)
        if got is None:
            log.read(t0, key, call(method, i), HOW_GET_THEN_LOADER)
        else:
            log.read(t0, key, got, HOW_GET)
    except Exception as exc:  # noqa: BLE001 - counted: the app must never see one
        log.failed(f"read {key}", exc)


def reader(cache: stratacache.Cache, log: Log, stop: threading.Event) -> None:
    config = log.config
    call = sync_loaders(cache, config)
    deadline = time.monotonic() + config["seconds"]

    def run(seed: int) -> None:
        rng, done = random.Random(seed), 0
        while running(stop, deadline, done, config["max_ops"]):
            read_one(cache, call, rng, log)
            done += 1
            time.sleep(config["pace"])

    threads = [
        threading.Thread(target=run, args=(config["seed"] * 100 + n,))
        for n in range(config["threads"])
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def invalidate(cache: stratacache.Cache, call: Any, method: str, i: int) -> None:
    key = key_of(method, i)
    if method == "del":
        cache.delete(key)
    elif method == "tag":
        cache.invalidate_tags(f"grp{i % TAG_GROUPS}")
    elif method == "pat":
        cache.invalidate_pattern(f"pat:{i}:*")
    else:
        call.fns["fn"].invalidate(i)


def writer(cache: stratacache.Cache, log: Log, stop: threading.Event) -> None:
    config = log.config
    call = sync_loaders(cache, config)
    db = redis.Redis.from_url(config["db_url"], socket_timeout=5)
    rng = random.Random(config["seed"])
    deadline, done = time.monotonic() + config["seconds"], 0
    while running(stop, deadline, done, config["max_ops"]):
        method, i = rng.choice(METHODS), rng.randrange(config["keys"])
        # Half the updates come twice, a few ms apart: the second lands while other
        # processes' loaders, started by the first, still hold the version before it.
        times = 2 if rng.random() < 0.5 else 1
        for n in range(times):
            if n:
                time.sleep(config["burst_gap"])
            done += 1
            update(cache, call, db, log, method=method, i=i, read_back=n + 1 == times)
        time.sleep(config["pace"])


def update(
    cache: stratacache.Cache, call: Any, db: Any, log: Log, *, method: str, i: int, read_back: bool
) -> None:
    """Bumps record i in the database, invalidates it, logs the acknowledgement and (when
    `read_back`) reads the key back."""
    key = key_of(method, i)
    version = int(db.incr("rec:" + key))
    written = time.monotonic()
    try:
        invalidate(cache, call, method, i)
    except Exception as exc:  # noqa: BLE001 - counted
        log.failed(f"invalidate {key}", exc)
        return
    acked = time.monotonic()
    log.acks.append((written, acked, log.index[key], version))
    if not read_back:
        return
    # Read back at once: this process must see its own invalidation. With get, not the
    # loader: the writer's own fill would repair what a late fill of another process broke.
    t0 = time.monotonic()
    try:
        got = cache.get(key)
    except Exception as exc:  # noqa: BLE001 - counted
        log.failed(f"read back {key}", exc)
        return
    if got is not None:
        log.read(t0, key, got, HOW_GET)


def sampler(stats: Callable[[], Any], log: Log, stop: threading.Event) -> threading.Thread:
    def run() -> None:
        deadline = time.monotonic() + log.config["seconds"] + 5
        while not stop.wait(SAMPLE_EVERY) and time.monotonic() < deadline:
            log.sample(stats())

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def run_sync(config: dict[str, Any], log: Log, stop: threading.Event) -> None:
    cache = stratacache.Cache(
        redis=config["cache_url"],
        redis_options=redis_options(config),
        codec=codec(config),
        default_ttl=config["ttl"],
        lock_timeout=config.get("lock_timeout"),
    )
    try:
        ready()
        watch = sampler(cache.stats, log, stop)
        (writer if config["role"] == "writer" else reader)(cache, log, stop)
        stop.set()
        watch.join(1)
        log.final_stats = dataclasses.asdict(cache.stats())
    finally:
        cache.close()


# -- asyncio reader ----------------------------------------------------------------------------
def async_loaders(cache: stratacache.AsyncCache, config: dict[str, Any]) -> Any:
    db = redis.asyncio.Redis.from_url(config["db_url"], socket_timeout=5)
    delay = config["loader_delay"]

    async def fetch(key: str) -> dict[str, Any]:
        version = int(await db.get("rec:" + key) or 0)
        await asyncio.sleep(random.uniform(0.001, delay))
        return value_of(key, version)

    fns: dict[str, Any] = {}
    for method in ("del", "pat", "fn"):

        async def load(i: int, method: str = method) -> dict[str, Any]:
            return await fetch(key_of(method, i))

        fns[method] = cache.cache(key=lambda i, method=method: key_of(method, i))(load)
    for group in range(TAG_GROUPS):

        async def load_tagged(i: int) -> dict[str, Any]:
            return await fetch(key_of("tag", i))

        decorate = cache.cache(key=lambda i: key_of("tag", i), tags=[f"grp{group}"])
        fns[f"tag{group}"] = decorate(load_tagged)

    async def call(method: str, i: int) -> Any:
        return await fns[f"tag{i % TAG_GROUPS}" if method == "tag" else method](i)

    return call, db


async def async_read_one(cache: Any, call: Any, rng: random.Random, log: Log) -> None:
    method, i = rng.choice(METHODS), rng.randrange(log.config["keys"])
    key = key_of(method, i)
    t0 = time.monotonic()
    try:
        if rng.random() < 0.5:
            log.read(t0, key, await call(method, i), HOW_LOADER)
            return
        got = await cache.get(key)
        if got is None:
            log.read(t0, key, await call(method, i), HOW_GET_THEN_LOADER)
        else:
            log.read(t0, key, got, HOW_GET)
    except Exception as exc:  # noqa: BLE001 - counted
        log.failed(f"read {key}", exc)


async def run_async(config: dict[str, Any], log: Log, stop: threading.Event) -> None:
    cache = stratacache.AsyncCache(
        redis=config["cache_url"],
        redis_options=redis_options(config),
        codec=codec(config),
        default_ttl=config["ttl"],
        lock_timeout=config.get("lock_timeout"),
    )
    call, db = async_loaders(cache, config)
    deadline = time.monotonic() + config["seconds"]
    try:
        ready()

        async def task(seed: int) -> None:
            rng, done = random.Random(seed), 0
            while running(stop, deadline, done, config["max_ops"]):
                await async_read_one(cache, call, rng, log)
                done += 1
                await asyncio.sleep(config["pace"])

        async def watch() -> None:
            while not stop.is_set() and time.monotonic() < deadline + 5:
                log.sample(await cache.stats())
                await asyncio.sleep(SAMPLE_EVERY)

        watcher = asyncio.create_task(watch())
        seeds = range(config["seed"] * 100, config["seed"] * 100 + config["tasks"])
        await asyncio.gather(*(task(s) for s in seeds))
        stop.set()
        await watcher
        log.final_stats = dataclasses.asdict(await cache.stats())
    finally:
        await cache.close()
        await db.aclose()


# -- main ------------------------------------------------------------------------------------
def ready() -> None:
    sys.stdout.write("ready\n")
    sys.stdout.flush()


def stop_on_stdin(stop: threading.Event) -> None:
    def run() -> None:
        sys.stdin.readline()  # a line or EOF (the runner died): stop either way
        stop.set()

    threading.Thread(target=run, daemon=True).start()


def main(path: str) -> int:
    faulthandler.register(signal.SIGUSR1)  # the runner asks for stacks before killing a hang
    config = json.loads(Path(path).read_text())
    log, stop = Log(config), threading.Event()
    stop_on_stdin(stop)
    try:
        if config["role"] == "async-reader":
            asyncio.run(run_async(config, log, stop))
        else:
            run_sync(config, log, stop)
    except Exception as exc:  # noqa: BLE001 - a cache that cannot even be built is reported
        log.failed("startup or shutdown", exc)
        ready()  # unblocks the runner, which reads the failure from the log
    log.write()
    sys.stdout.write("done\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
