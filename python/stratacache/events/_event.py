"""The event record handed to subscribers, the kinds there are, and argument checks."""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterable
from typing import Any, NamedTuple

from .._options import check_namespace
from ..errors import ConfigError

__all__ = ["CHANGE_KINDS", "KINDS", "Event", "check_filter", "check_handler", "check_name"]

#: Cache events produced by writes and invalidations (they need the write path hooked).
CHANGE_KINDS = frozenset({"set", "delete", "invalidate"})
#: Every kind a subscriber may ask for: the changes, evictions (counts per interval), the
#: Redis tier's breaker opening ("tier_down") and closing ("tier_up"), and "app" for
#: `emit`'s application events.
KINDS = frozenset({*CHANGE_KINDS, "evict", "tier_down", "tier_up", "app"})

_NAME = re.compile(r"[^\s\x00-\x1f\x7f]{1,200}")


class Event(NamedTuple):
    """One event, as a subscriber receives it (a named tuple: cheap to make on the write path).

    Attributes:
        kind: one of `KINDS`.
        name: for "app", the name given to `emit`; for "invalidate", what was invalidated
            ("tags", "pattern" or "clear"); for the other kinds, the kind itself.
        namespace: the namespace it concerns; None for every namespace (a clear of all of
            them, a tag invalidation, which spans namespaces).
        keys: the keys written ("set") or deleted ("delete").
        tags: the tags of a write, or the tags invalidated.
        pattern: the glob of a pattern invalidation.
        payload: "app": the payload given to `emit` (a decoded copy when it came from another
            process); "evict": {"size": n, "expired": m}, entries evicted since the last
            report; "tier_down"/"tier_up": {"tier": "redis"}; otherwise None.
        origin: the id of the process (cache) that produced it.
        local: True when this process produced it.
        seq: its number among the events of its origin (1, 2, ...).
        time: unix time (seconds) it was produced.
    """

    kind: str
    name: str
    namespace: str | None
    keys: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    pattern: str | None = None
    payload: Any = None
    origin: str = ""
    local: bool = True
    seq: int = 0
    time: float = 0.0

    @property
    def id(self) -> str:
        """Unique across processes: ``"<origin>:<seq>"``."""
        return f"{self.origin}:{self.seq}"


def check_name(name: object) -> str:
    """An application event name: 1 to 200 characters, no whitespace or control characters.

    Raises:
        TypeError: not a str.
        ValueError: empty, too long, or holding whitespace or a control character.
    """
    if not isinstance(name, str):
        msg = f"event name must be a str, not {type(name).__name__}"
        raise TypeError(msg)
    if not _NAME.fullmatch(name):
        msg = (
            f"event name {name[:40]!r} is invalid: use 1 to 200 characters without whitespace "
            "or control characters (e.g. 'product.updated')"
        )
        raise ValueError(msg)
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        msg = "event name holds a lone surrogate, which has no UTF-8 form"
        raise ValueError(msg) from None
    return name


def check_handler(handler: object) -> bool:
    """True for a coroutine function (or an object whose __call__ is one), False for another
    callable.

    Raises:
        TypeError: `handler` is not callable.
    """
    if not callable(handler):
        msg = f"handler must be a callable or a coroutine function, not {type(handler).__name__}"
        raise TypeError(msg)
    call = getattr(handler, "__call__", None)  # noqa: B004 - callable() passed: coroutine check
    return inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(call)


def check_filter(values: Iterable[str] | None, what: str) -> frozenset[str] | None:
    """A subscriber's filter (`kinds`, `namespaces`, `names`) as a frozenset; None = all.

    Raises:
        TypeError: a str instead of a collection, or an item that is not a str.
        ConfigError: an unknown kind, an invalid namespace or name, or an empty filter.
    """
    if values is None:
        return None
    if isinstance(values, (str, bytes)):
        msg = f"{what} must be a collection of str (e.g. [{values!r}]), not a single str"
        raise TypeError(msg)
    try:
        items: frozenset[Any] = frozenset(values)
    except TypeError:
        msg = f"{what} must be a collection of str, not {type(values).__name__}"
        raise TypeError(msg) from None
    if not items:
        msg = f"{what} is empty: it would match nothing (None matches everything)"
        raise ConfigError(msg)
    for item in items:
        if not isinstance(item, str):
            msg = f"{what} must hold str, not {type(item).__name__}"
            raise TypeError(msg)
        if what == "kinds" and item not in KINDS:
            msg = f"unknown event kind {item!r}: use one of {', '.join(sorted(KINDS))}"
            raise ConfigError(msg)
        if what == "namespaces":
            check_namespace(item)
        if what == "names":
            try:
                check_name(item)
            except ValueError as exc:
                raise ConfigError(str(exc)) from None
    return items
