"""Events: `cache.events.subscribe(handler, kinds=..., namespaces=...)` and
`cache.events.emit(name, payload)`, delivered in this process and, over the Redis tier's
invalidation channel, in every other process (see `_broker` for what travels and what it
costs)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_getattr
from ._broker import QUEUE_SIZE, AsyncEventBroker, EventBroker
from ._event import KINDS, Event

if TYPE_CHECKING:
    from ._subscription import Subscription

__all__ = ["KINDS", "QUEUE_SIZE", "AsyncEventBroker", "Event", "EventBroker", "Subscription"]

# Subscription (and asyncio with it) loads at the first subscribe, not with every cache.
__getattr__ = lazy_getattr(__name__, {"Subscription": "_subscription"}, globals())
