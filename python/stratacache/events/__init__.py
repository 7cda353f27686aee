"""Events: `cache.events.subscribe(handler, kinds=..., namespaces=...)` and
`cache.events.emit(name, payload)`, delivered in this process and, over the Redis tier's
invalidation channel, in every other process (see `_broker` for what travels and what it
costs)."""

from __future__ import annotations

from ._broker import QUEUE_SIZE, AsyncEventBroker, EventBroker
from ._event import KINDS, Event
from ._subscription import Subscription

__all__ = ["KINDS", "QUEUE_SIZE", "AsyncEventBroker", "Event", "EventBroker", "Subscription"]
