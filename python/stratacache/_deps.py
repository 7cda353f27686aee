"""Dependency invalidation shared by Cache and AsyncCache (no I/O): validation, the bounded
walk over reverse edges, the in-memory graph of L1-only caches, and the counters.

``set(b, ..., depends_on=["a"])`` records the reverse edge a -> b; deleting or invalidating
a then deletes b, and whatever depends on b, through the cache's ordinary delete path (so
L1 drops and coherence messages happen as for any delete). With a Redis tier the edges live
in Redis (`tiers/redis/deps.py`), so any process's delete finds them; an L1-only cache keeps
them here, in `LocalGraph`. An edge is recorded *before* the dependent's value is written (or
its loader runs), so an invalidation racing the write still reaches the dependent.

The walk is a breadth-first search that visits each key once (cycles terminate) and stops
after `limit` dependents (fan-out is bounded): a capped walk is counted, logged (rate-limited)
and the keys it found are still deleted. Each level pops the edges it reads, so an edge is
used once; a dependent re-written later records its edges again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ._log import RateLimited
from ._options import check_text, prefix_of, require_type
from .errors import ConfigError

__all__ = [
    "DEFAULT_LIMIT",
    "Dependencies",
    "DependencyCounters",
    "LocalGraph",
    "Walk",
    "check_depends_on",
    "link_local",
    "walk_local",
]

#: Most dependents one invalidation reaches, and most dependents one key may have.
DEFAULT_LIMIT = 10_000

_CAPPED = (
    "stratacache: a dependency invalidation reached its limit of %d dependents; the rest "
    "keep their values until they expire"
)
_REFUSED = "stratacache: a key already has %d dependents: a new dependent was not cached"


def check_depends_on(depends_on: object) -> tuple[str, ...]:
    """The validated keys of a ``depends_on`` argument (duplicates dropped, order kept).

    Raises:
        TypeError: not an iterable of str (a bare str is refused: it would be split).
        ValueError: a key holds a lone surrogate.
    """
    if isinstance(depends_on, (str, bytes)) or not isinstance(depends_on, Iterable):
        msg = f"depends_on must be an iterable of str keys, not {type(depends_on).__name__}"
        raise TypeError(msg)
    out: dict[str, None] = {}
    for key in depends_on:
        require_type(key, str, "each depends_on key", "a str")
        check_text(key)
        out[key] = None
    return tuple(out)


class DependencyCounters:
    """Counters of dependency invalidation (`CacheStats` fields of the same names). A plain
    class, not a dataclass: every cache builds one, and dataclasses loads inspect."""

    __slots__ = ("dependency_links_refused", "dependency_walks_capped", "dependents_invalidated")

    def __init__(self) -> None:
        self.dependents_invalidated = 0
        self.dependency_walks_capped = 0
        self.dependency_links_refused = 0


class Walk:
    """One bounded breadth-first walk from the keys being deleted to their dependents.

    `frontier` holds the keys whose edges are still to read; `add` takes what a level found.
    Every key enters `found` at most once, so the walk ends on cycles and after at most
    `limit` dependents; the number of levels is at most `limit` + 1.
    """

    def __init__(self, keys: Iterable[str], limit: int) -> None:
        self.found: dict[str, None] = dict.fromkeys(keys)
        self.frontier: list[str] = list(self.found)
        self.start = len(self.found)
        self.limit = limit
        self.capped = False

    def add(self, dependents: Iterable[str]) -> None:
        nxt: list[str] = []
        for key in dependents:
            if key in self.found:
                continue
            if len(self.found) - self.start >= self.limit:
                self.capped = True
                break
            self.found[key] = None
            nxt.append(key)
        self.frontier = nxt

    @property
    def keys(self) -> list[str]:
        return list(self.found)


class LocalGraph:
    """The reverse edges of an L1-only cache: (namespace, key) -> its dependents. Bounded:
    at most `limit` dependents per key and `max_edges` edges in all (when either is full,
    edges whose dependent L1 no longer holds are pruned first). Thread-safe: one lock, under
    which only the store's `contains` runs (C, no callbacks)."""

    def __init__(self, limit: int, max_edges: int) -> None:
        self.limit = limit
        self.max_edges = max_edges
        self.edges: dict[tuple[str, str], set[str]] = {}
        self.size = 0
        self._lock = threading.Lock()

    def link(
        self, namespace: str, key: str, deps: Sequence[str], alive: Callable[[str, str], bool]
    ) -> bool:
        """Records `key` as a dependent of each of `deps`; False (nothing recorded) if a bound
        is reached. `alive(namespace, key)` tells a live dependent, for pruning."""
        with self._lock:
            if self.size + len(deps) > self.max_edges:
                self._prune(alive)
            if self.size + len(deps) > self.max_edges:
                return False
            sets = [self.edges.get((namespace, d), set()) for d in deps]
            for dependents in sets:
                if len(dependents) >= self.limit and key not in dependents:
                    self._drop_dead(namespace, dependents, alive)  # deleted without a walk
            if any(len(s) >= self.limit and key not in s for s in sets):
                return False
            for dep, dependents in zip(deps, sets, strict=True):
                if key not in dependents:
                    dependents.add(key)
                    self.size += 1
                self.edges[namespace, dep] = dependents
            return True

    def pop(self, namespace: str, keys: Iterable[str]) -> list[str]:
        """The dependents of `keys`, removing those edges."""
        out: list[str] = []
        with self._lock:
            for key in keys:
                dependents = self.edges.pop((namespace, key), None)
                if dependents:
                    self.size -= len(dependents)
                    out.extend(dependents)
        return out

    def clear(self) -> None:
        with self._lock:
            self.edges.clear()
            self.size = 0

    def _drop_dead(
        self, namespace: str, dependents: set[str], alive: Callable[[str, str], bool]
    ) -> None:
        dead = {k for k in dependents if not alive(namespace, k)}
        dependents -= dead
        self.size -= len(dead)

    def _prune(self, alive: Callable[[str, str], bool]) -> None:
        for edge, dependents in list(self.edges.items()):
            live = {k for k in dependents if alive(edge[0], k)}
            self.size -= len(dependents) - len(live)
            if live:
                self.edges[edge] = live
            else:
                del self.edges[edge]


