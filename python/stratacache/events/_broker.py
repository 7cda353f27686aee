"""`cache.events`: subscriptions, application events, and the cache's own events.

Local delivery: an event is offered to each subscription whose filter matches (`offer` never
blocks). Across processes: with a Redis tier, events travel on the cache's invalidation
channel (`_wire` frames, published by `_outbox.Outbox` off the caller's path, received by the
coherence subscriber thread). `emit` always goes out; the cache's own events (set, delete,
invalidate, evict, tier_down, tier_up) go out only from a cache created with ``events=True``,
since publishing every write costs a PUBLISH per change. Without a tier, events stay in the
process. Receiving needs the coherence subscriber (``RedisOptions(coherence=...)`` not None).

`invalidate_on` maps application events to invalidations, run by the emitting process inside
`emit` (before subscribers hear of the event), spreading as a normal delete or tag
invalidation does: register the mapping in every process that emits the event.
"""

from __future__ import annotations

import itertools
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from .._options import NAMESPACE_SEP, check_bound, require_callable, require_type
from ..errors import ConfigError
from ..stats import EventStats
from . import _wire
from ._event import CHANGE_KINDS, KINDS, Event, check_filter, check_handler, check_name
from ._hooks import AsyncChangeDriver, ChangeDriver, reporting_setter
from ._outbox import Outbox

if TYPE_CHECKING:
    from ._subscription import Subscription

__all__ = ["AsyncEventBroker", "EventBroker"]

#: Default bound of a subscriber's queue.
QUEUE_SIZE = 1000

Mapper = Callable[[Any], Iterable[str] | None]


