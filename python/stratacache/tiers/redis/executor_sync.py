"""The sync Redis executor: issues the commands the tiered cache asks for, nothing more.

Every command goes through `_call`: the breaker may refuse it at once, transport errors are
retried (idempotent commands only) with jittered backoff, and any failure surfaces as
`TierDown`, which the cache turns into a miss or a skipped write. Authentication and
permission errors are raised as `RedisAuthError`: they are misconfiguration, not outages.
Generated from `executor_async.py` by `scripts/unasync.py`: do not edit, edit the source.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from .cap import SyncCap
from .common import (
    RELEASE_LOCK,
    Announce,
    CircuitOpen,
    Rider,
    TierCounters,
    after_failure,
    call_deadline,
    check_time_left,
    is_cluster,
    new_breaker,
    retry_permit,
)
from .config import RedisOptions
from .pool import numsub, one, pair

__all__ = ["SyncRedisTier", "close_sync_client"]

T = TypeVar("T")


class SyncRedisTier:
    """Commands on a sync redis-py client (standalone, Sentinel primary or Cluster)."""

    def __init__(self, client: Any, options: RedisOptions, counters: TierCounters) -> None:
        self.client = client
        self.options = options
        self.counters = counters
        self.breaker = new_breaker(options)
        self.cluster = is_cluster(client)
        self._release = client.register_script(RELEASE_LOCK)
        # Cluster pools raise at their cap where the others wait: the cap is kept here (cap.py).
        cap = (options.max_connections, options.connect_timeout)
        self._cap = SyncCap(*cap) if self.cluster else None
        # Store.record_latency when the cache times calls (timing=...): (tier, op, ns).
        self.record_latency: Callable[[str, str, int], None] | None = None
        # The pool single commands go to directly (`pool.one`): standalone and Sentinel
        # clients that pool their connections (not a single_connection_client).
        direct = not self.cluster and getattr(client, "connection", None) is None
        self._pool: Any = client.connection_pool if direct else None
        # True after a PUBLISH that at most one subscriber heard: sets ask who listens
        # before they announce (`_announced`).
        self._unheard = False

    def _call(
        self,
        fn: Callable[[], T],
        *,
        idempotent: bool = True,
        guarded: bool = True,
        op: str | None = None,
    ) -> T:
        record = self.record_latency if op is not None else None
        start = time.perf_counter_ns() if record is not None else 0
        permit = self.breaker.allow() if guarded else 0  # refuse_if_open, without its frame
        if guarded and not permit:
            msg = "circuit open"
            raise CircuitOpen(msg)
        permits = [permit]
        # One deadline for the whole call: the connections cap each connect and read by the
        # time left, and no retry starts that could not finish in time.
        end = time.monotonic() + self.options.deadline
        token = call_deadline.set(end)
        try:
            if permits[0] > 0 and self.cluster:  # a trial after an outage: see _refresh_topology
                self._refresh_topology()
            result = self._attempts(fn, idempotent, permits, end)
            if record is not None:  # successful calls only: failures are counted apart
                record("redis", op, time.perf_counter_ns() - start)  # type: ignore[arg-type]
            return result
        finally:  # an interrupted trial call must not keep its half-open slot
            call_deadline.reset(token)
            self.breaker.release(permits[0])

    def _refresh_topology(self) -> None:
        """Asks the cluster which node serves which slots before a breaker's trial call.
        redis-py refreshes its map only when a command fails; the last failure before the
        breaker opened may have come before the failover ended, so the map can still name the
        dead primary, and the trial (to one of its slots) would fail and keep the breaker open
        another recovery_time (the fault suite saw a cache not recover within 3.5 s). A
        failure here is left to the trial itself; it is bounded by the call's deadline."""
        with contextlib.suppress(Exception):
            self.client.nodes_manager.initialize()

    def _attempts(self, fn: Callable[[], T], idempotent: bool, permits: list[int], end: float) -> T:
        """The attempts of one call, all to end by `end`; `permits[0]` is the breaker permit
        held now."""
        attempt = 0
        while True:
            try:
                result = fn() if self._cap is None else self._cap.run(fn, end)
            except Exception as exc:  # noqa: BLE001 - after_failure re-raises all but retries
                delay = after_failure(exc, attempt, idempotent=idempotent, tier=self)
                check_time_left(end, delay, exc)
                permits[0] = retry_permit(self, permits[0], exc)
                time.sleep(delay)
                attempt += 1
                continue
            self.breaker.success()
            return result

    def ping(self) -> None:
        """One round trip; raises the redis-py error itself (used at connect time)."""
        self.client.ping()

    def get(self, rkey: bytes) -> bytes | None:
        pool = self._pool
        if pool is None:
            result: bytes | None = self._call(lambda: self.client.get(rkey), op="get")
        else:  # the command itself on a pooled connection
            result = self._call(lambda: one(pool, ("GET", rkey)), op="get")
        return result

    def mget(self, rkeys: Sequence[bytes]) -> list[bytes | None]:
        if not rkeys:
            return []
        if self.cluster:
            return list(self._call(lambda: self.client.mget_nonatomic(list(rkeys)), op="get_many"))
        return list(self._call(lambda: self.client.mget(list(rkeys)), op="get_many"))

    def set(
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
        pool = self._pool
        if pool is not None:  # the commands themselves on a pooled connection, as `get`
            command = ("SET", rkey, data) if px is None else ("SET", rkey, data, "PX", px)
            if announce is None:
                self._call(lambda: one(pool, command), op="set")
            else:
                self._call(
                    lambda: self._announced(pool, command, announce, presence), op="set_many"
                )
            return
        if announce is None:  # one command: skip the pipeline's own cost
            self._call(lambda: self.client.set(rkey, data, px=px), op="set")
        elif self.cluster or getattr(self.client, "connection", None) is not None:
            self.set_many([(rkey, data, px)], announce)
        else:
            command = ("SET", rkey, data) if px is None else ("SET", rkey, data, "PX", px)
            self._call(lambda: self._pair(command, ("PUBLISH", *announce)), op="set_many")

    def _announced(
        self, pool: Any, command: tuple[Any, ...], announce: Announce, presence: bytes | None
    ) -> None:
        """`command`, then its announcement before it returns, unless nobody else listens.

        Pub/sub echoes a message to every subscriber, ours included: a process alone on the
        channel woke its own subscriber thread for every set it made, ~1 context switch and
        the GIL taken while the set's reply arrived. So once a PUBLISH reached at most one
        subscriber (maybe only ours), the next sets go with PUBSUB NUMSUB of the channel and
        of our presence channel instead, both counted in the same instant right after the
        SET: the channel's count less ours is everyone else. Nobody: no PUBLISH, and none is
        owed, since a subscription confirmed after the SET ran flushes its L1 (`on_up`)
        before reading anything, and so reads this value or a later one. Somebody: the
        PUBLISH goes out at once, before the set returns, and sets announce again. A retry
        repeats both, which is harmless.
        """
        channel = announce[0]
        if presence is not None and self._unheard:
            counts = numsub(pair(pool, command, ("PUBSUB", "NUMSUB", channel, presence)))
            if counts[0] - counts[1] <= 0:
                return
            self._unheard = False
            one(pool, ("PUBLISH", *announce))
            return
        heard = pair(pool, command, ("PUBLISH", *announce))
        if presence is not None and int(heard) <= 1:
            self._unheard = True

    def _pair(self, first: tuple[Any, ...], second: tuple[Any, ...]) -> None:
        """Two commands written together on one pooled connection (`pool.pair`)."""
        pair(self._pool, first, second)

    def set_many(
        self, items: Sequence[tuple[bytes, bytes, int | None]], announce: Announce | None = None
    ) -> None:
        """SETs, and the invalidation message, in one round trip (retrying re-sends both:
        the same bytes again and one more message, both harmless)."""

        def run() -> None:
            pipe = self.client.pipeline(transaction=False)
            for rkey, data, px in items:
                pipe.set(rkey, data, px=px)
            self._execute(pipe, announce)

        if items:
            self._call(run, op="set_many")

    def delete(
        self, rkeys: Sequence[bytes], announce: Announce | None = None, rider: Rider | None = None
    ) -> int:
        """DELs (and the message) in one round trip; `rider`'s script too, off Cluster."""
        if not rkeys:
            return 0
        rider = None if self.cluster else rider

        # A cluster pipeline refuses a DEL whose keys span slots: one DEL per key there.
        groups = [[k] for k in rkeys] if self.cluster else [list(rkeys)]

        def run() -> int:
            pipe = self.client.pipeline(transaction=False)
            for group in groups:
                pipe.delete(*group)
            if rider is not None:
                pipe.eval(rider.source, len(rider.keys), *rider.keys, *rider.args)
            results = self._execute(pipe, announce)
            if rider is not None:
                rider.reply = results[len(groups)]
            return sum(int(n) for n in results[: len(groups)])

        return self._call(run, op="delete")

    def incr(self, rkeys: Sequence[bytes], announce: Announce | None = None) -> None:
        """Bumps counters; a retried INCR only bumps twice, which over-invalidates safely."""

        def run() -> None:
            pipe = self.client.pipeline(transaction=False)
            for rkey in rkeys:
                pipe.incr(rkey)
            self._execute(pipe, announce)

        self._call(run)

    def _execute(self, pipe: Any, announce: Announce | None) -> list[Any]:
        """Runs `pipe` with the PUBLISH in the same round trip; on Cluster right after it (a
        cluster pipeline routes by key and PUBLISH has none)."""
        if announce is not None and not self.cluster:
            pipe.publish(*announce)
        results: list[Any] = pipe.execute()
        if announce is not None and self.cluster:
            self.client.publish(*announce)
        return results

    def publish(self, channel: bytes, message: bytes, *, guarded: bool = True) -> None:
        """PUBLISH once. `guarded=False` goes out even while the breaker is open (the
        announcement of a skipped invalidation: on Cluster the breaker opens for a dead
        primary while the node that carries pub/sub is alive). On Cluster it goes to the node
        serving the channel's slot, where the subscriptions are."""
        kwargs: dict[str, Any] = {}
        if self.cluster and not guarded:  # not the default node, which may be the dead one
            kwargs["target_nodes"] = self.client.get_node_from_key(channel)
        self._call(
            lambda: self.client.publish(channel, message, **kwargs),
            idempotent=False,
            guarded=guarded,
        )

    def scan_delete(self, pattern: bytes, batch: int = 500) -> int:
        """Deletes every key matching `pattern` on every primary (SCAN, never KEYS)."""

        def run() -> int:
            kwargs: dict[str, Any] = {"match": pattern, "count": batch}
            if self.cluster:
                kwargs["target_nodes"] = self.client.PRIMARIES
            removed, chunk = 0, []
            for rkey in self.client.scan_iter(**kwargs):
                chunk.append(rkey)
                if len(chunk) >= batch:
                    removed += int(self.client.delete(*chunk))
                    chunk.clear()
            if chunk:
                removed += int(self.client.delete(*chunk))
            return removed

        return self._call(run)

    def eval(
        self,
        source: str,
        calls: Sequence[tuple[Sequence[bytes], Sequence[Any]]],
        announce: Announce | None = None,
    ) -> list[Any]:
        """Runs the Lua `source` once per (keys, args), with `announce`, in one round trip
        (EVAL, not a registered script: a pipeline cannot load one). A cluster pipeline runs
        no scripts at all: there, one EVAL per call, then the PUBLISH."""

        def run() -> list[Any]:
            if self.cluster:
                results = [self.client.eval(source, len(k), *k, *a) for k, a in calls]
                if announce is not None:
                    self.client.publish(*announce)
                return results
            pipe = self.client.pipeline(transaction=False)
            for keys, args in calls:
                pipe.eval(source, len(keys), *keys, *args)
            return (self._execute(pipe, announce))[: len(calls)]

        if not calls:
            return []
        return self._call(run)

    def lease_get(self, script: Any, rkey: bytes, args: Sequence[Any]) -> list[Any]:
        """What the lease script `script` (`plan.LEASE_GET`: the value, or a lease taken on an
        empty key) answers for `rkey`, reading it first: a key that holds a string is all the
        script would read (its GET), so that answer needs no script, and the decorator's hit
        costs one GET instead of a Lua call (~13x a GET's server time: the L2-only hit was
        0.82x dogpile.cache's). The script runs for a key that holds nothing (a miss takes
        its lease: one round trip more than before, ahead of the loader) or another type
        (MGET reads those as nil; the script replaces them)."""
        pool = self._pool
        if pool is None:
            data = self.mget([rkey])[0]
        else:  # the command itself on a pooled connection, as `get`
            data = self._call(lambda: one(pool, ("MGET", rkey)), op="get")[0]
        if data is not None:
            return [data, 0]
        return list(self.script(script, [rkey], args))

    def script(self, script: Any, keys: Sequence[bytes], args: Sequence[Any]) -> Any:
        """One call of a script registered on this client (EVALSHA, loaded on NOSCRIPT)."""
        return self._call(lambda: script(keys=list(keys), args=list(args)))

    def acquire(self, lkey: bytes, token: bytes, px: int) -> bool:
        """SET NX PX: True if we now hold the lock."""
        return bool(
            self._call(lambda: self.client.set(lkey, token, nx=True, px=px), idempotent=False)
        )

    def release(self, lkey: bytes, token: bytes) -> None:
        self._call(lambda: self._release(keys=[lkey], args=[token]))

    def close(self) -> None:
        close_sync_client(self.client)


def close_sync_client(client: Any) -> None:
    """Closes a sync client, and the sentinel clients a Sentinel primary's pool keeps."""
    client.close()
    manager = getattr(getattr(client, "connection_pool", None), "sentinel_manager", None)
    for sentinel in getattr(manager, "sentinels", ()):
        sentinel.close()