class Dependencies:
    """A cache's dependency settings, counters and (L1-only) graph."""

    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        require_type(limit, int, "dependency_limit", "an int")
        if limit < 0:
            msg = f"dependency_limit must be >= 0 (0: dependencies off), got {limit}"
            raise ConfigError(msg)
        self.limit = limit
        # Off (0): deletes skip the walk (with Redis, its round trip) and depends_on= raises.
        self.enabled = limit > 0
        self.counters = DependencyCounters()
        self.local = LocalGraph(limit, max_edges=10 * limit)
        self._capped_log = RateLimited(_CAPPED)  # per cache: one line a minute each
        self._refused_log = RateLimited(_REFUSED)

    def walk(self, keys: Sequence[str]) -> Walk:
        return Walk(keys, self.limit)

    def check_enabled(self) -> None:
        """Raises ConfigError when dependencies are off (``dependency_limit=0``)."""
        if not self.enabled:
            msg = "depends_on needs dependencies: this cache was built with dependency_limit=0"
            raise ConfigError(msg)

    def walked(self, walk: Walk) -> list[str]:
        """Counts a finished walk; returns every key to delete (the given ones first)."""
        self.counters.dependents_invalidated += len(walk.found) - walk.start
        if walk.capped:
            self.counters.dependency_walks_capped += 1
            self._capped_log.hit(self.limit)
        return walk.keys

    def refused(self) -> None:
        self.counters.dependency_links_refused += 1
        self._refused_log.hit(self.limit)

    def snapshot(self) -> dict[str, int]:
        c = self.counters
        return {
            "dependents_invalidated": c.dependents_invalidated,
            "dependency_walks_capped": c.dependency_walks_capped,
            "dependency_links_refused": c.dependency_links_refused,
        }


def walk_local(deps: Dependencies, namespace: str, keys: Sequence[str]) -> list[str]:
    """`keys` and, transitively, their dependents in an L1-only cache's graph."""
    if not deps.enabled:
        return list(keys)
    walk = deps.walk(keys)
    while walk.frontier:
        walk.add(deps.local.pop(namespace, walk.frontier))
    return deps.walked(walk)


def link_local(deps: Dependencies, store: Any, namespace: str, key: str, on: Sequence[str]) -> bool:
    """Records `key` as a dependent of `on` in an L1-only cache's graph; False if refused."""
    deps.check_enabled()
    prefix = prefix_of(namespace)

    def alive(ns: str, k: str) -> bool:
        return bool(store.contains(prefix_of(ns), k))

    if deps.local.link(namespace, key, on, alive):
        return True
    deps.refused()
    store.delete(prefix, key)  # not cached: an older value must not outlive its dependency
    return False