class EventBroker:
    """The events of one `Cache` (`cache.events`).

    Attributes:
        eviction_interval: seconds between two eviction reports ("evict" events carry the
            counts of entries evicted per namespace since the previous report: the engine
            has no per-key eviction callback). Default 1.0.
    """

    def __init__(self, cache: Any, *, remote_changes: bool) -> None:
        self._cache = weakref.ref(cache)
        self._asyncio = bool(cache._asyncio)
        self._store = cache._store
        self._namespace = cache.namespace
        self._tier = cache._tier
        self._lock = threading.Lock()
        self._subs: tuple[Subscription, ...] = ()
        self._mappings: dict[str, list[tuple[Mapper | None, Mapper | None]]] = {}
        self._seq = itertools.count(1)
        self._local_origin = uuid.uuid4().hex
        self._retired = [0, 0, 0]  # delivered, dropped, errors of closed subscriptions
        self.received = self.malformed = 0
        self._remote_changes = remote_changes
        # The driver and instance set replaced by reporting wrappers (None: not hooked).
        self._plain_driver: Any = None
        self._plain_set: Any = None
        self._set_wrapper: Any = None
        self._sampler: threading.Thread | None = None
        self._sampling = threading.Event()
        self._halt = threading.Event()
        self._kinds: frozenset[str] = frozenset()  # kinds some subscriber (or events=True) wants
        self.eviction_interval = 1.0
        self._outbox: Outbox | None = None
        self._closed = False
        if self._tier is not None:
            self._codec = self._tier.codecs[None]
            self._key = _wire.frame_key(self._tier.prefix)
            client = getattr(cache._parts, "sync", None)
            if client is not None:
                self._outbox = Outbox(client, self._tier.channel, self._encode)
            if cache._subscriber is not None:
                cache._subscriber.on_event = self.received_frame
            cache._driver.redis.breaker.on_change = self._breaker_changed

    @property
    def origin(self) -> str:
        """This process's origin id (the tier's, renewed in a forked child)."""
        return self._local_origin if self._tier is None else str(self._tier.origin)

    # Subscribing ---------------------------------------------------------------------------
    def subscribe(
        self,
        handler: Callable[[Event], Any],
        kinds: Iterable[str] | None = None,
        namespaces: Iterable[str] | None = None,
        *,
        names: Iterable[str] | None = None,
        queue_size: int = QUEUE_SIZE,
    ) -> Subscription:
        """Calls `handler(event)` for every matching event, in order, on a worker of its own.

        Args:
            handler: a callable, or a coroutine function. Callables run on a thread of the
                subscription's own. Coroutine functions of an AsyncCache subscribed inside a
                running loop run as a task of that loop; otherwise (a Cache, or no running
                loop) on that thread, each on a loop of the thread's own.
            kinds: the kinds wanted (`stratacache.events.KINDS`); None: all.
            namespaces: the namespaces wanted; None: all. Events of every namespace (a clear
                of all, a tag invalidation) match any filter.
            names: the `Event.name`s wanted (an application event's name; for the cache's
                events, their kind, or "tags"/"pattern"/"clear"); None: all.
            queue_size: most events waiting for the handler; further ones are dropped and
                counted (`Subscription.dropped`, `stats().events.dropped`).

        Returns:
            The Subscription; `close()` it (or use it as a context manager) to stop.

        Raises:
            TypeError: handler is not callable, or a filter is not a collection of str.
            ConfigError: an unknown kind, an invalid namespace or name, an empty filter, a
                queue_size below 1, or the cache is closed.
        """
        coroutine = check_handler(handler)
        filters = (
            check_filter(kinds, "kinds"),
            check_filter(namespaces, "namespaces"),
            check_filter(names, "names"),
        )
        require_type(queue_size, int, "queue_size", "an int >= 1 (the queue is always bounded)")
        size = check_bound(queue_size, "queue_size")
        if self._closed:
            msg = "the cache is closed: it has no events to deliver"
            raise ConfigError(msg)
        from ._subscription import Subscription  # noqa: PLC0415 - loads asyncio: on first use

        sub = Subscription(
            handler,
            coroutine=coroutine,
            on_loop=self._asyncio,
            kinds=filters[0],
            namespaces=filters[1],
            names=filters[2],
            queue_size=size,
            on_close=self._unsubscribed,
        )
        with self._lock:
            self._subs = (*self._subs, sub)
        self._update()
        return sub

    def _unsubscribed(self, sub: Subscription) -> None:
        with self._lock:
            self._subs = tuple(s for s in self._subs if s is not sub)
            self._retired[0] += sub.delivered
            self._retired[1] += sub.dropped
            self._retired[2] += sub.errors
        self._update()

    def _wanted(self, kind: str) -> bool:
        return self._remote_changes or any(s.kinds is None or kind in s.kinds for s in self._subs)

    def _update(self) -> None:
        """Hooks the write path (and starts the eviction reports) only while wanted."""
        self._kinds = frozenset(k for k in KINDS if self._wanted(k))
        changes = any(self._wanted(k) for k in CHANGE_KINDS) and not self._closed
        self._route(changes)
        if self._wanted("evict") and not self._closed:
            self._start_sampler()
        else:
            self._sampling.clear()

    def _route(self, on: bool) -> None:
        """Puts the reporting wrappers in (`_hooks`) or takes them out."""
        cache = self._cache()
        if cache is None:
            return
        current = cache.__dict__.get("set")  # Cache: its set is the engine's or tier's setter
        if on:
            if self._plain_driver is None:
                self._plain_driver = cache._driver
                wrapper = AsyncChangeDriver if self._asyncio else ChangeDriver
                cache._driver = wrapper(cache._driver, self)
            if current is not None and current is not self._set_wrapper:
                self._plain_set = current
                self._set_wrapper = reporting_setter(current, self, cache.namespace)
                cache.__dict__["set"] = self._set_wrapper
            return
        if self._plain_driver is not None:
            cache._driver, self._plain_driver = self._plain_driver, None
        if current is not None and current is self._set_wrapper:
            cache.__dict__["set"] = self._plain_set
        self._plain_set = self._set_wrapper = None

    def start(self) -> None:
        """Hooks what the subscriptions and `events=True` want; the caches call it once built
        (again after replacing their entry points)."""
        self._update()

    # Producing -----------------------------------------------------------------------------
    def _event(self, kind: str, name: str, namespace: str | None, **fields: Any) -> Event:
        origin = self.origin
        return Event(
            kind,
            name,
            namespace,
            origin=origin,
            local=True,
            seq=next(self._seq),
            time=time.time(),
            **fields,
        )

    def changed(
        self,
        kind: str,
        name: str,
        namespace: str | None,
        *,
        keys: Iterable[str] = (),
        tags: Iterable[str] = (),
        pattern: str | None = None,
    ) -> None:
        """A cache event from the write path, the breaker or the eviction reports."""
        if kind not in self._kinds:
            return
        # The write path's hot lines: the event is built positionally and offered inline.
        origin = self.origin
        event = Event(
            kind,
            name,
            namespace,
            tuple(keys),
            tuple(tags),
            pattern,
            None,
            origin,
            True,
            next(self._seq),
            time.time(),
        )
        for sub in self._subs:
            if sub.wants(event):
                sub.offer(event)
        if self._remote_changes and self._outbox is not None:
            self._outbox.put(event)

    def _produce(self, event: Event, payload_frame: bytes | None = None) -> None:
        self._deliver(event)
        if self._outbox is not None and (payload_frame is not None or self._remote_changes):
            self._outbox.put(event if payload_frame is None else payload_frame)

    def _deliver(self, event: Event) -> None:
        for sub in self._subs:
            if sub.wants(event):
                sub.offer(event)

    def _encode(self, event: Event) -> bytes:
        return _wire.encode(self._codec, self._key, event)

    def _breaker_changed(self, state: str) -> None:
        kind = "tier_up" if state == "closed" else "tier_down"
        if kind in self._kinds:
            self._produce(self._event(kind, kind, None, payload={"tier": "redis"}))

    # Application events --------------------------------------------------------------------
    def _app_event(self, name: object, payload: Any) -> tuple[Event, bytes | None]:
        if self._closed:
            msg = "the cache is closed: it cannot emit events"
            raise ConfigError(msg)
        event = self._event("app", check_name(name), self._namespace, payload=payload)
        return event, None if self._outbox is None else self._encode(event)

    def emit(self, name: str, payload: Any = None) -> None:
        """Emits an application event: runs the invalidations `invalidate_on` maps it to, then
        hands it to this process's subscribers and (with a Redis tier) publishes it to the
        others. Never waits for a handler or for Redis.

        Args:
            name: the event name (1-200 characters, no whitespace), e.g. "product.updated".
            payload: any value the cache's codec encodes (the subscribers of this process get
                the object itself, those of other processes a decoded copy).

        Raises:
            TypeError, ValueError: an invalid name.
            SerializationError, DataTooLargeError: the codec cannot encode the payload.
            ConfigError: the cache is closed.
            Exception: what an `invalidate_on` function raised (nothing was emitted).
        """
        event, frame = self._app_event(name, payload)
        cache = self._cache()
        for keys, tags in self._targets(event.name, payload):
            if cache is not None and keys:
                cache.delete_many(keys)
            if cache is not None and tags:
                cache.invalidate_tags(*tags)
        self._produce(event, frame)

    def invalidate_on(
        self, name: str, *, keys: Mapper | None = None, tags: Mapper | None = None
    ) -> None:
        """When this process emits `name`, deletes `keys(payload)` (keys of the cache's
        namespace) and invalidates `tags(payload)`, before the event reaches subscribers.

        Raises:
            TypeError: keys or tags is not callable, or the name is not a str.
            ValueError: an invalid name.
            ConfigError: neither keys nor tags is given.
        """
        check_name(name)
        require_callable(keys, "keys", "a function payload -> keys")
        require_callable(tags, "tags", "a function payload -> tags")
        if keys is None and tags is None:
            msg = "invalidate_on needs keys=, tags= or both"
            raise ConfigError(msg)
        with self._lock:
            self._mappings.setdefault(name, []).append((keys, tags))

    def _targets(self, name: str, payload: Any) -> list[tuple[list[str], list[str]]]:
        return [
            (_strings(keys, payload, "keys"), _strings(tags, payload, "tags"))
            for keys, tags in self._mappings.get(name, ())
        ]

    # From other processes (the coherence subscriber thread) -------------------------------
    def received_frame(self, data: bytes) -> None:
        """A frame from the channel: decoded and delivered, or counted malformed. Never
        raises (the subscriber thread must survive anything another client publishes)."""
        if not self._subs:
            return
        try:
            event = _wire.decode(self._codec, self._key, data)
        except Exception:  # noqa: BLE001 - a registered decoder failing on hostile bytes
            event = None
        if event is None:
            self.malformed += 1
            return
        if event.origin == self.origin:
            return
        self.received += 1
        self._deliver(event)

    # Evictions -----------------------------------------------------------------------------
    def _start_sampler(self) -> None:
        self._sampling.set()
        if self._sampler is None or not self._sampler.is_alive():
            self._sampler = threading.Thread(
                target=self._sample, name="stratacache-events-evictions", daemon=True
            )
            self._sampler.start()

    def _sample(self) -> None:
        last = _evictions(self._store)
        while self._sampling.is_set() and not self._closed:
            if self._halt.wait(self.eviction_interval):
                return
            now = _evictions(self._store)
            for namespace, (size, expired) in now.items():
                before = last.get(namespace, (0, 0))
                if (size, expired) != before:
                    payload = {"size": size - before[0], "expired": expired - before[1]}
                    self._produce(self._event("evict", "evict", namespace, payload=payload))
            last = now

    # Stats and closing ---------------------------------------------------------------------
    def stats(self) -> EventStats:
        subs = self._subs
        outbox = self._outbox
        return EventStats(
            subscribers=len(subs),
            delivered=self._retired[0] + sum(s.delivered for s in subs),
            dropped=self._retired[1] + sum(s.dropped for s in subs),
            errors=self._retired[2] + sum(s.errors for s in subs),
            published=0 if outbox is None else outbox.published,
            unsent=0 if outbox is None else outbox.unsent,
            received=self.received,
            malformed=self.malformed,
        )

    def flush(self, timeout: float = 5.0) -> bool:
        """Waits until the events produced so far were published to other processes (or
        given up); True if they were within `timeout` seconds. Handlers are not waited for."""
        return True if self._outbox is None else self._outbox.flush(timeout)

    def close(self) -> None:
        """Ends every subscription, publishes what is queued (up to 2 s, on the caller's
        thread: an AsyncCache's loop too) and stops. Subscriptions do not survive a fork: a
        child process subscribes again."""
        for sub in self._subs:
            sub.close()
        self._closed = True
        self._halt.set()
        self._update()
        if self._outbox is not None:
            self._outbox.stop()


