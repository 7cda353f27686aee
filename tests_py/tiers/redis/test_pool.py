"""`pool.TierPool` and `pool.one`, the sync standalone tier's pool and direct commands, on a
real redis-server: the cap, the wait and its bounds, and connections that broke or that the
server closed."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
import redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

import stratacache
from stratacache.testing.redis_servers import RedisServer
from stratacache.tiers.redis.common import call_deadline
from stratacache.tiers.redis.pool import TierPool, one, pair


def make_pool(server: RedisServer, **kwargs: Any) -> TierPool:
    kwargs.setdefault("max_connections", 2)
    kwargs.setdefault("timeout", 0.2)
    return TierPool(host="127.0.0.1", port=server.port, **kwargs)


def readable(conn: Any) -> bool:
    """True once `conn`'s socket has something to read, its close included."""
    try:
        return bool(conn._parser.can_read(0))
    except RedisConnectionError:
        return True


@pytest.fixture
def server(redis_server: RedisServer) -> RedisServer:
    redis_server.flushall()
    return redis_server


def test_the_cache_of_a_standalone_url_uses_it(server: RedisServer) -> None:
    cache = stratacache.Cache(redis=server.url, l1=False)
    try:
        driver: Any = cache._driver
        assert isinstance(driver.redis.client.connection_pool, TierPool)
        cache.set("k", {"v": 1})
        assert cache.get("k") == {"v": 1}
        assert cache.get("missing") is None
    finally:
        cache.close()


def test_one_runs_a_command_and_raises_error_replies(server: RedisServer) -> None:
    pool = make_pool(server)
    try:
        assert one(pool, ("SET", b"k", b"v")) == b"OK"
        assert one(pool, ("GET", b"k")) == b"v"
        assert one(pool, ("GET", b"nope")) is None
        with pytest.raises(ResponseError):
            one(pool, ("INCR", b"k"))  # not an integer
        (conn,) = pool._available_connections  # the error reply was read: kept, still open
        assert conn._sock is not None
        assert one(pool, ("GET", b"k")) == b"v"
        assert pool._created_connections == 1
    finally:
        pool.disconnect()


def test_pair_sends_two_commands_and_reads_both_replies(server: RedisServer) -> None:
    pool = make_pool(server, max_connections=1)
    try:
        pair(pool, ("SET", b"k", b"v", "PX", 60_000), ("PUBLISH", b"chan", b"m"))
        assert one(pool, ("GET", b"k")) == b"v"
        one(pool, ("SET", b"n", b"x"))
        with pytest.raises(ResponseError):  # the first fails: its pair still ran
            pair(pool, ("INCR", b"n"), ("SET", b"k", b"w"))
        assert one(pool, ("GET", b"k")) == b"w"  # the next reply read is this GET's own
        with pytest.raises(ResponseError):  # the second fails
            pair(pool, ("SET", b"k", b"z"), ("INCR", b"n"))
        assert one(pool, ("GET", b"k")) == b"z"
        assert pool._created_connections == 1
    finally:
        pool.disconnect()


def test_exhausted_pool_waits_then_times_out(server: RedisServer) -> None:
    pool = make_pool(server, max_connections=1, timeout=0.2)
    try:
        held = pool.get_connection()
        start = time.monotonic()
        with pytest.raises(RedisConnectionError, match="No connection available"):
            pool.get_connection()
        waited = time.monotonic() - start
        assert 0.15 <= waited < 2.0
        pool.release(held)
        assert pool.get_connection() is held  # the cap: no second connection was opened
        assert pool._created_connections == 1
    finally:
        pool.disconnect()


def test_the_wait_ends_at_the_calls_deadline(server: RedisServer) -> None:
    pool = make_pool(server, max_connections=1, timeout=5.0)
    try:
        pool.get_connection()
        token = call_deadline.set(time.monotonic() + 0.05)
        start = time.monotonic()
        try:
            with pytest.raises(RedisConnectionError):
                pool.get_connection()
        finally:
            call_deadline.reset(token)
        assert time.monotonic() - start < 1.0  # not the pool's 5 s
    finally:
        pool.disconnect()


def test_a_waiter_gets_the_connection_released_by_another_thread(server: RedisServer) -> None:
    pool = make_pool(server, max_connections=1, timeout=3.0)
    try:
        held = pool.get_connection()
        releaser = threading.Timer(0.1, pool.release, args=(held,))
        releaser.start()
        start = time.monotonic()
        got = pool.get_connection()
        assert got is held
        assert time.monotonic() - start < 2.0
        releaser.join(5)
    finally:
        pool.disconnect()


def test_threads_share_the_cap(server: RedisServer) -> None:
    pool = make_pool(server, max_connections=2, timeout=5.0)
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            for j in range(50):
                key = f"t{i}:{j}".encode()
                one(pool, ("SET", key, key))
                assert one(pool, ("GET", key)) == key
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert not errors
        assert not any(t.is_alive() for t in threads)
        assert pool._created_connections <= 2
        assert len(pool._available_connections) == pool._created_connections
        assert not pool._in_use_connections
    finally:
        pool.disconnect()


def test_a_read_that_timed_out_closes_the_connection(server: RedisServer) -> None:
    """A reply that arrives after its read gave up must not be read by the next command."""
    pool = make_pool(server, max_connections=1, socket_timeout=0.1)
    admin = redis.Redis(host="127.0.0.1", port=server.port)
    try:
        one(pool, ("SET", b"k", b"v"))
        admin.client_pause(400, all=True)
        with pytest.raises(RedisTimeoutError):
            one(pool, ("SET", b"k", b"late"))  # answered "OK" once the pause is over
        (conn,) = pool._available_connections
        assert conn._sock is None  # closed before it went back
        time.sleep(0.5)
        assert one(pool, ("GET", b"k")) in (b"v", b"late")  # a value, not a stale "OK"
        assert pool._created_connections == 1
    finally:
        admin.close()
        pool.disconnect()


def test_a_connection_the_server_closed_is_reopened_before_use(server: RedisServer) -> None:
    pool = make_pool(server, max_connections=1)
    admin = redis.Redis(host="127.0.0.1", port=server.port)
    try:
        one(pool, ("SET", b"k", b"v"))
        (conn,) = pool._available_connections
        name = one(pool, ("CLIENT", "ID"))
        admin.client_kill_filter(_id=name)
        deadline = time.monotonic() + 2.0
        while not readable(conn) and time.monotonic() < deadline:
            time.sleep(0.01)  # the server's FIN on its way
        assert readable(conn)
        assert one(pool, ("GET", b"k")) == b"v"  # no ConnectionError: reopened first
    finally:
        admin.close()
        pool.disconnect()


def test_a_released_foreign_connection_is_ignored(server: RedisServer) -> None:
    pool, other = make_pool(server), make_pool(server)
    try:
        conn = other.get_connection()
        pool.release(conn)  # not ours: neither kept nor counted
        assert not pool._available_connections
        other.release(conn)
        assert other._available_connections == [conn]
    finally:
        pool.disconnect()
        other.disconnect()
