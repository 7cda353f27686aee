"""Invalidations skipped while Redis was unreachable, kept for replay (`InvalidationLog`).

No I/O: `state.TierState` keeps one, the drivers replay it through their executor once Redis
answers again.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence

__all__ = ["InvalidationLog", "Logged"]


class Logged:
    """One skipped invalidation: op as in `_plan.Message` ("k" keys, "t" tags, "p" patterns,
    "n" a namespace, "a" everything), compared by identity."""

    __slots__ = ("items", "namespace", "op")

    def __init__(self, op: str, namespace: str, items: tuple[str, ...]) -> None:
        self.op, self.namespace, self.items = op, namespace, items

    def size(self) -> int:
        return max(1, len(self.items))


class InvalidationLog:
    """Invalidations skipped while Redis was unreachable (fail-open), kept for replay.

    Without it a delete made during an outage is lost: Redis keeps the old value and every
    process reads it again once Redis is back. Bounded by `limit` items: past it, key deletes
    and patterns collapse into a flush of their namespace (counted in `overflowed`), tags into
    one deduplicated bump, and beyond that too into a flush of everything under the prefix.
    Thread-safe (the subscriber thread replays it too).
    """

    def __init__(self, limit: int = 10_000) -> None:
        self.limit = limit
        self._ops: list[Logged] = []
        #: Pending items (`len`), an attribute: every L2 read checks it (a `__bool__` call
        #: would be one Python frame per read).
        self.size = 0
        self._flushes: set[str] = set()  # namespaces with a pending flush
        self._flush_all = False
        self._lock = threading.Lock()

    def __bool__(self) -> bool:
        return bool(self._ops)

    def __len__(self) -> int:
        """Pending items (keys, tags, patterns; a namespace or full flush counts one)."""
        return self.size

    def add(self, op: str, namespace: str, items: Iterable[str]) -> tuple[bool, int]:
        """Keeps one skipped invalidation; (log was empty before, items collapsed now)."""
        entry = Logged(op, namespace, tuple(items))
        with self._lock:
            was_empty = not self._ops
            if self._covers(entry):
                return was_empty, 0
            self._ops.append(entry)
            self.size += entry.size()
            collapsed = 0
            if self.size > self.limit:
                collapsed = self._collapse()
                self._index_flushes()
            elif entry.op in "na":
                self._index_flushes()
        return was_empty, collapsed

    def _covers(self, entry: Logged) -> bool:
        """True when a pending flush already removes what `entry` would (lock held)."""
        if self._flush_all:
            return True
        return entry.op != "t" and entry.namespace in self._flushes

    def _index_flushes(self) -> None:
        self._flushes = {e.namespace for e in self._ops if e.op == "n"}
        self._flush_all = any(e.op == "a" for e in self._ops)

    def pending(self) -> list[Logged]:
        with self._lock:
            return list(self._ops)

    def done(self, replayed: Sequence[Logged]) -> int:
        """Forgets `replayed` (applied in Redis); returns how many items they held."""
        ids = {id(e) for e in replayed}
        with self._lock:
            kept = [e for e in self._ops if id(e) not in ids]
            count = self.size - sum(e.size() for e in kept)
            self._ops, self.size = kept, self.size - count
            self._index_flushes()
        return count

    def _collapse(self) -> int:
        """Rewrites the log into namespace flushes and one tag bump; caller holds the lock."""
        ops = self._ops
        namespaces = {e.namespace for e in ops if e.op in "knp"}
        tags = dict.fromkeys(t for e in ops if e.op == "t" for t in e.items)
        collapsed = sum(len(e.items) for e in ops if e.op in "kp")
        if any(e.op == "a" for e in ops) or len(tags) + len(namespaces) > self.limit:
            self._ops = [Logged("a", "", ())]
        else:
            self._ops = [Logged("n", ns, ()) for ns in sorted(namespaces)]
            if tags:
                self._ops.append(Logged("t", "", tuple(tags)))
        self.size = sum(e.size() for e in self._ops)
        return collapsed