class AsyncEventBroker(EventBroker):
    """The events of an `AsyncCache`: `emit` is a coroutine (its mapped invalidations are
    awaited); everything else is as in `EventBroker`."""

    async def emit(self, name: str, payload: Any = None) -> None:  # type: ignore[override]
        """See `EventBroker.emit`; the mapped invalidations are awaited on this loop."""
        event, frame = self._app_event(name, payload)
        cache = self._cache()
        for keys, tags in self._targets(event.name, payload):
            if cache is not None and keys:
                await cache.delete_many(keys)
            if cache is not None and tags:
                await cache.invalidate_tags(*tags)
        self._produce(event, frame)


def _strings(fn: Mapper | None, payload: Any, what: str) -> list[str]:
    """What an `invalidate_on` function returned, as a list of str (None: nothing)."""
    if fn is None:
        return []
    result: Any = fn(payload)
    if result is None:
        return []
    if isinstance(result, (str, bytes)):
        msg = f"invalidate_on's {what}= returned a single str; return a list of {what}"
        raise TypeError(msg)
    items = list(result)
    for item in items:
        if not isinstance(item, str):
            msg = f"invalidate_on's {what}= returned a {type(item).__name__}, not a str"
            raise TypeError(msg)
    return items


def _evictions(store: Any) -> dict[str | None, tuple[int, int]]:
    """{namespace (None: the engine's overflow row): (evicted_size, evicted_expired)}."""
    out: dict[str | None, tuple[int, int]] = {}
    for prefix, counters in store.namespace_stats():
        namespace = None if prefix is None else prefix.removesuffix(NAMESPACE_SEP)
        out[namespace] = (counters["evicted_size"], counters["evicted_expired"])
    return out
