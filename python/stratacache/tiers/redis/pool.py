"""The sync connection pool of a standalone Redis tier: redis-py's pool with a cheaper hot path.

redis-py's `BlockingConnectionPool` takes a `queue.LifoQueue` (a lock and two conditions) and
records observability counters on every get and release; measured with callgrind, a GET went
through ~60 more Python calls than our own work needed. `TierPool` keeps the same contract
(at most `max_connections` connections, a caller waits up to `timeout` for one, fork-safe,
connections that the server closed are reopened before use) with a lock-free fast path: an
idle connection is a `list.pop` away (atomic under the GIL), and the lock and condition are
taken only to open a new connection or to wait while all are in use. The wait is capped by
the running call's deadline (`common.call_deadline`), like the connections' reads.

It is a `redis.ConnectionPool`, so redis-py's pipelines, pub/sub and scripts use it as theirs.
`SentinelTierPool` is the same pool for a Sentinel-managed primary: redis-py's
`SentinelConnectionPool` raises "Too many connections" at once when all are in use, where a
tier's contract is to wait.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

from redis import ConnectionPool
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.sentinel import SentinelConnectionPool

from . import common
from .common import call_deadline

#: hiredis's packer, and redis-py's class that wraps it (None without hiredis).
_HIREDIS_PACK: Any = None
_HIREDIS_PACKER: Any = None
try:
    from hiredis import pack_command
    from redis.connection import HiredisRespSerializer
except ImportError:  # redis-py's pure-Python parser and packer
    pass
else:
    _HIREDIS_PACK, _HIREDIS_PACKER = pack_command, HiredisRespSerializer

__all__ = ["SentinelTierPool", "TierPool", "numsub", "one", "pair"]


class TierPool(ConnectionPool):
    """At most `max_connections` connections; `get_connection` waits up to `timeout` seconds
    (and no longer than the running call's deadline) while all are in use, then raises
    redis-py's ConnectionError("No connection available."), a transport error to the tier."""

    def __init__(self, *, timeout: float | None, **kwargs: Any) -> None:
        self.timeout = timeout
        super().__init__(**kwargs)

    def reset(self) -> None:
        """Forgets every connection (a forked child's pool: the sockets are the parent's)."""
        self._lock = threading.RLock()  # as redis-py's (its methods may nest)
        self._room = threading.Condition(self._lock)
        self._waiting = 0  # callers waiting for a connection (read without the lock)
        self._created_connections = 0
        self._available_connections: list[Any] = []  # idle ones, the last released on top
        self._in_use_connections: set[Any] = set()
        self.pid = os.getpid()  # last, as in redis-py: other threads compare it without lock

    def get_connection(  # redis-py's signature; the arguments are deprecated there
        self,
        command_name: Any = None,  # noqa: ARG002
        *keys: Any,  # noqa: ARG002
        **options: Any,  # noqa: ARG002
    ) -> Any:
        """A connected connection, taken from the idle ones if there is one."""
        if self.pid != common.pid:
            self._checkpid()
        try:
            conn = self._available_connections.pop()
        except IndexError:
            conn = self._grow_or_wait()
        self._in_use_connections.add(conn)
        try:
            _ready(conn)
        except BaseException:
            self.release(conn)
            raise
        return conn

    def _grow_or_wait(self) -> Any:
        """A new connection while below the cap, else the next one released (or the error)."""
        with self._room:
            if self._created_connections < self.max_connections:
                self._created_connections += 1
                return self.connection_class(**self.connection_kwargs)
            end = _wait_until(self.timeout)
            self._waiting += 1
            try:
                while True:
                    try:  # a release may have come between our pop and taking the lock
                        return self._available_connections.pop()
                    except IndexError:
                        pass
                    left = None if end is None else end - time.monotonic()
                    if left is not None and left <= 0:
                        msg = "No connection available."
                        raise RedisConnectionError(msg)
                    self._room.wait(left)
            finally:
                self._waiting -= 1

    def release(self, connection: Any) -> None:
        """Returns `connection` to the idle ones (one this pool did not hand out is ignored)."""
        try:
            self._in_use_connections.remove(connection)
        except KeyError:  # another pool's, or from before a fork (reset forgot it)
            return
        if connection.pid != self.pid:  # opened in another process: never reused here
            connection.disconnect()
            with self._room:
                self._created_connections -= 1
                self._room.notify()
            return
        self._available_connections.append(connection)
        if self._waiting:  # read after the append: a waiter that missed it is notified
            with self._room:
                self._room.notify()

    def disconnect(self, inuse_connections: bool = True) -> None:
        """Closes the idle connections, and those in use when `inuse_connections`."""
        if self.pid != common.pid:
            self._checkpid()
        connections = list(self._available_connections)  # copies: the fast path runs on
        if inuse_connections:
            connections += list(self._in_use_connections)
        for connection in connections:
            connection.disconnect()


class SentinelTierPool(TierPool, SentinelConnectionPool):
    """`TierPool` for the primary of a Sentinel service: its connections ask the Sentinels
    for the primary's address as they connect (redis-py's `SentinelManagedConnection`, which
    also turns a READONLY reply from a demoted primary into a connection error). A connection
    released while the primary has moved elsewhere is closed, so its next use reconnects to the
    new primary instead of writing to a replica."""

    def __init__(
        self, service_name: str, sentinel_manager: Any, *, timeout: float | None, **kwargs: Any
    ) -> None:  # redis-py's `Sentinel.master_for` passes the first two by position
        super().__init__(
            timeout=timeout, service_name=service_name, sentinel_manager=sentinel_manager, **kwargs
        )

    def reset(self) -> None:
        TierPool.reset(self)
        self.proxy.reset()  # type: ignore[no-untyped-call]  # the primary, asked again

    def release(self, connection: Any) -> None:
        """As `TierPool.release`; a connection to a former primary is closed first."""
        primary = self.master_address  # None until a connection has asked the Sentinels
        if primary is not None and (connection.host, connection.port) != primary:
            connection.disconnect()
        TierPool.release(self, connection)


def one(pool: Any, command: tuple[Any, ...]) -> Any:
    """`command` on a connection of `pool`, its reply read: what redis-py's `execute_command`
    does, without its layers (retry wrapper, response callbacks, observability), ~25 Python
    calls per command. The reply is the raw one (GET: bytes or None). An error reply raises
    (`ResponseError`; the connection stays, its reply was read); any other failure closes
    the connection before it goes back, so no reply is left unread on a reused one.
    Standalone and Sentinel pools (a cluster routes by key). The arguments are bytes, str
    or int."""
    conn = pool.get_connection()
    try:
        conn.send_packed_command([_pack(conn, command)])
        return conn.read_response()
    except ResponseError:
        raise
    except BaseException:
        conn.disconnect()
        raise
    finally:
        pool.release(conn)


def pair(pool: Any, first: tuple[Any, ...], second: tuple[Any, ...]) -> Any:
    """Two commands written together on one connection of `pool` (one send, one round trip),
    both replies read, the second returned; an error reply of either raises once both are
    read. Any other failure closes the connection, as in `one`."""
    conn = pool.get_connection()
    try:
        conn.send_packed_command([_pack(conn, first) + _pack(conn, second)])
        try:
            reply = conn.read_response()
        except ResponseError as exc:  # raised once the second reply is read too
            reply = exc
        answer = conn.read_response()
    except ResponseError:
        raise
    except BaseException:
        conn.disconnect()
        raise
    finally:
        pool.release(conn)
    if isinstance(reply, Exception):
        raise reply
    return answer


def numsub(reply: Any) -> list[int]:
    """The subscriber counts of a PUBSUB NUMSUB reply, in the order the channels were asked
    for (RESP2: [channel, count, ...]; RESP3: a map)."""
    if isinstance(reply, dict):
        return [int(n) for n in reply.values()]
    return [int(n) for n in reply[1::2]]


def _pack(conn: Any, command: tuple[Any, ...]) -> bytes:
    """`command` in RESP: hiredis's packer itself when redis-py uses it (its wrapper costs a
    generator per command), else the connection's."""
    if _HIREDIS_PACK is not None and type(conn._command_packer) is _HIREDIS_PACKER:
        return _HIREDIS_PACK(command)  # type: ignore[no-any-return]
    return b"".join(conn.pack_command(*command))


def _ready(conn: Any) -> None:
    """Connects `conn`, or reconnects it when its socket is readable before any command was
    sent: the server closed it (idle timeout, restart) or a reply was left unread."""
    if conn._sock is None:
        conn.connect()
        return
    try:
        stale = conn._parser.can_read(0)
    except (RedisConnectionError, OSError):
        stale = True
    if stale:
        conn.disconnect()
        conn.connect()


def _wait_until(timeout: float | None) -> float | None:
    """time.monotonic() by which a wait for a connection ends: `timeout` from now, or the
    running call's deadline if sooner (None: no bound)."""
    end = None if timeout is None else time.monotonic() + timeout
    deadline = call_deadline.get()
    if deadline is not None and (end is None or deadline < end):
        end = deadline
    return end
