"""`refresh_ahead=` of a cached function: its options, their checks and its counters.

``@cache(ttl=..., refresh_ahead="predict" | "xfetch" | RefreshAhead(...) | None)``. The
machinery is in `_refresh_ahead`; this module holds what the decorator checks at decoration
time and what `stats()` reports.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from numbers import Real
from typing import Any

from ._options import check_positive, require_type
from .errors import ConfigError

__all__ = ["RefreshAhead", "RefreshCounters", "check_refresh_ahead", "refresh_stats_of"]

_MODES = ("predict", "xfetch")


@dataclass(frozen=True)
class RefreshAhead:
    """How a cached function refreshes its entries before they expire.

    Args:
        mode: "predict": the cache's predictor (``Cache(predictor=...)``) is asked, shortly
            before a loaded entry expires, how likely the key is to be read within its horizon;
            at `threshold` or above, one background call reloads it, whether or not the key is
            read in its last moments. "xfetch": XFetch (Vattani et al., VLDB 2015): an L1 hit
            refreshes in the background with probability rising as expiry nears
            (``delta * beta * -ln(U) >= time left``, delta the function's mean loader time).
        threshold: predict: the least P(read within the horizon) that refreshes, in [0, 1].
        budget: most refresh loader calls per second, for this function (a token bucket
            holding a second's worth); None = no cap but `workers`. Refreshes over budget are
            skipped and counted; request-path loads never are.
        lead: predict: seconds before expiry at which a key is considered; None = three
            predictor drain intervals plus four mean loader times.
        beta: xfetch: XFetch's beta (> 0); larger refreshes earlier.
        workers: most refreshes of this function in flight at once (threads of a bounded pool
            for a sync function, tasks for an async one); a refresh over it is skipped.
        max_keys: most keys whose arguments are kept for a refresh (least recently loaded
            out first); a key whose arguments are gone is not refreshed.

    Raises:
        TypeError: an argument has the wrong type.
        ConfigError: an argument is out of its range.
    """

    mode: str = "predict"
    threshold: float = 0.5
    budget: float | None = 100.0
    lead: float | None = None
    beta: float = 1.0
    workers: int = 4
    max_keys: int = 100_000

    def __post_init__(self) -> None:
        if self.mode not in _MODES:
            msg = f"refresh_ahead mode must be 'predict' or 'xfetch', got {self.mode!r}"
            raise ConfigError(msg)
        given: object = self.threshold
        if isinstance(given, bool) or not isinstance(given, Real):
            msg = f"threshold must be a number in [0, 1], not {type(given).__name__}"
            raise TypeError(msg)
        if not 0.0 <= float(given) <= 1.0:
            msg = f"threshold must be in [0, 1], got {given!r}"
            raise ConfigError(msg)
        if self.budget is not None:
            check_positive(self.budget, "budget")
        if self.lead is not None:
            check_positive(self.lead, "lead")
        check_positive(self.beta, "beta")
        for name in ("workers", "max_keys"):
            value = getattr(self, name)
            require_type(value, int, name, "an int")
            if value < 1:
                msg = f"{name} must be at least 1, got {value!r}"
                raise ConfigError(msg)


def check_refresh_ahead(value: object) -> RefreshAhead | None:
    """The options of ``refresh_ahead=`` (a mode name is its defaults), or None for off.

    Raises:
        TypeError: neither None, a str nor RefreshAhead.
        ConfigError: an unknown mode name.
    """
    if value is None or isinstance(value, RefreshAhead):
        return value
    if isinstance(value, str):
        return RefreshAhead(mode=value)
    msg = (
        "refresh_ahead must be 'predict', 'xfetch', None or stratacache.RefreshAhead, "
        f"not {type(value).__name__}"
    )
    raise TypeError(msg)


@dataclass(frozen=True)
class RefreshStats:
    """Refresh-ahead counters of one cache, summed over its cached functions.

    Attributes:
        started: background refreshes started (each one loader call, unless skipped as gone).
        succeeded: refreshes whose result was stored.
        failed: refreshes whose loader (or Redis) raised: the old value stays until expiry.
        skipped_budget: refreshes not started: the function's `budget` was spent.
        skipped_busy: refreshes not started: `workers` refreshes were in flight.
        skipped_cold: predict: keys near expiry the model scored below `threshold`.
        gone: refreshes dropped because the key was gone (expired, evicted or invalidated)
            when they began or finished: an invalidated key is never brought back.
    """

    started: int = 0
    succeeded: int = 0
    failed: int = 0
    skipped_budget: int = 0
    skipped_busy: int = 0
    skipped_cold: int = 0
    gone: int = 0


class RefreshCounters:
    """The mutable counters behind `RefreshStats`, shared by a cache's refreshers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts = dict.fromkeys(RefreshStats.__dataclass_fields__, 0)

    def add(self, name: str, n: int = 1) -> None:
        with self._lock:
            self._counts[name] += n

    def snapshot(self) -> RefreshStats:
        with self._lock:
            return RefreshStats(**self._counts)


def counters_of(cache: Any) -> RefreshCounters:
    """The refresh counters of `cache`, created on its first refreshing function."""
    counters: RefreshCounters | None = getattr(cache, "_refresh_counters", None)
    if counters is None:
        counters = RefreshCounters()
        cache._refresh_counters = counters
    return counters


def refresh_stats_of(cache: Any) -> RefreshStats | None:
    """`stats().refresh_ahead`: None until a function of the cache refreshes ahead."""
    counters: RefreshCounters | None = getattr(cache, "_refresh_counters", None)
    return None if counters is None else counters.snapshot()


class Budget:
    """A token bucket of `rate` loader calls per second holding one second's worth (at least
    one call); None = unlimited. Thread-safe."""

    def __init__(self, rate: float | None) -> None:
        self._rate = rate
        self._cap = max(1.0, rate or 0.0)
        self._tokens = self._cap
        self._stamp = time.monotonic()
        self._lock = threading.Lock()

    def take(self) -> bool:
        if self._rate is None:
            return True
        with self._lock:
            now = time.monotonic()
            self._tokens = min(self._cap, self._tokens + (now - self._stamp) * self._rate)
            self._stamp = now
            if self._tokens < 1.0:
                return False
            self._tokens -= 1.0
            return True
