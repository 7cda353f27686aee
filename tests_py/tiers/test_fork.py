"""A process forked after its cache was built (gunicorn --preload, multiprocessing "fork")."""

from __future__ import annotations

import asyncio
import multiprocessing
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

import pytest

import stratacache
from stratacache.testing.redis_servers import RedisServer

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="fork is POSIX only")

DEADLINE = 10.0


def _child(cache: Any, conn: Any) -> None:
    """Reports what the forked child sees: its L1 after the fork, then the value it reads
    once the parent told it another cache replaced it."""

    # One event loop for the child's whole life, as a forked worker runs: an AsyncCache's
    # connections belong to the loop that opened them.
    loop = asyncio.new_event_loop()

    def get() -> Any:
        if isinstance(cache, stratacache.AsyncCache):
            return loop.run_until_complete(cache.get("k"))
        return cache.get("k")

    try:
        conn.send(("l1 after fork", cache._store.contains(cache._prefix, "k")))
        began = time.monotonic()
        while not cache._stats().l2.coherent and time.monotonic() - began < DEADLINE:
            time.sleep(0.01)
        conn.send(("coherent", cache._stats().l2.coherent))
        conn.send(("before", get()))  # fills the child's L1 from Redis
        conn.recv()  # the parent replaced the value
        value = get()
        while value != "new" and time.monotonic() - began < DEADLINE:
            time.sleep(0.01)
            value = get()
        conn.send(("after", value))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which fails
        conn.send(("error", repr(exc)))
    finally:
        loop.close()
        conn.close()


def _fork(target: Callable[..., None], *args: Any) -> Any:
    ctx = multiprocessing.get_context("fork")
    process = ctx.Process(target=target, args=args, daemon=True)
    with warnings.catch_warnings():  # 3.12+ warns about fork() in a process with threads
        warnings.simplefilter("ignore", DeprecationWarning)
        process.start()
    return process


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_child_forked_after_the_cache_was_built_sees_other_caches_invalidations(
    kind: str, fresh_redis_server: RedisServer
) -> None:
    # issue 11 item 5: the child had no subscriber thread, kept the parent's L1, and said
    # stats().l2.coherent == True while serving the old value.
    url = fresh_redis_server.url
    cls = stratacache.Cache if kind == "sync" else stratacache.AsyncCache
    loop = asyncio.new_event_loop()  # the parent's, not running while it forks

    def run(result: Any) -> Any:
        return loop.run_until_complete(result) if kind == "async" else result

    forked = cls(redis=url, default_ttl=60)
    other = stratacache.Cache(redis=url, default_ttl=60)
    try:
        run(forked.set("k", "old"))  # leaves a pooled connection in the parent
        assert forked._store.contains(forked._prefix, "k")
        parent, child = multiprocessing.get_context("fork").Pipe()
        process = _fork(_child, forked, child)
        try:
            assert parent.poll(DEADLINE)
            seen = dict([parent.recv()])
            for _ in range(2):
                assert parent.poll(DEADLINE)
                seen.update([parent.recv()])
            assert seen == {"l1 after fork": False, "coherent": True, "before": "old"}, seen
            other.set("k", "new")
            parent.send("go")
            assert parent.poll(DEADLINE)
            assert parent.recv() == ("after", "new")
        finally:
            process.join(DEADLINE)
            if process.is_alive():
                process.kill()
                process.join(DEADLINE)
        assert process.exitcode == 0
        began = time.monotonic()  # the parent's own connections and subscriber still work
        while run(forked.get("k")) != "new" and time.monotonic() - began < DEADLINE:
            time.sleep(0.01)
        assert run(forked.get("k")) == "new"
    finally:
        other.close()
        run(forked.close())
        loop.close()
