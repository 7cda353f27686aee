"""AutoTTL in a live cache: the tuner thread, what feeds it, and the TTLs it applies.

The request path does not change: a namespace's TTL stays one float (the cache's default,
or a cached function's `ttl`), which the tuner rewrites every `retune_every` seconds from its
own thread. It learns from three feeds, none of them on a hit:

- the store's access recorder (`record=`, turned on at `AutoTTL.sample` when AutoTTL is the
  cache's default), followed by its ticket cursor (`Store.read_records`): whole read
  histories of hash-sampled keys, and their sets and deletes (deletes include invalidations
  and coherence messages from other processes);
- a cached function's loads: a reload of a sampled key is compared, by a digest of its
  value, with the value of that key's previous load (`loaded`).
"""

from __future__ import annotations

import functools
import math
import threading
import time
import weakref
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import _core
from ._autottl import AutoTTL, TtlEstimator
from ._options import check_ttl, prefix_of
from ._ticker import Ticker
from .errors import ConfigError

__all__ = ["Tuner", "apply_default_ttl", "check_auto", "record_rate", "site_feed", "start_tuner"]

#: Loads remembered per namespace (key -> time, digest), and namespaces followed.
_MAX_LOADS = 4096
_MAX_NAMESPACES = 256
#: A retune changes the applied TTL only when it moves by more than this factor.
_DEADBAND = 1.02
_MISSING: Any = object()
#: The recorder's ops (`store::AccessOp`): hit 0, miss 1, set 2, delete 3.
_MISS_OP = 1
_DELETE_OP = 3


def check_auto(ttl: object, name: str = "ttl") -> tuple[AutoTTL | None, float | None]:
    """Splits a TTL argument: (the AutoTTL, its starting TTL) or (None, check_ttl(ttl))."""
    if isinstance(ttl, AutoTTL):
        return ttl, ttl.min
    return None, check_ttl(ttl, name)


def record_rate(auto: AutoTTL | None, record: float | None, predictor: object) -> float | None:
    """The cache's `record=`: AutoTTL needs the recorder, at its sample rate unless the
    caller (or the predictor, which shares the recorder) chose one."""
    if auto is None or record is not None or predictor not in (None, False):
        return record
    return auto.sample


def _digest(value: Any) -> int:
    """A cheap digest of a loaded value, to tell a changed reload from an unchanged one."""
    import pickle  # noqa: PLC0415 - loaded on first use, as the codec is (issue 17)

    try:
        data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # noqa: BLE001 - an unpicklable value is compared by its repr
        data = repr(value).encode("utf-8", "replace")
    return zlib.crc32(data)


@dataclass
class NamespaceState:
    """One namespace the tuner follows: its estimator and, if AutoTTL, the TTL it applies."""

    name: str
    estimator: TtlEstimator = field(default_factory=TtlEstimator)
    auto: AutoTTL | None = None
    ttl: float | None = None  # the TTL in force (AutoTTL's, or the fixed one we know of)
    own: bool = False  # the cache's own namespace: its default TTL is the one applied
    sites: weakref.WeakSet[Any] = field(default_factory=weakref.WeakSet)
    loads: dict[str, tuple[float, int]] = field(default_factory=dict)
    last_op: dict[int, int] = field(default_factory=dict)


