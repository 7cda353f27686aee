"""Invalidations other processes announced but could not apply in Redis (`Tombstones`).

No I/O: the subscriber adds what it receives, `state.TierState` checks what it reads.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from typing import Any

from ..chain import glob_to_regex
from . import plan as _plan

__all__ = ["Tombstones"]


class Tombstones:
    """Invalidations other processes could not apply in Redis (`_plan.Message.skipped`),
    remembered by their local time of receipt for `max_age_ms`.

    Until the sender replays its log, Redis (or a promoted replica) still holds the values
    such an invalidation removes; a value read from Redis whose envelope was created before
    a matching tombstone is one of them, and is treated as a miss. Bounded: at most `limit`
    key and tag tombstones each, and `limit // 100` patterns, the oldest dropped first.
    Thread-safe (the subscriber thread adds, readers check). `active` is a plain attribute so
    that a read with no tombstone costs one attribute test.
    """

    def __init__(self, max_age_ms: int = 10_000, limit: int = 100_000) -> None:
        self.max_age_ms, self.limit = max_age_ms, limit
        self.active = False
        self._keys: dict[tuple[str, str], int] = {}  # insertion order is age order
        self._tags: dict[str, int] = {}
        self._patterns: dict[tuple[str, str], tuple[re.Pattern[str], int]] = {}
        self._namespaces: dict[str, int] = {}
        self._all = 0
        self._lock = threading.Lock()

    def add(self, message: _plan.Message, at_ms: int) -> None:
        op, ns = message.op, message.namespace
        with self._lock:
            if op == "k":
                for key in message.items:
                    _renew(self._keys, (ns, key), at_ms, self.limit)
            elif op == "t":
                for tag in message.items:
                    _renew(self._tags, tag, at_ms, self.limit)
            elif op == "p":
                for pattern in message.items:
                    regex = re.compile(glob_to_regex(pattern), re.DOTALL)
                    _renew(self._patterns, (ns, pattern), (regex, at_ms), self.limit // 100)
            elif op == "n":
                _renew(self._namespaces, ns, at_ms, self.limit)
            elif op == "a":
                self._all = at_ms
            self.active = True

    def covers(
        self, namespace: str, key: str, tags: Iterable[str], created_ms: int, now_ms: int
    ) -> bool:
        """True when an envelope of `namespace`/`key` created at `created_ms` predates a
        tombstone that matches it (its key, one of its tags, a pattern, its namespace)."""
        with self._lock:
            self._prune(now_ms - self.max_age_ms)
            if not self.active:
                return False
            newest = max(self._all, self._namespaces.get(namespace, 0))
            newest = max(newest, self._keys.get((namespace, key), 0))
            for tag in tags:
                newest = max(newest, self._tags.get(tag, 0))
            if created_ms <= newest:
                return True
            return any(
                created_ms <= at and ns == namespace and regex.match(key)
                for (ns, _), (regex, at) in self._patterns.items()
            )

    def _prune(self, before_ms: int) -> None:
        """Drops tombstones received before `before_ms` (lock held)."""
        tables: tuple[dict[Any, int], ...] = (self._keys, self._tags, self._namespaces)
        for table in tables:
            while table and next(iter(table.values())) < before_ms:
                del table[next(iter(table))]
        while self._patterns and next(iter(self._patterns.values()))[1] < before_ms:
            del self._patterns[next(iter(self._patterns))]
        if self._all < before_ms:
            self._all = 0
        self.active = bool(
            self._all or self._keys or self._tags or self._patterns or self._namespaces
        )


def _renew(table: dict[Any, Any], name: Any, value: Any, limit: int) -> None:
    """Sets table[name] as its newest entry, dropping the oldest past `limit`."""
    table.pop(name, None)
    table[name] = value
    while len(table) > max(1, limit):
        del table[next(iter(table))]
