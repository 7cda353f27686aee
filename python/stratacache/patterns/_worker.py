"""The write-behind worker: one pass over the partitions it can lease, applying their writes.

A pass renews or takes each partition's lease; for a held partition it first claims every
pending entry (XAUTOCLAIM from 0: entries a killed worker read and never acknowledged, and this
worker's own failed ones), and reads new entries only when none is pending, so a key's writes
are applied in stream order. A batch keeps the last write of each key; the store gets one call
per batch. When a batch fails, its keys are retried one at a time, and a key that failed more
than `retries` times goes to the dead-letter stream with its error.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from .._log import logger
from ._stream import GROUP, Batch, Entry, Layout, coalesce, describe_error, parse_entries

__all__ = ["PartitionWorker"]

# Renews the lease if held, takes it if free: 1 renewed, 2 taken, 0 held by another.
LEASE = """
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if not v then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 2 end
return 0
"""
# Gives the lease up if held.
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class PartitionWorker:
    """Applies writes of the partitions of `layout` to `store` (one consumer of the group)."""

    def __init__(
        self,
        client: Any,
        layout: Layout,
        store: Callable[[dict[str, Any]], object],
        decode: Callable[[str, bytes], Any],
        *,
        consumer: str,
        batch: int,
        max_delay: float,
        retries: int,
        lease_ms: int,
    ) -> None:
        self.client = client
        self.layout = layout
        self.store = store
        self.decode = decode
        self.consumer = consumer
        self.batch = batch
        self.max_delay = max_delay
        self.retries = retries
        self.lease_ms = lease_ms
        self.not_before = [0.0] * layout.partitions
        self.lease_until = [0.0] * layout.partitions
        # Whether partition i may hold pending entries: false only while this worker held
        # its lease without a break and acknowledged or dead-lettered all it read.
        self.may_pend = [True] * layout.partitions
        self.last_sweep = time.monotonic()
        self._lease = client.register_script(LEASE)
        self._release = client.register_script(RELEASE)

    def held(self) -> list[int]:
        """Partitions this consumer holds after renewing or taking their leases."""
        now = time.monotonic()
        pipe = self.client.pipeline(transaction=False)
        for i in range(self.layout.partitions):
            self._lease(
                keys=[self.layout.lease(i)], args=[self.consumer, self.lease_ms], client=pipe
            )
        got = pipe.execute()
        # A lease is trusted for half its TTL from before the renewal was sent; past that,
        # `still_held` renews it again before a store call (a slow pass must not apply a
        # batch of a partition another worker took meanwhile).
        fresh = now + self.lease_ms / 2000
        for i, r in enumerate(got):
            self.lease_until[i] = fresh if int(r) else 0.0
            if int(r) != 1:  # taken afresh (or lost): entries may be pending from before
                self.may_pend[i] = True
        return [i for i, r in enumerate(got) if int(r) and now >= self.not_before[i]]

    def still_held(self, i: int) -> bool:
        """Whether partition i's lease is still ours (renewing it if it is getting old)."""
        now = time.monotonic()
        if now < self.lease_until[i]:
            return True
        held = int(self._lease(keys=[self.layout.lease(i)], args=[self.consumer, self.lease_ms]))
        self.lease_until[i] = now + self.lease_ms / 2000 if held else 0.0
        return bool(held)

    def suspect(self) -> None:
        """After a Redis error: any partition may hold pending entries (a read whose reply
        was lost, or a failover whose new primary replicated a read but not its ack)."""
        self.may_pend = [True] * self.layout.partitions

    def release(self) -> None:
        for i in range(self.layout.partitions):
            self._release(keys=[self.layout.lease(i)], args=[self.consumer])

    def run_pass(self, block_ms: int) -> int:
        """One pass; returns how many entries it handled (0: nothing to do)."""
        now = time.monotonic()
        if now - self.last_sweep > self.lease_ms / 1000:
            # Once per lease period, whatever the bookkeeping says: entries a worker read
            # just before losing its lease to this one are claimed within that bound.
            self.suspect()
            self.last_sweep = now
        held = self.held()
        if not held:
            if block_ms:
                time.sleep(block_ms / 1000)
            return 0
        handled = 0
        for i in held:
            if not self.may_pend[i]:
                continue
            claimed = self.client.xautoclaim(
                self.layout.stream(i), GROUP, self.consumer, 0, "0-0", count=self.batch
            )
            if claimed[1]:
                handled += self._handle(i, claimed[1])
            else:
                self.may_pend[i] = False
        if handled:
            return handled
        streams = {self.layout.stream(i): ">" for i in held}
        got = self._read(streams, self.batch, block_ms)
        if got and self.max_delay > 0 and sum(len(v) for v in got.values()) < self.batch:
            time.sleep(self.max_delay)  # let a short batch fill before paying a store call
            more = self._read(dict.fromkeys(got, ">"), self.batch, 0)
            for s, extra in more.items():
                got.setdefault(s, []).extend(extra)
        index = {self.layout.stream(i): i for i in held}
        for stream, entries in got.items():
            handled += self._handle(index[stream], entries)
        return handled

    def _read(self, streams: dict[str, str], count: int, block_ms: int) -> dict[str, list[Any]]:
        reply = self.client.xreadgroup(
            GROUP, self.consumer, streams, count=count, block=block_ms or None
        )
        out: dict[str, list[Any]] = {}
        for name, entries in reply or []:
            stream = name.decode() if isinstance(name, bytes) else str(name)
            out[stream] = list(entries)
        return out

    def _handle(self, i: int, raw: list[Any]) -> int:
        # Pending until proven otherwise: an exception (Redis lost mid-batch) leaves it set,
        # so the next pass claims this batch again before reading anything newer.
        self.may_pend[i] = True
        if not self.still_held(i):
            return 0  # another worker took the partition; it claims these entries itself
        self._apply(i, raw)
        return len(raw)

    def _apply(self, i: int, raw: list[Any]) -> None:
        entries, bad = parse_entries(raw)
        if bad:
            self._ack(i, bad, applied=0)
        batch = coalesce(entries)
        items: dict[str, Any] = {}
        for key, entry in batch.last.items():
            try:
                items[key] = self.decode(key, entry.data)
            except Exception as exc:  # noqa: BLE001 - an undecodable write can never apply
                self._dead(i, entry, batch.ids[key], exc, attempts=0)
        failed = False
        if items:
            try:
                self.store(items)
            except Exception:  # noqa: BLE001 - retried key by key below
                if len(items) > 1:
                    done = [self._apply_one(i, batch, k, v) for k, v in items.items()]
                    failed = not all(done)
                else:
                    (key,) = items
                    failed = self._failed(i, batch.last[key], batch.ids[key])
            else:
                self._ack(i, [eid for k in items for eid in batch.ids[k]], applied=len(items))
        self.may_pend[i] = failed

    def _apply_one(self, i: int, batch: Batch, key: str, value: Any) -> bool:
        """Applies one key; False if it failed and stays pending for a retry."""
        try:
            self.store({key: value})
        except Exception:  # noqa: BLE001 - counted, retried, dead-lettered past the budget
            return not self._failed(i, batch.last[key], batch.ids[key])
        self._ack(i, batch.ids[key], applied=1)
        return True

    def _failed(self, i: int, entry: Entry, ids: list[str]) -> bool:
        """Counts a failed attempt; True if the write stays pending (False: dead-lettered)."""
        exc = _current_error()
        attempts = int(self.client.hincrby(self.layout.fails(i), entry.id, 1))
        self.client.hincrby(f"{self.layout.stream(i)}:stats", "retried", 1)
        if attempts > self.retries:
            self._dead(i, entry, ids, exc, attempts)
            return False
        # Later writes of this partition wait: they may be of the same key.
        self.not_before[i] = time.monotonic() + min(0.01 * 2**attempts, 2.0)
        return True

    def _dead(
        self, i: int, entry: Entry, ids: list[str], exc: BaseException, attempts: int
    ) -> None:
        fields = {
            "k": entry.key.encode("utf-8"),
            "v": entry.data,
            "w": entry.write_id.encode(),
            "entry": entry.id.encode(),
            "attempts": str(attempts).encode(),
            "error": describe_error(exc).encode("utf-8", "replace"),
        }
        self.client.xadd(self.layout.dead, fields)
        logger.warning("write-behind: a write was dead-lettered after %d attempts", attempts)
        self._ack(i, ids, applied=0, dead=1)

    def _ack(self, i: int, ids: list[str], *, applied: int, dead: int = 0) -> None:
        stream = self.layout.stream(i)
        pipe = self.client.pipeline(transaction=True)
        pipe.xack(stream, GROUP, *ids)
        pipe.xdel(stream, *ids)
        pipe.hdel(self.layout.fails(i), *ids)
        if applied:
            pipe.hincrby(f"{stream}:stats", "applied", applied)
            pipe.hincrby(f"{stream}:stats", "coalesced", len(ids) - applied)
        if dead:
            pipe.hincrby(f"{stream}:stats", "dead_lettered", dead)
        pipe.execute()


def _current_error() -> BaseException:
    import sys  # noqa: PLC0415

    exc = sys.exc_info()[1]
    return exc if exc is not None else RuntimeError("unknown failure")


def stats_fields(raw: Mapping[Any, Any]) -> dict[str, int]:
    """A stats hash as {name: int}."""
    return {(k.decode() if isinstance(k, bytes) else str(k)): int(v) for k, v in raw.items()}
