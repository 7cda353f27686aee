"""The asyncio executor's read connection: one auto-pipelined RESP2 connection (see
`resp_protocol`) to a standalone server or a Sentinel's current primary, opened on first use
and again after it dies.

redis.asyncio spends its time in per-command Python (a pooled connection per call, its
parser, its retry wrapper); GET and MGET on a shared pipelined connection skip all of that.
Everything else (writes, scripts, pub/sub, Cluster) stays on redis-py. The connection logs in
as redis-py would: TLS with the context `clients.connection_kwargs` describes (verified unless
ssl_cert_reqs says otherwise), AUTH [username] password, SELECT, CLIENT SETNAME; each
connect is bounded by connect_timeout, and a Sentinel primary is asked of the sentinels
before each connect.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import ssl
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from redis import exceptions as rexc

from .breaker import NO_TRIAL
from .clients import connection_kwargs
from .common import (
    after_failure,
    check_time_left,
    deadline_passed,
    refuse_if_open,
    retry_permit,
)
from .config import RedisOptions, RedisTarget
from .resp_protocol import CallExpired, RespProtocol, pack_command, pack_mget

__all__ = ["Endpoint", "FastConnection", "FastReads", "endpoint_for"]

#: Transports a forked child inherited: referenced, never closed (see executor_async).
_inherited: list[Any] = []


@dataclass(frozen=True)
class Endpoint:
    """Where the connection goes and how it logs in."""

    host: str = ""
    port: int = 0
    path: str | None = None  # a unix socket
    ssl_context: ssl.SSLContext | None = None
    username: str | None = None
    password: str | None = None
    db: int = 0
    client_name: str | None = None
    #: The current (host, port) of a Sentinel primary, asked before each connect.
    resolve: Callable[[], Awaitable[tuple[str, int]]] | None = None


def endpoint_for(target: RedisTarget | None, options: RedisOptions, client: Any) -> Endpoint | None:
    """The endpoint of `target`, or None where the redis-py path must stay (Cluster, a client
    passed in by the user: its own connection settings are not ours to copy)."""
    if target is None or target.kind == "cluster":
        return None
    kwargs = connection_kwargs(target, options)
    common: dict[str, Any] = {
        "username": target.username,
        "password": target.password,
        "db": target.db,
        "client_name": kwargs.get("client_name"),
        "ssl_context": _ssl_context(kwargs) if target.ssl else None,
    }
    if target.kind == "sentinel":
        return Endpoint(resolve=client.connection_pool.get_master_address, **common)
    if target.path:
        return Endpoint(path=target.path, **common)
    host, port = target.hosts[0]
    return Endpoint(host=host, port=port, **common)


def _ssl_context(kwargs: dict[str, Any]) -> ssl.SSLContext:
    """The context redis-py builds from the same arguments (its RedisSSLContext.get)."""
    context = ssl.create_default_context()
    context.check_hostname = bool(kwargs["ssl_check_hostname"])
    context.verify_mode = kwargs["ssl_cert_reqs"]
    if kwargs["ssl_certfile"] or kwargs["ssl_keyfile"]:
        context.load_cert_chain(certfile=kwargs["ssl_certfile"], keyfile=kwargs["ssl_keyfile"])
    if kwargs["ssl_ca_certs"]:
        context.load_verify_locations(cafile=kwargs["ssl_ca_certs"])
    return context


class FastReads:
    """GET and MGET of an executor (`tier`) on its fast connection, with the executor's
    breaker, retries, deadline and latency records (see `executor_async._call`), but no
    timeout context per call: the connection expires late waiters itself."""

    def __init__(self, tier: Any, endpoint: Endpoint) -> None:
        self._tier = tier
        self._deadline = tier.options.deadline
        self.conn = FastConnection(endpoint, tier.options, on_answer=tier.breaker.success)

    async def get(self, rkey: bytes) -> bytes | None:
        """GET `rkey` (folded into an MGET with the other GETs of this loop turn)."""
        future, end = self.get_soon(rkey)
        data: bytes | None
        if future is None:  # a connect, a breaker trial, latency records: the whole call
            data = await self._call("get", rkey, b"")
            return data
        try:
            data = await future  # the connection reports the answer to the breaker
        except Exception as exc:  # noqa: BLE001 - handed to the retry loop
            data = await self.get_failed(rkey, end, exc)
        return data

    def get_soon(self, rkey: bytes) -> tuple[asyncio.Future[Any] | None, float]:
        """`get`'s hot path with no frame of its own: GET `rkey` queued on the live connection
        of this loop, breaker closed: (the reply's future, the call's end). (None, 0.0) where
        `get` must run instead (a connect, a breaker trial, latency records). The caller
        awaits the future and hands a failure to `get_failed`, which retries it within the
        same end; the connection tells the breaker of answers (once per chunk of replies)."""
        tier, proto = self._tier, self.conn.protocol
        if (
            proto is None
            or not proto.usable
            or proto.loop is not asyncio.get_running_loop()
            or tier._ready is not None
            or tier.record_latency is not None
            or not tier.breaker.closed  # open or half-open: `get` asks for a permit
        ):
            return None, 0.0
        end = time.monotonic() + self._deadline
        return proto.get(rkey, end), end

    async def get_failed(self, rkey: bytes, end: float, failed: Exception) -> bytes | None:
        """The rest of a `get_soon` call whose first attempt raised `failed`."""
        data: bytes | None = await self._attempts(rkey, b"", [NO_TRIAL], end, failed=failed)
        return data

    async def mget(self, rkeys: Sequence[bytes]) -> list[bytes | None]:
        """MGET `rkeys`, one command."""
        values: list[bytes | None] = await self._call("get_many", None, pack_mget(list(rkeys)))
        return values

    async def script(self, script: Any, keys: Sequence[bytes], args: Sequence[Any]) -> Any:
        """A redis-py registered `script`: EVALSHA, and EVAL where the server answers NOSCRIPT
        (as redis-py's Script does; the reply is the same)."""
        tail = (len(keys), *keys, *args)
        evalsha = pack_command("EVALSHA", script.sha, *tail)
        return await self._call("script", None, evalsha, pack_command("EVAL", script.script, *tail))

    async def _call(
        self,
        op: str,
        rkey: bytes | None,
        packed: bytes,
        fallback: bytes | None = None,
    ) -> Any:
        """GET `rkey`, or the command `packed` (`fallback` instead after a NOSCRIPT), as the
        executor's `_call` runs a command."""
        tier = self._tier
        record = tier.record_latency
        start = time.perf_counter_ns() if record is not None else 0
        if tier._ready is not None:
            await tier._checked()
        permits = [refuse_if_open(tier)]
        try:
            end = time.monotonic() + self._deadline
            result = await self._attempts(rkey, packed, permits, end, fallback=fallback)
        finally:  # a cancelled trial call must not keep its half-open slot
            tier.breaker.release(permits[0])
        if record is not None:
            record("redis", op, time.perf_counter_ns() - start)
        return result

    async def _attempts(
        self,
        rkey: bytes | None,
        packed: bytes,
        permits: list[int],
        end: float,
        *,
        failed: Exception | None = None,
        fallback: bytes | None = None,
    ) -> Any:
        """The attempts of one call, all to end by `end`; `failed` is the first attempt's
        error when the caller made that attempt itself."""
        tier, conn, attempt = self._tier, self.conn, 0
        running = asyncio.get_running_loop()
        while True:
            try:
                if failed is not None:
                    error, failed = failed, None
                    raise error
                proto = conn.protocol
                if proto is None or not proto.usable or proto.loop is not running:
                    proto = await conn.connect(end)
                if rkey is not None:
                    result = await proto.get(rkey, end)
                else:
                    result = await proto.request(packed, end)
            except CallExpired as exc:
                raise deadline_passed(tier) from exc
            except Exception as exc:  # noqa: BLE001 - after_failure re-raises all but retries
                if fallback is not None and isinstance(exc, rexc.NoScriptError):
                    packed, fallback = fallback, None  # not a failure: the script is not loaded
                    continue
                delay = after_failure(exc, attempt, idempotent=True, tier=tier)
                check_time_left(end, delay, exc)
                permits[0] = retry_permit(tier, permits[0], exc)
                await asyncio.sleep(delay)
                attempt += 1
                continue
            tier.breaker.success()
            return result

    def forget(self) -> None:
        """In a forked child: see `FastConnection.forget`."""
        self.conn.forget()

    async def close(self) -> None:
        await self.conn.close()


class FastConnection:
    """The shared connection of one executor; `protocol` is the live one (None: connect)."""

    def __init__(
        self,
        endpoint: Endpoint,
        options: RedisOptions,
        on_answer: Callable[[], None] | None = None,
    ) -> None:
        self._endpoint = endpoint
        self._options = options
        self._on_answer = on_answer  # see RespProtocol
        self.protocol: RespProtocol | None = None
        self._dial: asyncio.Task[RespProtocol] | None = None
        # Closes the connection when its loop shuts down (`_until_loop_ends`).
        self._guard: AsyncGenerator[None, None] | None = None
        self._guard_loop: asyncio.AbstractEventLoop | None = None

    async def connect(self, end: float) -> RespProtocol:
        """The live protocol, connecting if needed (one connect shared by every caller).

        Raises:
            CallExpired: `end` came first (the connect goes on for the next caller).
            redis.exceptions.ConnectionError, TimeoutError, AuthenticationError, OSError...:
                the connect failed.
        """
        loop = asyncio.get_running_loop()
        proto = self.protocol
        if proto is not None and proto.loop is not loop:  # the cache moved to another loop
            _let_go(proto)
            proto = self.protocol = None
        if proto is not None and proto.usable:
            return proto
        dial = self._dial
        if dial is not None and dial.get_loop() is not loop:
            dial = self._dial = None
        if dial is not None and dial.done():  # finished after its callers stopped waiting
            self._dial = None
            if not dial.cancelled() and dial.exception() is None and dial.result().usable:
                self.protocol = dial.result()
                await self._guard_on(loop)
                return self.protocol
            dial = None
        if dial is None:
            dial = self._dial = loop.create_task(self._open())
            dial.add_done_callback(_retrieved)
        try:
            proto = await asyncio.wait_for(asyncio.shield(dial), max(end - time.monotonic(), 0))
        except (asyncio.TimeoutError, TimeoutError) as exc:
            failure = dial.exception() if dial.done() and not dial.cancelled() else None
            if failure is not None:
                raise failure from None
            msg = "no connection by the call's deadline"
            raise CallExpired(msg) from exc
        finally:
            if dial.done() and self._dial is dial:
                self._dial = None
        self.protocol = proto
        await self._guard_on(loop)
        return proto

    async def _guard_on(self, loop: asyncio.AbstractEventLoop) -> None:
        """Makes sure the connection is closed when `loop` shuts down: one suspended async
        generator per loop, which `asyncio.run` closes (`loop.shutdown_asyncgens`) while the
        loop still runs. A cache used by one `asyncio.run` after another thus leaves no
        transport of a closed loop behind (the collector would find it open)."""
        if self._guard_loop is loop:
            return
        self._drop_guard()
        guard = self._until_loop_ends(loop)
        await guard.__anext__()  # started: the loop knows it now
        self._guard, self._guard_loop = guard, loop

    async def _until_loop_ends(self, loop: asyncio.AbstractEventLoop) -> AsyncGenerator[None, None]:
        try:
            yield
        finally:
            proto = self.protocol
            if proto is not None and proto.loop is loop:
                self.protocol = None
                if not loop.is_closed() and asyncio.get_running_loop() is loop:
                    await _closed(proto, self._options.connect_timeout)
                else:
                    _let_go(proto)

    def _drop_guard(self) -> None:
        """Finishes the guard at once, outside its loop (closed by `close`, a fork, or a
        loop that was closed without shutting down its generators)."""
        guard, self._guard, self._guard_loop = self._guard, None, None
        if guard is not None:
            with contextlib.suppress(StopIteration, RuntimeError):
                guard.aclose().send(None)  # its `finally` runs to its end here

    async def _open(self) -> RespProtocol:
        try:
            return await asyncio.wait_for(self._connect(), self._options.connect_timeout)
        except (asyncio.TimeoutError, TimeoutError) as exc:
            msg = "Timeout connecting to Redis"
            raise rexc.TimeoutError(msg) from exc

    async def _connect(self) -> RespProtocol:
        ep, loop = self._endpoint, asyncio.get_running_loop()
        stall = self._options.socket_timeout

        def factory() -> RespProtocol:
            return RespProtocol(loop, stall, self._on_answer)

        if ep.path is not None:
            _, proto = await loop.create_unix_connection(factory, ep.path)
        else:
            host, port = (await ep.resolve()) if ep.resolve is not None else (ep.host, ep.port)
            _, proto = await loop.create_connection(
                factory,
                host,
                port,
                ssl=ep.ssl_context,
                server_hostname=host if ep.ssl_context else None,
            )
        try:
            await self._log_in(proto)
        except BaseException:
            await _closed(proto, 0)
            raise
        return proto

    async def _log_in(self, proto: RespProtocol) -> None:
        ep = self._endpoint
        commands = []
        if ep.password is not None:
            user = (ep.username,) if ep.username else ()
            commands.append(pack_command("AUTH", *user, ep.password))
        if ep.db:
            commands.append(pack_command("SELECT", ep.db))
        if ep.client_name:
            commands.append(pack_command("CLIENT", "SETNAME", ep.client_name))
        replies = await asyncio.gather(
            *(proto.request(c, math.inf) for c in commands), return_exceptions=True
        )
        for reply in replies:
            if isinstance(reply, BaseException):
                raise reply

    def forget(self) -> None:
        """In a forked child: the parent's connection is left alone, a new one opened later."""
        if self.protocol is not None:
            _inherited.append(self.protocol)
            self.protocol.abandon()
        self.protocol, self._dial = None, None
        self._drop_guard()

    async def close(self) -> None:
        """Closes the connection (and a connect under way); no transport is left open."""
        dial, self._dial = self._dial, None
        if dial is not None and not dial.done():
            dial.cancel()
            with contextlib.suppress(BaseException):
                await dial
        elif dial is not None and not dial.cancelled() and dial.exception() is None:
            await _closed(dial.result(), self._options.connect_timeout)
        proto, self.protocol = self.protocol, None
        if proto is not None and proto.loop is not asyncio.get_running_loop():
            _let_go(proto)
        elif proto is not None:
            await _closed(proto, self._options.connect_timeout)
        self._drop_guard()


def _let_go(proto: RespProtocol) -> None:
    """Drops a connection of another event loop (one `asyncio.run` after another): aborted
    if that loop can still run the callback, else left to the garbage collector (a closed
    loop runs nothing, as with redis.asyncio's own connections)."""
    proto.abandon()  # its waiters belong to that loop: nobody there awaits them now
    with contextlib.suppress(RuntimeError):  # its loop is closed
        proto.abort()


def _retrieved(task: asyncio.Task[Any]) -> None:
    """Marks a connect's failure as seen: its callers may all have stopped waiting."""
    if not task.cancelled():
        task.exception()


async def _closed(proto: RespProtocol, wait: float) -> None:
    """Closes `proto` and waits up to `wait` seconds for its transport to go (then aborts)."""
    proto.close()
    if wait > 0:
        with contextlib.suppress(asyncio.TimeoutError, TimeoutError):
            await asyncio.wait_for(asyncio.shield(proto.lost), wait)
    if not proto.lost.done():
        proto.abort()
        await proto.lost
