"""An asyncio RESP2 protocol with auto-pipelining: one connection, many callers, one write per
loop turn, replies handed back in order.

`RespProtocol.request` queues a packed command and returns the future of its reply. A command
asked for while nothing is in flight is written at once (a lone call pays no extra loop turn);
the ones asked for while replies are outstanding are gathered and leave as one
`transport.write` on the next turn. `RespProtocol.get` does the same for GETs, and folds the
GETs of one turn into one MGET. Replies are parsed by hiredis's reader and matched to a
FIFO of waiters: a waiter that stopped waiting (cancelled, or past its deadline) keeps its
place, and its reply is read and dropped, so the stream never slips. An error reply fails
its own command only, as the redis-py exception its parser would raise (the tier classifies
those). When the connection dies, or answers nothing for `stall_timeout` seconds while
replies are due, every waiter fails with redis-py's ConnectionError or TimeoutError.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import hiredis
from redis import exceptions as rexc
from redis._parsers.base import BaseParser

__all__ = ["CallExpired", "RespProtocol", "pack_command", "pack_get", "pack_mget"]


class CallExpired(Exception):
    """A request's deadline passed before its reply came (the reply is dropped on arrival)."""


def pack_get(key: bytes) -> bytes:
    """GET `key`, in RESP."""
    return b"*2\r\n$3\r\nGET\r\n$%d\r\n%b\r\n" % (len(key), key)


def pack_mget(keys: list[bytes]) -> bytes:
    """MGET `keys`, in RESP."""
    parts = [b"*%d\r\n$4\r\nMGET\r\n" % (len(keys) + 1)]
    parts += [b"$%d\r\n%b\r\n" % (len(k), k) for k in keys]
    return b"".join(parts)


def pack_command(*args: bytes | str | float) -> bytes:
    """Any command, in RESP (str arguments are UTF-8, ints decimal, floats as redis-py's
    encoder writes them).

    Raises:
        TypeError: an argument of another type (None, a bool...), which redis-py refuses too.
    """
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        if isinstance(arg, bytes):
            data = arg
        elif isinstance(arg, str):
            data = arg.encode()
        elif isinstance(arg, int) and not isinstance(arg, bool):
            data = b"%d" % arg
        elif isinstance(arg, float):
            data = repr(arg).encode()
        else:
            msg = f"a Redis argument must be bytes, str, int or float, not {type(arg).__name__}"
            raise TypeError(msg)
        parts.append(b"$%d\r\n%b\r\n" % (len(data), data))
    return b"".join(parts)


def _reply_error(reply: hiredis.ReplyError) -> Exception:
    """The redis-py exception of an error reply (-NOAUTH: AuthenticationError, ...)."""
    error: Exception = BaseParser.parse_error(str(reply))  # type: ignore[no-untyped-call]
    return error


#: Most keys folded into one MGET: a larger turn leaves as several, whose replies the client
#: parses while the server still works on the next (one huge reply would serialise the two).
FOLD_MAX = 64

#: A reply's future, built directly: `loop.create_future()` is one Python call more per
#: request for the same object (asyncio's loops and uvloop all return an asyncio.Future).
_Future = asyncio.Future

#: The callers of one key among a turn's GETs: one future, or a list when several asked.
_Callers = asyncio.Future[Any] | list[asyncio.Future[Any]]

#: What a FIFO slot resolves: one caller's future, or the callers of one turn's GETs (key ->
#: their futures), answered by one MGET.
_Target = asyncio.Future[Any] | dict[bytes, _Callers]


