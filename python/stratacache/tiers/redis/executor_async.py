# unasync: sync-only begin
# """The sync Redis executor: issues the commands the tiered cache asks for, nothing more.
#
# Every command goes through `_call`: the breaker may refuse it at once, transport errors are
# retried (idempotent commands only) with jittered backoff, and any failure surfaces as
# `TierDown`, which the cache turns into a miss or a skipped write. Authentication and
# permission errors are raised as `RedisAuthError`: they are misconfiguration, not outages.
# Generated from `executor_async.py` by `scripts/unasync.py`: do not edit, edit the source.
# """
# unasync: sync-only end
# unasync: async-only begin
"""The asyncio Redis executor, with auto-pipelining of reads.

Same commands and failure handling as the sync executor (see `_call`), plus one thing only
asyncio needs: reads do not cost a redis-py command each. On a standalone server or a
Sentinel primary reached by URL, GET and MGET go out on one connection of our own
(`fast_async`), every command asked for in one loop turn written together and the replies
matched in order, so 100 tasks missing L1 at once cost one write and one round trip, with
none of redis.asyncio's per-command Python. Elsewhere (Cluster, a client passed in) keys
asked for in one loop turn are gathered and leave as one MGET (per slot group in Cluster).

This file is the source of `executor_sync.py`, which `scripts/unasync.py` generates from it
(CI checks that the two agree): edit this one only. The parts with no sync counterpart sit
between `# unasync: async-only` markers; the sync-only ones are comments between
`# unasync: sync-only` markers (the script's docstring gives the syntax).
"""
# unasync: async-only end

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import sys
import time
import weakref
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from .cap import AsyncCap
from .common import (
    MAX_BATCH,
    RELEASE_LOCK,
    Announce,
    Rider,
    TierCounters,
    after_failure,
    check_time_left,
    deadline_passed,
    is_cluster,
    new_breaker,
    refuse_if_open,
    retry_permit,
)
from .config import RedisOptions, RedisTarget
from .fast_async import FastReads, endpoint_for

# unasync: sync-only begin
# from .common import CircuitOpen, call_deadline
# from .pool import numsub, one, pair
# unasync: sync-only end

# unasync: async-only begin
__all__ = ["AsyncRedisTier"]
# unasync: async-only end
# unasync: sync-only begin
# __all__ = ["SyncRedisTier", "close_sync_client"]
# unasync: sync-only end

T = TypeVar("T")

# unasync: async-only begin

#: Live executors, weakly: a forked child drops the connections it inherited.
_live: weakref.WeakSet[AsyncRedisTier] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for tier in list(_live):
        tier._forget_connections()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


#: Streams a forked child inherited, kept referenced and never closed: closing a transport
#: would unregister its socket from the epoll instance the child shares with its parent, and
#: the parent's connection would stop receiving. A few descriptors per fork is the price.
_inherited: list[Any] = []


def _keep_inherited(connections: Any) -> None:
    for conn in connections:
        _inherited.append((getattr(conn, "_reader", None), getattr(conn, "_writer", None)))
        conn._reader = conn._writer = None  # nothing for its __del__ to close


async def _close_cluster_nodes(client: Any) -> None:
    """Closes every connection of a redis.asyncio RedisCluster, whatever its state.

    `RedisCluster.aclose()` does nothing while the client's `_initialize` flag is set, and
    redis-py sets it after any ConnectionError or TimeoutError (to re-read the topology on
    the next call) without closing a connection; a call cut short by our deadline can leave
    it set too. A cache closed after its last call failed (a dead node) thus left its sockets
    to every live node open, for the garbage collector to find (redis-py 8.1). Nodes dropped
    from the topology close their free connections in background tasks: awaited first."""
    manager = client.nodes_manager
    pending = list(getattr(manager, "_background_tasks", ()))
    pending += [t for n in manager.nodes_cache.values() for t in n._background_tasks]
    await asyncio.gather(*pending, return_exceptions=True)
    for attr in ("nodes_cache", "startup_nodes"):
        nodes = list(getattr(manager, attr).values())
        await asyncio.gather(*(node.disconnect() for node in nodes), return_exceptions=True)


async def _within(seconds: float, awaitable: Awaitable[T]) -> T:
    """`awaitable`, cancelled after `seconds` (asyncio.timeout where it exists: no extra task)."""
    if sys.version_info < (3, 11):
        return await asyncio.wait_for(awaitable, seconds)
    async with asyncio.timeout(seconds):
        return await awaitable


