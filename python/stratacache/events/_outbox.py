"""The publisher of a cache's events to other processes: a bounded queue and one thread.

The caller's path only appends (never a round trip, never a timeout): `emit` and the write
path's events cost a deque append. The thread drains the queue in batches, encodes what is
still an `Event` (cache events are encoded here, off the caller's path), and PUBLISHes the
batch in one pipeline (on Cluster, one PUBLISH each: a cluster pipeline routes by key). What
cannot be queued (the queue is full) or sent (Redis did not answer) is counted as unsent.
"""

from __future__ import annotations

import collections
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from .._log import RateLimited
from ..tiers.redis.common import is_cluster
from ._event import Event

__all__ = ["Outbox"]

#: Frames waiting to be published; more are dropped and counted.
MAX_QUEUED = 10_000
#: Frames sent per round trip.
BATCH = 256

_failed = RateLimited("stratacache: events could not be published (%s); they are dropped")


class Outbox:
    """Publishes frames on `channel` through the sync redis-py `client`."""

    def __init__(self, client: Any, channel: bytes, encode: Callable[[Event], bytes]) -> None:
        self._client = client
        self._channel = channel
        self._encode = encode
        self._cluster = is_cluster(client)
        self._queue: collections.deque[bytes | Event] = collections.deque()
        self._cond = threading.Condition()
        self._busy = False  # a batch is being sent
        self._stopped = False
        self._thread: threading.Thread | None = None
        self._pid = 0
        self.published = 0
        self.unsent = 0

    def put(self, item: bytes | Event) -> None:
        """Queues a frame (or an event to encode); never blocks."""
        with self._cond:
            if self._stopped or len(self._queue) >= MAX_QUEUED:
                self.unsent += 1
                return
            self._queue.append(item)
            if self._thread is None or self._pid != os.getpid():  # first use, or forked
                self._pid = os.getpid()
                self._thread = threading.Thread(
                    target=self._run, name="stratacache-events-publisher", daemon=True
                )
                self._thread.start()
            self._cond.notify()

    def flush(self, timeout: float) -> bool:
        """Waits until everything queued so far was sent (or given up); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._queue or self._busy:
                left = deadline - time.monotonic()
                if left <= 0 or self._thread is None or not self._thread.is_alive():
                    return not (self._queue or self._busy)
                self._cond.wait(min(left, 0.05))
        return True

    def stop(self, timeout: float = 2.0) -> None:
        """Sends what is queued (for up to `timeout` seconds), then ends the thread."""
        self.flush(timeout)
        with self._cond:
            self._stopped = True
            self.unsent += len(self._queue)
            self._queue.clear()
            self._cond.notify_all()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._stopped:
                    self._cond.wait()
                if self._stopped:
                    return
                batch = [self._queue.popleft() for _ in range(min(BATCH, len(self._queue)))]
                self._busy = True
            try:
                self._send(batch)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _send(self, batch: list[bytes | Event]) -> None:
        frames: list[bytes] = []
        for item in batch:
            try:
                frames.append(item if isinstance(item, bytes) else self._encode(item))
            except Exception:  # noqa: BLE001 - a cache event the codec refused: counted
                self.unsent += 1
        done = 0
        try:
            if self._cluster:
                for frame in frames:
                    self._client.publish(self._channel, frame)
                    done += 1
            else:
                pipe = self._client.pipeline(transaction=False)
                for frame in frames:
                    pipe.publish(self._channel, frame)
                pipe.execute()
                done = len(frames)
        except Exception as exc:  # noqa: BLE001 - Redis down or refusing: counted, logged
            _failed.hit(type(exc).__name__)
        self.published += done
        self.unsent += len(frames) - done