class RespProtocol(asyncio.Protocol):
    """One RESP2 connection shared by every caller on its loop (see the module docstring)."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        stall_timeout: float,
        on_answer: Callable[[], None] | None = None,
    ) -> None:
        self._loop = self.loop = loop
        #: Called once per chunk of replies holding an answer that is no error reply (the
        #: tier's breaker.success: once per MGET of 64 callers, not once per caller).
        self._on_answer = on_answer
        self._stall = stall_timeout
        self._reader = hiredis.Reader()
        self._waiters: deque[tuple[_Target, float]] = deque()
        self._out: list[bytes] = []  # written by the next _flush
        self._gets: dict[bytes, _Callers] = {}  # this turn's GETs
        self._gets_end = 0.0
        self._flushing = False  # a _flush is scheduled
        self._transport: asyncio.Transport | None = None
        self._failure: Exception | None = None  # what waiters fail with once closed
        self._progress = 0.0  # time.monotonic() of the last reply, or of the first request
        self._timer: asyncio.TimerHandle | None = None
        #: Done once the transport is gone (close() waits for it: no socket left open).
        self.lost: asyncio.Future[None] = loop.create_future()
        #: True while requests can be sent (connected, not failed): an attribute, as every
        #: get reads it.
        self.usable = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self.usable = self._failure is None

    def request(self, packed: bytes, end: float) -> asyncio.Future[Any]:
        """Sends `packed` (one RESP command); its reply's future, failed with `CallExpired`
        if it has not come by `end` (time.monotonic()).

        Raises:
            redis.exceptions.ConnectionError: the connection is closed.
        """
        transport = self._transport
        if transport is None or self._failure is not None:
            raise self._failure or rexc.ConnectionError("Redis connection is not open")
        future: asyncio.Future[Any] = _Future(loop=self._loop)
        if not self._waiters and not self._flushing:  # idle: write now, no loop turn lost
            transport.write(packed)
            self._started(end)
        else:
            self._out.append(packed)
            self._schedule_flush()
        self._waiters.append((future, end))
        return future

    def get(self, key: bytes, end: float) -> asyncio.Future[Any]:
        """GET `key`: written at once on an idle connection, else folded with the other GETs
        of this loop turn into one MGET (the server's cost is per command as much as per key).

        Raises:
            redis.exceptions.ConnectionError: the connection is closed.
        """
        if not self._waiters and not self._flushing:
            return self.request(pack_get(key), end)
        if self._transport is None or self._failure is not None:
            raise self._failure or rexc.ConnectionError("Redis connection is not open")
        future: asyncio.Future[Any] = _Future(loop=self._loop)
        gets = self._gets
        if not gets:
            self._gets_end = end
            self._schedule_flush()
        waiting = gets.get(key)
        if waiting is None:  # the common case: one caller per key, no list
            gets[key] = future
            if len(gets) >= FOLD_MAX:
                self._seal_gets()
        elif isinstance(waiting, list):
            waiting.append(future)
        else:
            gets[key] = [waiting, future]
        return future

    def _seal_gets(self) -> None:
        """Queues this turn's GETs so far as one command (MGET, or GET for one key)."""
        gets, self._gets = self._gets, {}
        keys = list(gets)
        self._out.append(pack_get(keys[0]) if len(keys) == 1 else pack_mget(keys))
        self._started(self._gets_end)
        self._waiters.append((gets, self._gets_end))

    def _schedule_flush(self) -> None:
        if not self._flushing:
            self._flushing = True
            self._loop.call_soon(self._flush)

    def _started(self, end: float) -> None:
        """A request went out on an idle connection: the stall clock starts now."""
        if not self._waiters:
            self._progress = time.monotonic()
            if self._timer is None:
                self._arm(min(end, self._progress + self._stall))

    def _flush(self) -> None:
        """Writes what this turn asked for: the queued commands, then the folded GETs."""
        self._flushing = False
        if self._failure is not None or self._transport is None:
            return
        if self._gets:
            self._seal_gets()
        out = self._out
        if out:
            self._out = []
            self._transport.write(b"".join(out))

    def data_received(self, data: bytes) -> None:
        reader, waiters = self._reader, self._waiters
        reader.feed(data)
        self._progress = time.monotonic()
        answered = False
        while True:
            try:
                reply = reader.gets()
            except hiredis.ProtocolError as exc:
                self._abort(rexc.ConnectionError(f"Redis protocol error: {exc}"))
                return
            if reply is False:
                if answered and self._on_answer is not None:
                    self._on_answer()
                return
            if not waiters:
                self._abort(rexc.ConnectionError("Redis sent a reply nobody asked for"))
                return
            target = waiters.popleft()[0]
            if type(reply) is not hiredis.ReplyError:
                answered = True
            if isinstance(target, dict):
                if not _fan_out(target, reply):
                    self._abort(rexc.ConnectionError("Redis answered an MGET with no list"))
                    return
            elif target.done():  # cancelled or expired: its reply is dropped here
                continue
            elif type(reply) is hiredis.ReplyError:
                target.set_exception(_reply_error(reply))
            else:
                target.set_result(reply)

    def eof_received(self) -> bool:
        self._fail(rexc.ConnectionError("Connection closed by server."))
        return False  # let the transport close itself

    def connection_lost(self, exc: Exception | None) -> None:
        reason = f"Error while reading from Redis: {exc}" if exc else "Connection closed."
        self._fail(rexc.ConnectionError(reason))
        self._transport = None
        self.usable = False
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self.lost.done():
            self.lost.set_result(None)

    def close(self) -> None:
        """Closes the connection; pending requests fail with ConnectionError."""
        self._fail(rexc.ConnectionError("Redis connection closed by the cache"))
        if self._transport is not None:
            self._transport.close()

    def abort(self) -> None:
        """Drops the connection at once (no TLS goodbye); pending requests fail."""
        self._abort(rexc.ConnectionError("Redis connection aborted by the cache"))

    def abandon(self) -> None:
        """Forgets the transport without closing it (a forked child's inherited one)."""
        self._failure = rexc.ConnectionError("connection left behind (fork, or another loop)")
        self.usable = False
        self._waiters.clear()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _abort(self, error: Exception) -> None:
        self._fail(error)
        if self._transport is not None:
            self._transport.abort()

    def _fail(self, error: Exception) -> None:
        """Fails every waiter with `error`; no request is accepted afterwards."""
        if self._failure is None:
            self._failure = error
        self.usable = False
        self._out.clear()
        waiters, self._waiters = self._waiters, deque()
        waiters.append((self._gets, 0.0))
        self._gets = {}
        for target, _ in waiters:
            for future in _futures(target):
                if not future.done():
                    future.set_exception(error)

    def _arm(self, when: float) -> None:
        # `when` is on time.monotonic()'s clock; a loop's own clock may differ (uvloop).
        delay = when - time.monotonic()
        self._timer = self._loop.call_at(self._loop.time() + delay, self._watch)

    def _watch(self) -> None:
        """One timer per connection: aborts a stalled connection, expires late waiters."""
        self._timer = None
        if not self._waiters or self._failure is not None:
            return
        now = time.monotonic()
        due = self._progress + self._stall
        if now >= due:
            self._abort(rexc.TimeoutError("Timeout reading from Redis"))
            return
        for target, end in self._waiters:
            for future in _futures(target):
                if future.done():
                    continue
                if end <= now:
                    future.set_exception(CallExpired("no reply by the call's deadline"))
                else:
                    due = min(due, end)
        self._arm(due)


def _futures(target: _Target) -> list[asyncio.Future[Any]]:
    """The callers' futures of one FIFO slot."""
    if isinstance(target, dict):
        out: list[asyncio.Future[Any]] = []
        for waiting in target.values():
            if isinstance(waiting, list):
                out += waiting
            else:
                out.append(waiting)
        return out
    return [target]


def _fan_out(gets: dict[bytes, _Callers], reply: Any) -> bool:
    """Hands each caller of a folded GET its value (GET's reply for one key, MGET's for more);
    False if `reply` cannot be an answer to it (the stream is out of step)."""
    if type(reply) is hiredis.ReplyError:
        error = _reply_error(reply)
        for future in _futures(gets):
            if not future.done():
                future.set_exception(error)
        return True
    values = reply if len(gets) > 1 else [reply]
    if type(values) is not list or len(values) != len(gets):
        return False
    for waiting, value in zip(gets.values(), values, strict=True):
        if not isinstance(waiting, list):
            if not waiting.done():
                waiting.set_result(value)
            continue
        for future in waiting:
            if not future.done():
                future.set_result(value)
    return True