# unasync: async-only end


class AsyncRedisTier:
    """Commands on a redis.asyncio client (standalone, Sentinel primary or Cluster)."""

    def __init__(
        self,
        client: Any,
        options: RedisOptions,
        counters: TierCounters,
        ready: concurrent.futures.Future[None] | None = None,  # unasync: async-only
        target: RedisTarget | None = None,  # unasync: async-only
    ) -> None:
        self.client = client
        self.options = options
        self.counters = counters
        self.breaker = new_breaker(options)
        self.cluster = is_cluster(client)
        self._release = client.register_script(RELEASE_LOCK)
        # Cluster pools raise at their cap where the others wait: the cap is kept here (cap.py).
        cap = (options.max_connections, options.connect_timeout)
        self._cap = AsyncCap(*cap) if self.cluster else None
        # Store.record_latency when the cache times calls (timing=...): (tier, op, ns).
        self.record_latency: Callable[[str, str, int], None] | None = None
        # unasync: sync-only begin
        # # The pool single commands go to directly (`pool.one`): standalone and Sentinel
        # # clients that pool their connections (not a single_connection_client).
        # direct = not self.cluster and getattr(client, "connection", None) is None
        # self._pool: Any = client.connection_pool if direct else None
        # # True after a PUBLISH that at most one subscriber heard: sets ask who listens
        # # before they announce (`_announced`).
        # self._unheard = False
        # unasync: sync-only end
        # unasync: async-only begin
        # The connect-time check, when it still runs on a thread (see _build.build): awaited
        # before the first command; what it raised (RedisAuthError...) every call raises.
        self._ready = ready
        self._pending: dict[bytes, list[asyncio.Future[bytes | None]]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._warmed = not self.cluster
        # GET and MGET on our own pipelined connection, where we know how to reach the server.
        endpoint = endpoint_for(target, options, client)
        self._fast = None if endpoint is None else FastReads(self, endpoint)
        if self._fast is not None:  # the fast connection's own: no frame between
            self.get = self._fast.get  # type: ignore[method-assign]
            self.get_soon = self._fast.get_soon  # type: ignore[method-assign]
        _live.add(self)

    def _forget_connections(self) -> None:
        """In a forked child: the inherited sockets are the parent's (redis.asyncio pools do
        not check the pid, unlike the sync ones), so the child must open its own."""
        self._pending, self._tasks = {}, set()
        self._warmed = not self.cluster
        if self._fast is not None:
            self._fast.forget()
        if self.cluster:
            self._cap = AsyncCap(self.options.max_connections, self.options.connect_timeout)
            for node in self.client.get_nodes():
                _keep_inherited(node._connections)
                node._connections.clear()
                node._free.clear()
        else:
            pool = self.client.connection_pool
            _keep_inherited(
                [
                    *getattr(pool, "_available_connections", ()),
                    *getattr(pool, "_in_use_connections", ()),
                ]
            )
            pool.reset()

    async def _call(
        self,
        fn: Callable[[], Awaitable[T]],
        *,
        idempotent: bool = True,
        guarded: bool = True,
        op: str | None = None,
    ) -> T:
        record = self.record_latency if op is not None else None
        start = time.perf_counter_ns() if record is not None else 0
        if self._ready is not None:
            await self._checked()
        permits = [refuse_if_open(self) if guarded else 0]
        try:
            if permits[0] > 0 and self.cluster:  # a trial after an outage
                await self._refresh_topology()
            end = time.monotonic() + self.options.deadline
            result = await _within(
                self.options.deadline, self._attempts(fn, idempotent, permits, end)
            )
            if record is not None:  # successful calls only: failures are counted apart
                record("redis", op, time.perf_counter_ns() - start)  # type: ignore[arg-type]
            return result
        except (asyncio.TimeoutError, TimeoutError) as exc:  # only the deadline raises these
            raise deadline_passed(self) from exc
        finally:  # a cancelled trial call must not keep its half-open slot
            self.breaker.release(permits[0])

    async def _checked(self) -> None:
        """Waits for the connect-time check; raises what it raised, on every call."""
        assert self._ready is not None
        await asyncio.wrap_future(self._ready)
        self._ready = None

    # unasync: async-only end
    # unasync: sync-only begin
    # def _call(
    #     self,
    #     fn: Callable[[], T],
    #     *,
    #     idempotent: bool = True,
    #     guarded: bool = True,
    #     op: str | None = None,
    # ) -> T:
    #     record = self.record_latency if op is not None else None
    #     start = time.perf_counter_ns() if record is not None else 0
    #     permit = self.breaker.allow() if guarded else 0  # refuse_if_open, without its frame
    #     if guarded and not permit:
    #         msg = "circuit open"
    #         raise CircuitOpen(msg)
    #     permits = [permit]
    #     # One deadline for the whole call: the connections cap each connect and read by the
    #     # time left, and no retry starts that could not finish in time.
    #     end = time.monotonic() + self.options.deadline
    #     token = call_deadline.set(end)
    #     try:
    #         if permits[0] > 0 and self.cluster:  # a trial after an outage: see _refresh_topology
    #             self._refresh_topology()
    #         result = self._attempts(fn, idempotent, permits, end)
    #         if record is not None:  # successful calls only: failures are counted apart
    #             record("redis", op, time.perf_counter_ns() - start)  # type: ignore[arg-type]
    #         return result
    #     finally:  # an interrupted trial call must not keep its half-open slot
    #         call_deadline.reset(token)
    #         self.breaker.release(permits[0])
    #
    # unasync: sync-only end
    async def _refresh_topology(self) -> None:
        """Asks the cluster which node serves which slots before a breaker's trial call.
        redis-py refreshes its map only when a command fails; the last failure before the
        breaker opened may have come before the failover ended, so the map can still name the
        dead primary, and the trial (to one of its slots) would fail and keep the breaker open
        another recovery_time (the fault suite saw a cache not recover within 3.5 s). A
        failure here is left to the trial itself; it is bounded by the call's deadline."""
        with contextlib.suppress(Exception):
            # unasync: async-only begin
            await _within(self.options.deadline, self.client.nodes_manager.initialize())
            # unasync: async-only end
            # unasync: sync-only begin
            # self.client.nodes_manager.initialize()
            # unasync: sync-only end

    async def _attempts(
        self, fn: Callable[[], Awaitable[T]], idempotent: bool, permits: list[int], end: float
    ) -> T:
        """The attempts of one call, all to end by `end`; `permits[0]` is the breaker permit
        held now."""
        attempt = 0
        while True:
            try:
                result = await (fn() if self._cap is None else self._cap.run(fn, end))
            except Exception as exc:  # noqa: BLE001 - after_failure re-raises all but retries
                delay = after_failure(exc, attempt, idempotent=idempotent, tier=self)
                check_time_left(end, delay, exc)
                permits[0] = retry_permit(self, permits[0], exc)
                await asyncio.sleep(delay)
                attempt += 1
                continue
            self.breaker.success()
            return result

    async def ping(self) -> None:
        """One round trip; raises the redis-py error itself (used at connect time)."""
        await self.client.ping()

    # unasync: async-only begin
    def get(self, rkey: bytes) -> Awaitable[bytes | None]:
        """The value of `rkey`, fetched together with every other key asked for this turn
        (where there is a fast connection, `__init__` replaces this method by its `get`)."""
        return self._batched_get(rkey)

    def get_soon(self, rkey: bytes) -> tuple[asyncio.Future[Any] | None, float]:  # noqa: ARG002
        """`FastReads.get_soon` where there is a fast connection (`__init__` puts it here);
        without one, (None, 0.0): `get` it is."""
        return None, 0.0

    async def get_failed(self, rkey: bytes, end: float, failed: Exception) -> bytes | None:
        """See `FastReads.get_failed` (only a `get_soon` future can fail into it)."""
        assert self._fast is not None
        return await self._fast.get_failed(rkey, end, failed)

    async def _batched_get(self, rkey: bytes) -> bytes | None:
        future: asyncio.Future[bytes | None] = asyncio.get_running_loop().create_future()
        waiters = self._pending.get(rkey)
        if waiters is not None:
            waiters.append(future)
        else:
            if not self._pending:
                asyncio.get_running_loop().call_soon(self._flush)
            self._pending[rkey] = [future]
        record = self.record_latency
        if record is None:
            return await future
        start = time.perf_counter_ns()  # the caller's wait, batching included
        result = await future
        record("redis", "get", time.perf_counter_ns() - start)
        return result

    def _flush(self) -> None:
        batch, self._pending = self._pending, {}
        task = asyncio.get_running_loop().create_task(self._fetch(batch))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _fetch(self, batch: dict[bytes, list[asyncio.Future[bytes | None]]]) -> None:
        keys = list(batch)
        try:
            values: list[bytes | None] = []
            for i in range(0, len(keys), MAX_BATCH):
                values += await self.mget(keys[i : i + MAX_BATCH])
        except BaseException as exc:  # handed to every waiter, then re-raised
            for waiters in batch.values():
                for f in waiters:
                    if not f.done():
                        f.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        for key, value in zip(keys, values, strict=True):
            for f in batch[key]:
                if not f.done():
                    f.set_result(value)

    # unasync: async-only end
    # unasync: sync-only begin
    # def get(self, rkey: bytes) -> bytes | None:
    #     pool = self._pool
    #     if pool is None:
    #         result: bytes | None = self._call(lambda: self.client.get(rkey), op="get")
    #     else:  # the command itself on a pooled connection
    #         result = self._call(lambda: one(pool, ("GET", rkey)), op="get")
    #     return result
    #
    # unasync: sync-only end
    async def mget(self, rkeys: Sequence[bytes]) -> list[bytes | None]:
        if not rkeys:
            return []
        await self._warm()  # unasync: async-only
        # unasync: async-only begin
        if self._fast is not None:
            return await self._fast.mget(rkeys)
        # unasync: async-only end
        if self.cluster:
            return list(
                await self._call(lambda: self.client.mget_nonatomic(list(rkeys)), op="get_many")
            )
        return list(await self._call(lambda: self.client.mget(list(rkeys)), op="get_many"))

    # unasync: async-only begin
    async def _warm(self) -> None:
        """A fresh async RedisCluster must finish one call before a burst of concurrent ones."""
        if not self._warmed:
            await self._call(self.client.ping)
            self._warmed = True

    # unasync: async-only end
    async def set(
        self,
        rkey: bytes,
        data: bytes,
        px: int | None,
        announce: Announce | None = None,
        presence: bytes | None = None,
    ) -> None:
        """SET, and the PUBLISH of `announce` in the same round trip. Sync, with `presence`
        (the writer's `plan.presence` channel), a process that nobody else listens to sends
        no PUBLISH (`_announced`)."""
        del presence  # unasync: async-only
        # unasync: sync-only begin
        # pool = self._pool
        # if pool is not None:  # the commands themselves on a pooled connection, as `get`
        #     command = ("SET", rkey, data) if px is None else ("SET", rkey, data, "PX", px)
        #     if announce is None:
        #         self._call(lambda: one(pool, command), op="set")
        #     else:
        #         self._call(
        #             lambda: self._announced(pool, command, announce, presence), op="set_many"
        #         )
        #     return
        # unasync: sync-only end
        if announce is None:  # one command: skip the pipeline's own cost
            await self._warm()  # unasync: async-only
            await self._call(lambda: self.client.set(rkey, data, px=px), op="set")
        elif self.cluster or getattr(self.client, "connection", None) is not None:
            await self.set_many([(rkey, data, px)], announce)
        else:
            command = ("SET", rkey, data) if px is None else ("SET", rkey, data, "PX", px)
            await self._call(lambda: self._pair(command, ("PUBLISH", *announce)), op="set_many")

    # unasync: sync-only begin
    # def _announced(
    #     self, pool: Any, command: tuple[Any, ...], announce: Announce, presence: bytes | None
    # ) -> None:
    #     """`command`, then its announcement before it returns, unless nobody else listens.
    #
    #     Pub/sub echoes a message to every subscriber, ours included: a process alone on the
    #     channel woke its own subscriber thread for every set it made, ~1 context switch and
    #     the GIL taken while the set's reply arrived. So once a PUBLISH reached at most one
    #     subscriber (maybe only ours), the next sets go with PUBSUB NUMSUB of the channel and
    #     of our presence channel instead, both counted in the same instant right after the
    #     SET: the channel's count less ours is everyone else. Nobody: no PUBLISH, and none is
    #     owed, since a subscription confirmed after the SET ran flushes its L1 (`on_up`)
    #     before reading anything, and so reads this value or a later one. Somebody: the
    #     PUBLISH goes out at once, before the set returns, and sets announce again. A retry
    #     repeats both, which is harmless.
    #     """
    #     channel = announce[0]
    #     if presence is not None and self._unheard:
    #         counts = numsub(pair(pool, command, ("PUBSUB", "NUMSUB", channel, presence)))
    #         if counts[0] - counts[1] <= 0:
    #             return
    #         self._unheard = False
    #         one(pool, ("PUBLISH", *announce))
    #         return
    #     heard = pair(pool, command, ("PUBLISH", *announce))
    #     if presence is not None and int(heard) <= 1:
    #         self._unheard = True
    #
    # def _pair(self, first: tuple[Any, ...], second: tuple[Any, ...]) -> None:
    #     """Two commands written together on one pooled connection (`pool.pair`)."""
    #     pair(self._pool, first, second)
    #
    # unasync: sync-only end
    # unasync: async-only begin
    async def _pair(self, first: tuple[Any, ...], second: tuple[Any, ...]) -> None:
        """Two commands written together on one pooled connection, both replies read: the
        round trip of a two-command pipeline without redis-py's Pipeline, which cost ~14 us of
        client CPU per set against ~1 us for this (redis-py 8.1). An error reply raises, as
        the pipeline's does; on any failure the connection is closed, so no reply is left
        unread on it. Standalone and Sentinel only (a cluster routes by key)."""
        pool = self.client.connection_pool
        conn = await pool.get_connection()
        try:
            await conn.send_packed_command(conn.pack_commands([first, second]))
            replies = [await conn.read_response(), await conn.read_response()]
        except BaseException:
            await conn.disconnect()
            raise
        finally:
            await pool.release(conn)
        for reply in replies:
            if isinstance(reply, Exception):  # a parser that returns error replies
                raise reply

    # unasync: async-only end
    async def set_many(
        self, items: Sequence[tuple[bytes, bytes, int | None]], announce: Announce | None = None
    ) -> None:
        """SETs, and the invalidation message, in one round trip (retrying re-sends both:
        the same bytes again and one more message, both harmless)."""

        async def run() -> None:
            pipe = self.client.pipeline(transaction=False)
            for rkey, data, px in items:
                pipe.set(rkey, data, px=px)
            await self._execute(pipe, announce)

        if items:
            await self._warm()  # unasync: async-only
            await self._call(run, op="set_many")

    async def delete(
        self, rkeys: Sequence[bytes], announce: Announce | None = None, rider: Rider | None = None
    ) -> int:
        """DELs (and the message) in one round trip; `rider`'s script too, off Cluster."""
        if not rkeys:
            return 0
        rider = None if self.cluster else rider

        # A cluster pipeline refuses a DEL whose keys span slots: one DEL per key there.
        groups = [[k] for k in rkeys] if self.cluster else [list(rkeys)]

        async def run() -> int:
            pipe = self.client.pipeline(transaction=False)
            for group in groups:
                pipe.delete(*group)
            if rider is not None:
                pipe.eval(rider.source, len(rider.keys), *rider.keys, *rider.args)
            results = await self._execute(pipe, announce)
            if rider is not None:
                rider.reply = results[len(groups)]
            return sum(int(n) for n in results[: len(groups)])

        await self._warm()  # unasync: async-only
        return await self._call(run, op="delete")

    async def incr(self, rkeys: Sequence[bytes], announce: Announce | None = None) -> None:
        """Bumps counters; a retried INCR only bumps twice, which over-invalidates safely."""

        async def run() -> None:
            pipe = self.client.pipeline(transaction=False)
            for rkey in rkeys:
                pipe.incr(rkey)
            await self._execute(pipe, announce)

        await self._warm()  # unasync: async-only
        await self._call(run)

    async def _execute(self, pipe: Any, announce: Announce | None) -> list[Any]:
        """Runs `pipe` with the PUBLISH in the same round trip; on Cluster right after it (a
        cluster pipeline routes by key and PUBLISH has none)."""
        if announce is not None and not self.cluster:
            pipe.publish(*announce)
        results: list[Any] = await pipe.execute()
        if announce is not None and self.cluster:
            await self.client.publish(*announce)
        return results

    async def publish(self, channel: bytes, message: bytes, *, guarded: bool = True) -> None:
        """PUBLISH once. `guarded=False` goes out even while the breaker is open (the
        announcement of a skipped invalidation: on Cluster the breaker opens for a dead
        primary while the node that carries pub/sub is alive). On Cluster it goes to the node
        serving the channel's slot, where the subscriptions are."""
        kwargs: dict[str, Any] = {}
        if self.cluster and not guarded:  # not the default node, which may be the dead one
            kwargs["target_nodes"] = self.client.get_node_from_key(channel)
        await self._call(
            lambda: self.client.publish(channel, message, **kwargs),
            idempotent=False,
            guarded=guarded,
        )

    async def scan_delete(self, pattern: bytes, batch: int = 500) -> int:
        """Deletes every key matching `pattern` on every primary (SCAN, never KEYS)."""

        async def run() -> int:
            kwargs: dict[str, Any] = {"match": pattern, "count": batch}
            if self.cluster:
                kwargs["target_nodes"] = self.client.PRIMARIES
            removed, chunk = 0, []
            async for rkey in self.client.scan_iter(**kwargs):
                chunk.append(rkey)
                if len(chunk) >= batch:
                    removed += int(await self.client.delete(*chunk))
                    chunk.clear()
            if chunk:
                removed += int(await self.client.delete(*chunk))
            return removed

        await self._warm()  # unasync: async-only
        return await self._call(run)

    async def eval(
        self,
        source: str,
        calls: Sequence[tuple[Sequence[bytes], Sequence[Any]]],
        announce: Announce | None = None,
    ) -> list[Any]:
        """Runs the Lua `source` once per (keys, args), with `announce`, in one round trip
        (EVAL, not a registered script: a pipeline cannot load one). A cluster pipeline runs
        no scripts at all: there, one EVAL per call, then the PUBLISH."""

        async def run() -> list[Any]:
            if self.cluster:
                results = [await self.client.eval(source, len(k), *k, *a) for k, a in calls]
                if announce is not None:
                    await self.client.publish(*announce)
                return results
            pipe = self.client.pipeline(transaction=False)
            for keys, args in calls:
                pipe.eval(source, len(keys), *keys, *args)
            return (await self._execute(pipe, announce))[: len(calls)]

        if not calls:
            return []
        await self._warm()  # unasync: async-only
        return await self._call(run)

    async def lease_get(self, script: Any, rkey: bytes, args: Sequence[Any]) -> list[Any]:
        """What the lease script `script` (`plan.LEASE_GET`: the value, or a lease taken on an
        empty key) answers for `rkey`, reading it first: a key that holds a string is all the
        script would read (its GET), so that answer needs no script, and the decorator's hit
        costs one GET instead of a Lua call (~13x a GET's server time: the L2-only hit was
        0.82x dogpile.cache's). The script runs for a key that holds nothing (a miss takes
        its lease: one round trip more than before, ahead of the loader) or another type
        (MGET reads those as nil; the script replaces them)."""
        # unasync: async-only begin
        data = (await self.mget([rkey]))[0]
        # unasync: async-only end
        # unasync: sync-only begin
        # pool = self._pool
        # if pool is None:
        #     data = self.mget([rkey])[0]
        # else:  # the command itself on a pooled connection, as `get`
        #     data = self._call(lambda: one(pool, ("MGET", rkey)), op="get")[0]
        # unasync: sync-only end
        if data is not None:
            return [data, 0]
        return list(await self.script(script, [rkey], args))

    async def script(self, script: Any, keys: Sequence[bytes], args: Sequence[Any]) -> Any:
        """One call of a script registered on this client (EVALSHA, loaded on NOSCRIPT)."""
        await self._warm()  # unasync: async-only
        # unasync: async-only begin
        if self._fast is not None:
            return await self._fast.script(script, keys, args)
        # unasync: async-only end
        return await self._call(lambda: script(keys=list(keys), args=list(args)))

    async def acquire(self, lkey: bytes, token: bytes, px: int) -> bool:
        """SET NX PX: True if we now hold the lock."""
        return bool(
            await self._call(lambda: self.client.set(lkey, token, nx=True, px=px), idempotent=False)
        )

    async def release(self, lkey: bytes, token: bytes) -> None:
        await self._call(lambda: self._release(keys=[lkey], args=[token]))

    # unasync: async-only begin
    async def close(self) -> None:
        if self._fast is not None:
            await self._fast.close()
        await self.client.aclose()
        if self.cluster:
            await _close_cluster_nodes(self.client)
        # A Sentinel primary's pool keeps its own clients of the sentinels: close them too.
        manager = getattr(getattr(self.client, "connection_pool", None), "sentinel_manager", None)
        for sentinel in getattr(manager, "sentinels", ()):
            await sentinel.aclose()

    # unasync: async-only end
    # unasync: sync-only begin
    # def close(self) -> None:
    #     close_sync_client(self.client)
    # unasync: sync-only end


# unasync: sync-only begin
# def close_sync_client(client: Any) -> None:
#     """Closes a sync client, and the sentinel clients a Sentinel primary's pool keeps."""
#     client.close()
#     manager = getattr(getattr(client, "connection_pool", None), "sentinel_manager", None)
#     for sentinel in getattr(manager, "sentinels", ()):
#         sentinel.close()
# unasync: sync-only end
