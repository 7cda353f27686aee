"""Cross-process L1 coherence: a subscriber thread that drops what other processes changed.

Two modes. "pubsub": every write and invalidation made through stratacache publishes a
`_plan.Message` on ``<key_prefix>inv``; this thread applies the messages of other processes.
"tracking": server-assisted; a dedicated connection runs ``CLIENT TRACKING on REDIRECT <id>
BCAST PREFIX <key_prefix> NOLOOP`` so that Redis itself reports every change of a key under the
prefix, made by any client, on ``__redis__:invalidate`` (RESP2, hence protocol=2). The
published messages are still applied (tags, flushes and patterns are not key writes).

When the subscription drops (error, or no answer to a PING within the deadline), messages
may have been lost: `on_down` flushes L1 and keeps it degraded; after re-subscribing,
`on_up` flushes again (messages sent while we were away) and ends the degraded state. The
thread reconnects with jittered exponential backoff, reset once a session was up. Losing
coherence and getting it back are logged at WARNING (once per outage). A process forked
after the subscriber started (gunicorn --preload, multiprocessing "fork") starts its own
subscriber thread, under a new origin, and treats L1 as incoherent until it is up. It touches Python
objects only through the callbacks, which call the thread-safe store.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import random
import select
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

from ..._log import logger
from .common import TierCounters
from .plan import EVENT_MAGIC, Message, presence

__all__ = ["Subscriber", "backoff"]

_TRACKING_CHANNEL = b"__redis__:invalidate"


#: Started subscribers, weakly: a forked child restarts the live ones and keeps no cache alive.
_live: weakref.WeakSet[Subscriber] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for subscriber in list(_live):
        subscriber._restart_in_child()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


#: The kind of a published message in a RESP2 pub/sub reply (bytes, or str when the client
#: decodes responses).
_MESSAGE = (b"message", "message")

#: Bytes asked of the socket per read: a burst of messages comes in one or a few reads.
_READ_SIZE = 65536

#: What our hiredis reader returns while no reply is complete.
_INCOMPLETE = object()

_Reader: Any = None
with contextlib.suppress(ImportError):  # without hiredis, replies are read through redis-py
    from hiredis import Reader as _Reader


class _Replies:
    """The replies waiting on the subscribed connection `conn`, read in bulk.

    Every write of this process sends one message, and pub/sub echoes it to our own
    subscription too, so this thread wakes once per `set` of its process and takes the GIL
    while that set's reply arrives. redis-py's way to read one (`can_read`, then
    `read_response`) costs two polls, a peeking recv and a few layers of Python per message;
    this one is one poll and one recv per wake-up, what arrived fed to a hiredis reader of
    our own and every complete reply taken from it at once (a burst costs one wake-up, not
    one per message). The replies come as bytes whatever the client decodes. The
    subscriptions never change once confirmed, so no state of PubSub's needs keeping.
    Without hiredis, replies are read one at a time through redis-py.
    """

    def __init__(self, conn: Any) -> None:
        self._conn = conn
        self._pending: list[Any] = []
        self._sock = conn._sock
        self._reader: Any = None
        if _Reader is None or self._sock is None:
            return
        # What redis-py's parser holds already (maybe half a reply) is read through it first.
        parser_reader = getattr(conn._parser, "_reader", None)
        while parser_reader is not None and parser_reader.has_data():
            self._pending += _next_reply(conn, 0) or []
        self._reader = _Reader(notEnoughData=_INCOMPLETE)
        self._buffer = bytearray(_READ_SIZE)
        self._poll = select.poll()
        self._poll.register(self._sock, select.POLLIN)

    def wait(self, timeout: float) -> list[Any]:
        """The replies that arrive within `timeout` seconds (none: an empty list); raises
        ConnectionError when the server closed the connection."""
        if self._pending:
            replies, self._pending = self._pending, []
            return replies
        if self._reader is None:
            reply = _next_reply(self._conn, timeout)
            return [] if reply is None else [reply]
        sock = self._sock
        if self._conn._sock is not sock:  # redis-py reconnected it: our subscriptions are gone
            msg = "the invalidation connection was reopened"
            raise ConnectionError(msg)
        pending = getattr(sock, "pending", None)  # TLS: decrypted bytes the poll cannot see
        if not (pending is not None and pending()) and not self._poll.poll(timeout * 1000):
            return []
        n = sock.recv_into(self._buffer)
        if n == 0:
            msg = "the server closed the invalidation connection"
            raise ConnectionError(msg)
        reader = self._reader
        reader.feed(self._buffer, 0, n)
        replies = []
        reply = reader.gets()
        while reply is not _INCOMPLETE:
            replies.append(reply)
            reply = reader.gets()
        return replies


def _next_reply(conn: Any, timeout: float) -> list[Any] | None:
    """The next reply on `conn`, through redis-py (its pure-Python parser), None if none
    came within `timeout` seconds."""
    if not conn.can_read(timeout=timeout):
        return None
    reply = conn.read_response(push_request=True)  # RESP3 (protocol=3 in the URL): pushes
    return reply if isinstance(reply, list) else [reply]


@functools.cache
def _own_prefix(origin: str) -> bytes:
    """How every message encoded with `origin` begins (`plan.Message.encode`: a JSON list)."""
    return b"[" + json.dumps(origin, ensure_ascii=True).encode() + b","


def backoff(attempt: int) -> float:
    """Seconds before reconnect attempt `attempt` (1, 2, ...): full jitter, 0.1 s to 2 s."""
    return random.uniform(0, min(2.0, 0.05 * 2**attempt))


class Subscriber:
    """A daemon thread holding the invalidation subscription of one cache."""

    def __init__(
        self,
        client: Any,
        channel: bytes,
        *,
        origin: str,
        on_message: Callable[[Message], None],
        on_keys: Callable[[list[bytes] | None], None],
        on_down: Callable[[], None],
        on_up: Callable[[], None],
        counters: TierCounters,
        tracking_prefix: bytes | None = None,
        on_fork: Callable[[], str] | None = None,
        on_lost: Callable[[], None] | None = None,
        on_tick: Callable[[], None] | None = None,
        on_stop: Callable[[], None] | None = None,
        ping_interval: float = 0.5,
        ping_deadline: float = 1.5,
    ) -> None:
        self._client = client
        self._on_fork = on_fork
        self._on_lost = on_lost  # a subscription that was up dropped (not a fork)
        # Called on each turn of the listening loop (a disk's heartbeat), and once stopped.
        self._on_tick, self._on_stop = on_tick, on_stop
        self._channel = channel
        self._origin = origin
        self._on_message, self._on_keys = on_message, on_keys
        self._on_down, self._on_up = on_down, on_up
        self._counters = counters
        self._tracking_prefix = tracking_prefix
        self._ping_interval, self._ping_deadline = ping_interval, ping_deadline
        self._stop = threading.Event()
        self.connected = threading.Event()
        self._down_logged = False  # a "lost" line was logged and no "back" line since
        self._thread = self._new_thread()
        # Frames of the event broker (`events._wire`) on the same channel, by its callback;
        # without one they are ignored (not counted: they are not coherence messages).
        self.on_event: Callable[[bytes], None] | None = None

    def _new_thread(self) -> threading.Thread:
        return threading.Thread(target=self._run, name="stratacache-invalidation", daemon=True)

    def start(self) -> None:
        _live.add(self)
        self._thread.start()

    def _restart_in_child(self) -> None:
        """In a forked child: the parent's thread did not survive the fork, and messages sent
        from now on reach this process only through a subscription of its own. L1 is flushed
        and degraded (`on_down`) until that subscription is up."""
        if self._stop.is_set() or self._thread.ident is None:
            return  # stopped, or never started
        self._stop, self.connected = threading.Event(), threading.Event()
        self._down_logged = False
        if self._on_fork is not None:
            self._origin = self._on_fork()
        self._on_down()
        self._thread = self._new_thread()
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        up = self.connected.is_set()  # an ended heartbeat claims coverage until now
        self._stop.set()
        self._thread.join(timeout)
        if up and self._on_stop is not None:
            with contextlib.suppress(Exception):  # a closing cache must not raise for it
                self._on_stop()

    def _run(self) -> None:
        attempt = 0
        while not self._stop.is_set():
            # Any failure means "messages may be lost"; the session never ends otherwise.
            with contextlib.suppress(Exception):
                self._session()
            was_up = self.connected.is_set()
            # A session that was up starts the backoff afresh: only consecutive failed
            # attempts grow it, so the tenth cut heals as fast as the first.
            attempt = 1 if was_up else attempt + 1
            if was_up:
                self.connected.clear()
            if self._stop.is_set():
                return
            self._on_down()
            if was_up and self._on_lost is not None:  # not each failed attempt: a subscription
                self._on_lost()  # refused for good (ACL, proxy) must not distrust Redis forever
            self._counters.subscription_drops += 1  # after on_down: a moved count means flushed
            if not self._down_logged:
                self._down_logged = True
                logger.warning(
                    "L1 coherence lost: the invalidation subscription %s; L1 is flushed and "
                    "its TTLs are capped until it is back",
                    "dropped" if was_up else "could not be opened",
                )
            self._stop.wait(backoff(attempt))

    def _session(self) -> None:
        pubsub = self._client.pubsub()
        tracker = None
        try:
            # Our presence: a writer of this process counts it apart from the others.
            channels = [self._channel, presence(self._channel, self._origin)]
            if self._tracking_prefix is not None:
                # REDIRECT needs the pub/sub connection's id, which it can only tell before
                # it subscribes (RESP2): take a connection, ask, then hand it to the PubSub.
                conn = self._client.connection_pool.get_connection()
                conn.send_command("CLIENT", "ID")
                client_id = int(conn.read_response())
                pubsub.connection = conn
                channels.append(_TRACKING_CHANNEL)
            pubsub.subscribe(*channels)
            self._await_subscribed(pubsub, len(channels))
            if self._tracking_prefix is not None:
                tracker = self._start_tracking(client_id)
            self._on_up()
            self.connected.set()
            if self._down_logged:
                self._down_logged = False
                logger.warning("L1 coherence is back: the invalidation subscription is up")
            self._listen(pubsub, tracker)
        finally:
            if tracker is not None:
                tracker.disconnect()
                self._client.connection_pool.release(tracker)
            pubsub.close()

    def _start_tracking(self, client_id: int) -> Any:
        """A connection of our own, kept open, whose tracking redirects to `client_id`."""
        tracker = self._client.connection_pool.get_connection()
        tracker.send_command(
            "CLIENT",
            "TRACKING",
            "on",
            "REDIRECT",
            client_id,
            "BCAST",
            "PREFIX",
            self._tracking_prefix,
        )
        reply = tracker.read_response()
        if reply not in (b"OK", "OK"):
            msg = f"CLIENT TRACKING was refused: {reply!r}"
            raise RuntimeError(msg)
        return tracker

    def _await_subscribed(self, pubsub: Any, count: int) -> None:
        """Waits for the server to confirm every subscription: only then are we listening."""
        deadline = time.monotonic() + self._ping_deadline
        confirmed = 0
        while confirmed < count:
            item = pubsub.get_message(timeout=0.05)
            if item is not None and item["type"] == "subscribe":
                confirmed += 1
            elif item is not None and item["type"] == "message":
                self._dispatch(item["channel"], item["data"])
            if time.monotonic() > deadline:
                msg = "subscription not confirmed in time"
                raise TimeoutError(msg)

    def _listen(self, pubsub: Any, tracker: Any) -> None:
        last_answer = last_ping = time.monotonic()
        replies = _Replies(pubsub.connection)
        while not self._stop.is_set():
            now = time.monotonic()
            if now - last_ping >= self._ping_interval:
                pubsub.ping()
                if tracker is not None:
                    tracker.send_command("PING")
                    tracker.read_response()
                last_ping = now
            if self._on_tick is not None:
                with contextlib.suppress(Exception):  # a missed beat only costs a disk clear
                    self._on_tick()
            if now - last_answer > self._ping_deadline:
                msg = "invalidation subscription stopped answering"
                raise TimeoutError(msg)
            batch = replies.wait(0.1)
            if not batch:
                continue
            last_answer = time.monotonic()
            own = _own_prefix(self._origin)
            for reply in batch:  # also PONGs, which only count as an answer
                if isinstance(reply, list) and len(reply) == 3 and reply[0] in _MESSAGE:
                    data = reply[2]  # [kind, channel, data]
                    if isinstance(data, bytes) and data.startswith(own):
                        continue  # our own message (every write sends one), left unparsed
                    self._dispatch(reply[1], data)

    def _dispatch(self, channel: bytes, data: Any) -> None:
        if channel == _TRACKING_CHANNEL:
            self._on_keys(None if data is None else list(data))
        elif isinstance(data, bytes) and data.startswith(EVENT_MAGIC):
            if self.on_event is not None:
                self.on_event(data)  # never raises: the broker counts what it cannot decode
            return
        else:
            message = Message.decode(data) if isinstance(data, bytes) else None
            if message is None:
                self._counters.invalidations_malformed += 1
                return
            if message.origin == self._origin:
                return
            self._on_message(message)
        # Counted once applied, so a count that moved means the L1 drops are done.
        self._counters.invalidations_received += 1
