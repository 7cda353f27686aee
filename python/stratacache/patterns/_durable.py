"""Appending to a stream so that an acknowledged write survives a failover.

A plain OK is not enough: a primary paused through a failover comes back believing it is still
primary, acknowledges what idle pooled connections send it, then discards it when it is turned
into a replica. So once the server had replicas, each XADD is followed by ``WAIT 1`` on the same
connection, and the write counts only when a replica confirmed it; otherwise the pool's
connections are dropped (the next one asks Sentinel where the primary is) and the write is
retried until `timeout`. A retried write may land twice; workers apply writes at least once.
"""

from __future__ import annotations

import time
from typing import Any

from ..errors import TierUnavailableError

__all__ = ["StreamAppender", "replica_count"]


class NotReplicatedError(Exception):
    """WAIT returned fewer replicas than required (the write may be on a deposed primary)."""


def replica_count(client: Any) -> int:
    """How many replicas the primary behind `client` has connected now (0 on Cluster)."""
    if type(client).__name__ == "RedisCluster":
        return 0
    info = client.info("replication")
    return int(info.get("connected_slaves", 0))


def reset_pool(client: Any) -> None:
    """Drops the pooled connections (the next command dials afresh, asking Sentinel first)."""
    pool = getattr(client, "connection_pool", None)
    if pool is not None:
        pool.disconnect()


class StreamAppender:
    """XADD + WAIT with retries, as the module docstring says (sync)."""

    def __init__(self, client: Any, replicas: int, wait_timeout: float, timeout: float) -> None:
        self.client = client
        self.replicas = replicas
        self.wait_ms = max(1, int(wait_timeout * 1000))
        self.timeout = timeout
        self.retries = 0  # attempts that failed and were retried (process-local)

    def append(self, stream: str, fields: dict[str, bytes]) -> str:
        """The id of the entry once durable.

        Raises:
            TierUnavailableError: not durable within the timeout (nothing was acknowledged;
                the write may still be applied later if a replica got it).
        """
        return self.append_many([(stream, fields)])[0]

    def append_many(self, entries: list[tuple[str, dict[str, bytes]]]) -> list[str]:
        """The ids of `entries` once all are durable: one pipeline and one WAIT for all
        (a failed attempt retries all of them). Raises as `append` does."""
        import redis  # noqa: PLC0415

        deadline = time.monotonic() + self.timeout
        delay = 0.01
        while True:
            try:
                return self._attempt(entries)
            except (redis.RedisError, NotReplicatedError, OSError) as exc:
                reset_pool(self.client)
                if time.monotonic() + delay > deadline:
                    msg = f"write-behind: the write was not made durable ({type(exc).__name__})"
                    raise TierUnavailableError(msg) from None
            self.retries += 1
            time.sleep(delay)
            delay = min(delay * 2, 0.25)

    def _attempt(self, entries: list[tuple[str, dict[str, bytes]]]) -> list[str]:
        if not self.replicas and len(entries) == 1:  # one round trip without pipeline costs
            stream, fields = entries[0]
            return [_text(self.client.xadd(stream, fields))]
        pipe = self.client.pipeline(transaction=False)
        for stream, fields in entries:
            pipe.xadd(stream, fields)
        if self.replicas:
            pipe.execute_command("WAIT", self.replicas, self.wait_ms)
        result = pipe.execute()
        if self.replicas and int(result[-1]) < self.replicas:
            raise NotReplicatedError
        return [_text(r) for r in result[: len(entries)]]


def _text(entry_id: Any) -> str:
    return entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)


class AsyncStreamAppender(StreamAppender):
    """`StreamAppender` on an asyncio client."""

    async def append_many_async(self, entries: list[tuple[str, dict[str, bytes]]]) -> list[str]:
        """See `StreamAppender.append_many`."""
        import asyncio  # noqa: PLC0415

        import redis  # noqa: PLC0415

        deadline = time.monotonic() + self.timeout
        delay = 0.01
        while True:
            try:
                return await self._attempt_async(entries)
            except (redis.RedisError, NotReplicatedError, OSError) as exc:
                pool = getattr(self.client, "connection_pool", None)
                if pool is not None:
                    await pool.disconnect()
                if time.monotonic() + delay > deadline:
                    msg = f"write-behind: the write was not made durable ({type(exc).__name__})"
                    raise TierUnavailableError(msg) from None
            self.retries += 1
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.25)

    async def _attempt_async(self, entries: list[tuple[str, dict[str, bytes]]]) -> list[str]:
        pipe = self.client.pipeline(transaction=False)
        for stream, fields in entries:
            pipe.xadd(stream, fields)
        if self.replicas:
            pipe.execute_command("WAIT", self.replicas, self.wait_ms)
        result = await pipe.execute()
        if self.replicas and int(result[-1]) < self.replicas:
            raise NotReplicatedError
        return [_text(r) for r in result[: len(entries)]]
