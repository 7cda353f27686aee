"""Write-behind: `set` returns once the write is durable in a Redis Stream; workers apply it.

Writes go to one of `partitions` streams by key (see `_stream`), each with one consumer group.
Workers, threads started by `start` or any process calling `work`, lease partitions, read
batches, coalesce repeated writes of a key, call `store(items)` once per batch and acknowledge.
A worker killed mid-batch leaves its entries pending; whoever takes the partition when the
lease runs out claims them (XAUTOCLAIM) and applies them again: writes are applied at least
once, and a store must accept a repeated write. Durability against failovers: `_durable`.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._options import TTL, check_bound, check_positive, require_callable, require_type
from ..errors import ConfigError
from ._durable import StreamAppender, replica_count, reset_pool
from ._stream import GROUP, Layout, entry_fields
from ._worker import PartitionWorker, stats_fields

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["WriteBehind", "WriteBehindStats"]

Store = Callable[[dict[str, Any]], object]


@dataclass(frozen=True)
class WriteBehindStats:
    """The state of one write-behind name, shared by every process (from Redis).

    Attributes:
        lag: writes not yet read by any worker.
        pending: writes read by a worker and not acknowledged yet (in flight or failed).
        backlog: lag + pending.
        applied: keys written to the store (after coalescing).
        coalesced: writes superseded by a later write of the same key in one batch.
        retried: failed store attempts.
        dead_lettered: writes moved to the dead-letter stream.
        dead_letter_length: entries in the dead-letter stream now.
        oldest_age: seconds since the oldest write of the backlog was made (0 when empty).
        append_retries: this process's durable appends that had to be retried.
    """

    lag: int
    pending: int
    backlog: int
    applied: int
    coalesced: int
    retried: int
    dead_lettered: int
    dead_letter_length: int
    oldest_age: float
    append_retries: int


def _check_common(name: object, batch: object, max_delay: object, retries: object) -> None:
    require_type(name, str, "name", "a str")
    if not name or any(c in str(name) for c in "{}"):
        msg = "name must be a non-empty str without braces"
        raise ConfigError(msg)
    check_bound(batch, "batch")
    if max_delay != 0:
        check_positive(max_delay, "max_delay")
    require_type(retries, int, "retries", "an int")
    if int(retries) < 0:  # type: ignore[call-overload]
        msg = "retries must be >= 0"
        raise ConfigError(msg)


class WriteBehind:
    """Durable write-behind in front of `store`, with `cache` serving reads meanwhile.

    Args:
        cache: a `stratacache.Cache` with a Redis tier (its Redis holds the streams), or a
            Redis URL / redis-py client when no cache should be updated.
        store: a function {key: value} -> None writing one batch to the system of record.
        name: names the streams; writers and workers of one pipeline use the same name.
        batch: most writes one store call covers.
        max_delay: seconds a worker waits for a short batch to fill (0: never waits).
        retries: failed attempts of a write after the first before it is dead-lettered.
        partitions: streams the keys are spread over (order is kept per key).
        replicas: replicas that must confirm each write (WAIT); None: 1 if the primary has
            any when this is built, else 0.
        timeout: seconds `set` keeps retrying before it raises.
        lease: seconds a worker holds a partition without renewing it (the takeover delay
            after a worker dies).

    Raises:
        ConfigError: a bound is not positive, the name is invalid, the cache has no tier, or
            its Redis is a Cluster (not supported).
        TypeError: an argument has the wrong type.
    """

    def __init__(
        self,
        cache: Any,
        store: Store,
        *,
        name: str = "default",
        batch: int = 100,
        max_delay: float = 0.0,
        retries: int = 3,
        partitions: int = 4,
        replicas: int | None = None,
        timeout: float = 10.0,
        lease: float = 5.0,
        _for: str = "WriteBehind",
    ) -> None:
        from ..tiers.redis.access import redis_access, refuse_cluster  # noqa: PLC0415

        require_callable(store, "store", "a function {key: value} -> None")
        _check_common(name, batch, max_delay, retries)
        check_bound(partitions, "partitions")
        check_positive(timeout, "timeout")
        check_positive(lease, "lease")
        self._cache = _cache_of(cache, _for) if _for == "WriteBehind" else None
        access = redis_access(cache, asyncio=False, socket_timeout=max(1.0, min(timeout, 5.0)))
        # Workers read several partitions in one XREADGROUP, and WAIT is per node.
        refuse_cluster(access, "WriteBehind")
        self._access = access
        self._client = access.client
        self._codec = access.codec if access.codec is not None else _default_codec()
        self._layout = Layout(access.key_prefix, name, partitions)
        self._store = store
        self._batch, self._max_delay, self._retries = batch, float(max_delay), retries
        self._lease_ms = max(100, int(lease * 1000))
        if replicas is None:
            replicas = min(1, replica_count(self._client))
        self._appender = StreamAppender(self._client, replicas, min(1.0, timeout / 4), timeout)
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()
        self._inline: PartitionWorker | None = None
        self._ensure_groups()

    def _ensure_groups(self) -> None:
        import redis  # noqa: PLC0415

        for i in range(self._layout.partitions):
            try:
                self._client.xgroup_create(self._layout.stream(i), GROUP, id="0", mkstream=True)
            except redis.ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise

    def set(self, key: str, value: Any, ttl: TTL = None) -> None:
        """Makes the write durable in its stream, then updates the cache.

        Raises:
            TypeError: key is not a str, or the codec cannot serialize value.
            TierUnavailableError: the write was not durable within `timeout` (the cache
                is left untouched; the write may still be applied if a replica got it).
        """
        require_type(key, str, "key", "a str")
        data = self._codec.encode(key, value)
        self._appender.append(
            self._layout.stream(self._layout.partition(key)), entry_fields(key, data)
        )
        if self._cache is not None:
            try:
                self._cache.set(key, value, ttl)
            except Exception:  # noqa: BLE001 - fail-open: the stream holds the write
                self._cache.delete(key)

    def set_many(self, items: Mapping[str, Any], ttl: TTL = None) -> None:
        """Like `set` for every pair of `items`, made durable together: one round trip and
        one WAIT for all of them (a retry may append some twice; workers apply them once
        more at worst). The cache is updated after all are durable.

        Raises:
            TypeError: items is not a mapping of str keys, or a value cannot be serialized.
            TierUnavailableError: as `set` (none of the writes is acknowledged).
        """
        require_type(items, Mapping, "items", "a mapping of str keys to values")
        entries = []
        for key, value in items.items():
            require_type(key, str, "key", "a str")
            stream = self._layout.stream(self._layout.partition(key))
            entries.append((stream, entry_fields(key, self._codec.encode(key, value))))
        if not entries:
            return
        self._appender.append_many(entries)
        if self._cache is not None:
            try:
                self._cache.set_many(dict(items), ttl)
            except Exception:  # noqa: BLE001 - fail-open: the stream holds the writes
                self._cache.delete_many(list(items))

    def worker(self) -> PartitionWorker:
        """A new consumer (its own id) of this pipeline, for `work` or a thread."""
        consumer = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        return PartitionWorker(
            self._client,
            self._layout,
            self._store,
            self._codec.decode,
            consumer=consumer,
            lease_ms=self._lease_ms,
            batch=self._batch,
            max_delay=self._max_delay,
            retries=self._retries,
        )

    def work(self, stop: threading.Event | None = None, *, duration: float | None = None) -> int:
        """Runs a worker in this thread until `stop` is set or `duration` seconds passed;
        returns how many writes it handled. Redis errors are waited out, not raised."""
        import redis  # noqa: PLC0415

        stop = stop or self._stop
        end = None if duration is None else time.monotonic() + duration
        worker = self.worker()
        handled = 0
        try:
            while not stop.is_set() and (end is None or time.monotonic() < end):
                try:
                    handled += worker.run_pass(block_ms=50)
                except (redis.RedisError, OSError):
                    worker.suspect()
                    reset_pool(self._client)
                    stop.wait(0.05)
        finally:
            with contextlib.suppress(redis.RedisError, OSError):  # the lease runs out anyway
                worker.release()
        return handled

    def start(self, threads: int = 1) -> None:
        """Starts `threads` worker threads in this process (daemon threads; see `close`)."""
        check_bound(threads, "threads")
        self._stop.clear()
        for n in range(threads):
            thread = threading.Thread(target=self.work, name=f"stratacache-wb-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def flush(self, timeout: float = 30.0) -> None:
        """Returns once every durable write was applied or dead-lettered; without worker
        threads here, this thread works meanwhile.

        Raises:
            TimeoutError: writes remain after `timeout` seconds.
        """
        check_positive(timeout, "timeout")
        end = time.monotonic() + timeout
        while True:
            if time.monotonic() > end:
                msg = f"write-behind: writes remain after {timeout} s"
                raise TimeoutError(msg)
            if not self._threads:
                if self._inline is None:
                    self._inline = self.worker()
                if self._inline.run_pass(block_ms=0):
                    continue  # more may follow: ask Redis for the backlog only when idle
            if not self.stats().backlog:
                break
            time.sleep(0.01)
        if self._inline is not None:
            self._inline.release()

    def stats(self) -> WriteBehindStats:
        """The pipeline's counters, read from Redis (a few round trips)."""
        layout = self._layout
        pipe = self._client.pipeline(transaction=False)
        for i in range(layout.partitions):
            pipe.xlen(layout.stream(i))
            pipe.xpending(layout.stream(i), GROUP)
            pipe.hgetall(f"{layout.stream(i)}:stats")
            pipe.xrange(layout.stream(i), count=1)
        pipe.xlen(layout.dead)
        got = pipe.execute()
        total = pending = 0
        counts: dict[str, int] = {}
        oldest: float | None = None
        for i in range(layout.partitions):
            length, info, raw, first = got[4 * i : 4 * i + 4]
            total += int(length)
            pending += int(info["pending"])
            for k, v in stats_fields(raw).items():
                counts[k] = counts.get(k, 0) + v
            if first:
                ms = int(first[0][0].split(b"-")[0])
                oldest = ms if oldest is None else min(oldest, ms)
        age = 0.0 if oldest is None else max(0.0, time.time() - oldest / 1000)
        return WriteBehindStats(
            lag=max(0, total - pending),
            pending=pending,
            backlog=total,
            applied=counts.get("applied", 0),
            coalesced=counts.get("coalesced", 0),
            retried=counts.get("retried", 0),
            dead_lettered=counts.get("dead_lettered", 0),
            dead_letter_length=int(got[-1]),
            oldest_age=age,
            append_retries=self._appender.retries,
        )

    def dead_letters(self, count: int = 100) -> list[dict[str, str]]:
        """The oldest dead-lettered writes: key, error, attempts, entry (values not decoded)."""
        check_bound(count, "count")
        out = []
        for _eid, fields in self._client.xrange(self._layout.dead, count=count):
            row = {k.decode(): v.decode("utf-8", "replace") for k, v in fields.items() if k != b"v"}
            out.append(row)
        return out

    def close(self) -> None:
        """Stops the worker threads (each finishes its batch) and closes an own client."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=10)
        self._threads.clear()
        if self._access.owned:
            self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _cache_of(source: Any, cls: str) -> Any:
    """`source` if it is the right cache class for `cls`, None for a URL or client."""
    from ..caches import AsyncCache, Cache  # noqa: PLC0415 - patterns load lazily

    want, other = (AsyncCache, Cache) if cls.startswith("Async") else (Cache, AsyncCache)
    if isinstance(source, other):
        msg = f"{cls} takes a {want.__name__}, not a {other.__name__}"
        raise TypeError(msg)
    return source if isinstance(source, want) else None


def _default_codec() -> Any:
    from ..codec import Codec  # noqa: PLC0415

    return Codec()