class Tuner:
    """Per-namespace estimators of one cache, and the thread retuning its AutoTTLs."""

    def __init__(self, cache: Any, every: float) -> None:
        self._cache = weakref.ref(cache)
        self._store = cache._store
        self.lock = threading.Lock()
        self._namespaces: dict[str, NamespaceState] = {}
        self._by_hash: dict[int, NamespaceState] = {}
        self._cursor = 0  # the recorder's ticket to read from next
        # A failed retune (a full disk for the export) keeps the TTLs; the next one retries.
        self._retunes = Ticker("stratacache-autottl", every, self.retune)
        self.clock: Callable[[], float] = time.monotonic

    # --- namespaces and sites ---------------------------------------------------------
    def follow(self, name: str, auto: AutoTTL | None, ttl: float | None) -> NamespaceState:
        """The state of `name`, created on first use; an AutoTTL given here governs it."""
        with self.lock:
            state = self._namespaces.get(name)
            if state is None:
                if len(self._namespaces) >= _MAX_NAMESPACES:
                    msg = f"AutoTTL follows at most {_MAX_NAMESPACES} namespaces per cache"
                    raise ConfigError(msg)
                state = self._namespaces[name] = NamespaceState(name, ttl=ttl)
                self._by_hash[_core.Store.namespace_hash(prefix_of(name))] = state
            if auto is not None and state.auto is None:
                state.auto, state.ttl = auto, auto.min
                self._retunes.interval = min(self._retunes.interval, auto.retune_every)
                self._start()
            return state

    def attach_site(self, site: Any, ns: str) -> Callable[[str, Any], None]:
        """Follows a cached function's namespace; returns the feed its loads call. The site's
        `ttl` is rewritten on retunes when it was given an AutoTTL, or none while the cache's
        default is one."""
        cache = self._cache()
        given = site.ttl_given
        auto = given if isinstance(given, AutoTTL) else None
        if given is None and cache is not None:
            auto = cache._autottl_default
        state = self.follow(ns, auto, None if auto is not None else given)
        if auto is not None:
            site.ttl = state.ttl
            state.sites.add(site)
        return functools.partial(self.loaded, state)

    # --- feeds --------------------------------------------------------------------------
    def loaded(self, state: NamespaceState, key: str, value: Any) -> None:
        """A cached function loaded `key`: compare with its previous load (sampled keys)."""
        if not self._store.recorded(prefix_of(state.name), key):
            return
        now, digest = self.clock(), _digest(value)
        with self.lock:
            previous = state.loads.get(key)
            if previous is not None:
                state.estimator.reloaded(now - previous[0], previous[1] != digest)
            if previous is not None or len(state.loads) < _MAX_LOADS:
                state.loads[key] = (now, digest)

    def drain(self) -> int:
        """Feeds the recorder's records since the last drain; returns how many were fed."""
        if self._store.recording() is None:
            return 0
        cursor, times, keys, namespaces, ops = self._store.read_records(self._cursor)
        self._cursor = cursor
        fed = 0
        with self.lock:
            by_hash = self._by_hash
            for t, key, ns, op in zip(times, keys, namespaces, ops, strict=True):
                state = by_hash.get(ns)
                if state is None:
                    continue
                fed += 1
                est, seconds = state.estimator, t / 1e9
                if op <= _MISS_OP:
                    est.read(key, seconds)
                elif op == _DELETE_OP or state.last_op.get(key) != _MISS_OP:
                    est.changed(key, seconds, deleted=op == _DELETE_OP)  # a fill follows a miss
                if len(state.last_op) < _MAX_LOADS or key in state.last_op:
                    state.last_op[key] = op
        return fed

    # --- retuning -----------------------------------------------------------------------
    def retune(self) -> None:
        """One retune: drain the records, then move every AutoTTL namespace's TTL."""
        self.drain()
        with self.lock:
            states = [s for s in self._namespaces.values() if s.auto is not None]
            moves = []
            for s in states:
                assert s.auto is not None
                new = s.estimator.recommend(s.auto, s.ttl).ttl
                old = s.ttl or s.auto.min
                if max(new / old, old / new) > _DEADBAND:
                    s.ttl = new
                    moves.append(s)
        cache = self._cache()
        for s in moves:
            for site in list(s.sites):
                site.ttl = s.ttl
            if s.own and cache is not None:
                cache._apply_default_ttl(s.ttl)

    def _start(self) -> None:
        """Starts the retune thread, once, when a namespace gets an AutoTTL (a cache that
        only records runs none: `recommendations()` drains on demand). It ends with the
        cache or `stop`."""
        cache = self._cache()
        if cache is not None:
            self._retunes.start(cache)

    def stop(self) -> None:
        self._retunes.stop()

    def states(self) -> list[NamespaceState]:
        with self.lock:
            return list(self._namespaces.values())


def start_tuner(cache: Any, auto: AutoTTL | None) -> Tuner | None:
    """The cache's tuner, whenever it records accesses (so that `recommendations()` and a
    cached function's `ttl=AutoTTL` have data); its thread starts with the first AutoTTL."""
    if cache._store.recording() is None:
        return None
    tuner = Tuner(cache, math.inf if auto is None else auto.retune_every)
    state = tuner.follow(cache.namespace, auto, cache._default_ttl)
    state.own = auto is not None
    return tuner


def site_feed(cache: Any, site: Any, ns: str) -> Callable[[str, Any], None] | None:
    """What a cached function bound to `cache` calls after each load (None: no tuner).

    Raises:
        ConfigError: the function has ttl=AutoTTL but the cache records nothing.
    """
    tuner: Tuner | None = getattr(cache, "_autottl", None)
    if tuner is None:
        if isinstance(site.ttl_given, AutoTTL):
            msg = (
                "ttl=AutoTTL(...) learns from the cache's access recording: create the cache "
                "with record=<sample rate> or default_ttl=AutoTTL(...)"
            )
            raise ConfigError(msg)
        return None
    return tuner.attach_site(site, ns)


def apply_default_ttl(cache: Any, ttl: float) -> None:
    """Makes `ttl` the default of every part of `cache` that resolves one: the cache, its L1
    driver's setters, the Redis tier's state, the disk driver, and the sync cache's `set`
    (the engine's setter holds its default, so a new one replaces it)."""
    cache._default_ttl = ttl
    local = cache._local
    local._default_ttl = ttl
    local._setters.clear()
    if cache._tier is not None:
        cache._tier.default_ttl = ttl
    driver = cache._driver
    while driver is not None:  # through the event hooks' wrappers (`inner`) to the driver
        if getattr(driver, "_default_ttl", _MISSING) is not _MISSING:
            driver._default_ttl = ttl  # the disk driver resolves its own default
        driver = getattr(driver, "inner", None)
    cache._setters.clear()
    cache._set = cache._setter(cache.namespace)
    entry_points = getattr(cache, "_entry_points", None)
    if entry_points is not None and "set" in cache.__dict__:
        cache._public_set = entry_points()[1]
        from ._base import builtin_entry  # noqa: PLC0415 - _base imports this module lazily

        cache.__dict__["set"] = builtin_entry(cache._public_set)
        cache.events.start()  # the change reports wrap the new setter
