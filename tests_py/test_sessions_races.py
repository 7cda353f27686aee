"""Concurrent logins of one user from threads and from processes, on a real redis-server:
the per-user limit is never exceeded, not even for an instant, because eviction and creation
are one Lua script."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import redis

import stratacache
from stratacache.sessions import SessionStore

KEY = os.urandom(32)
LIMIT = 3

# Live sessions of the user, counted atomically: index members whose session key exists.
LIVE = """
local n = 0
for _, m in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do n = n + redis.call('EXISTS', m) end
return n
"""

LOGINS = """
import sys, stratacache
from stratacache.sessions import SessionStore
url, key, n = sys.argv[1], bytes.fromhex(sys.argv[2]), int(sys.argv[3])
store = SessionStore(url, codec=stratacache.Codec(encryption_keys=key), max_per_user=3)
ids = [store.create("alice", i).id for i in range(n)]
sys.stdout.write("\\n".join(ids) + "\\n")
store.close()
"""


class Sampler:
    """Samples the user's live-session count until stopped; keeps the largest seen."""

    def __init__(self, url: str, index: str) -> None:
        self.client = redis.Redis.from_url(url)
        self.index = index
        self.largest = 0
        self.samples = 0
        self.halt = threading.Event()
        self.thread = threading.Thread(target=self.run)
        self.thread.start()

    def run(self) -> None:
        live = self.client.register_script(LIVE)
        end = time.monotonic() + 120
        while not self.halt.is_set() and time.monotonic() < end:
            self.largest = max(self.largest, int(live(keys=[self.index])))
            self.samples += 1

    def stop(self) -> None:
        self.halt.set()
        self.thread.join(timeout=10)
        self.client.close()


def _index_key(store: SessionStore) -> str:
    return store._logic.user_key("alice")


def test_concurrent_logins_from_threads_never_exceed_the_limit(redis_clean_url: str) -> None:
    store = SessionStore(
        redis_clean_url, codec=stratacache.Codec(encryption_keys=KEY), max_per_user=LIMIT
    )
    sampler = Sampler(redis_clean_url, _index_key(store))
    ids: list[str] = []
    lock = threading.Lock()

    def login() -> None:
        for i in range(40):
            sid = store.create("alice", i).id
            with lock:
                ids.append(sid)

    threads = [threading.Thread(target=login) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    sampler.stop()
    assert len(ids) == 320
    assert sampler.samples > 0
    assert sampler.largest <= LIMIT
    assert sum(store.get(sid) is not None for sid in ids) == LIMIT
    assert store.stats().evicted == 320 - LIMIT
    store.close()


def test_concurrent_logins_from_processes_never_exceed_the_limit(redis_clean_url: str) -> None:
    store = SessionStore(
        redis_clean_url, codec=stratacache.Codec(encryption_keys=KEY), max_per_user=LIMIT
    )
    sampler = Sampler(redis_clean_url, _index_key(store))
    args = [sys.executable, "-c", LOGINS, redis_clean_url, KEY.hex(), "50"]
    procs = [subprocess.Popen(args, stdout=subprocess.PIPE, text=True) for _ in range(4)]
    ids: list[str] = []
    try:
        for proc in procs:
            out, _ = proc.communicate(timeout=120)
            assert proc.returncode == 0
            ids += out.split()
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
        sampler.stop()
    assert len(ids) == 200
    assert len(set(ids)) == 200
    assert sampler.largest <= LIMIT
    assert sum(store.get(sid) is not None for sid in ids) == LIMIT
    assert len(store.list("alice")) == LIMIT
    store.close()


def test_create_and_revoke_user_race_cleanly(redis_clean_url: str) -> None:
    store = SessionStore(
        redis_clean_url, codec=stratacache.Codec(encryption_keys=KEY), max_per_user=5
    )
    failures: list[BaseException] = []
    created: list[str] = []
    halt = threading.Event()

    def login() -> None:
        try:
            for i in range(200):
                created.append(store.create("alice", i).id)
        except BaseException as exc:  # noqa: BLE001 - any exception fails the test
            failures.append(exc)
        finally:
            halt.set()

    def revoke_all() -> None:
        try:
            while not halt.is_set():
                store.revoke_user("alice")
        except BaseException as exc:  # noqa: BLE001
            failures.append(exc)

    threads = [threading.Thread(target=login), threading.Thread(target=revoke_all)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert failures == []
    live = sum(store.get(sid) is not None for sid in created)
    assert live <= 5
    assert len(store.list("alice")) == live
    store.revoke_user("alice")
    assert all(store.get(sid) is None for sid in created)
    store.close()
