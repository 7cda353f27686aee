"""Circuit breaker of a network tier: the state machine only, no I/O and no sleeping.

closed: calls go through; `failure_threshold` consecutive failures open the circuit.
open: calls are refused at once (the tier counts them as skipped) for `recovery_time`
seconds, so an outage costs callers nothing instead of a timeout each.
half-open: after `recovery_time`, up to `half_open_calls` trial calls go through; one success
closes the circuit, one failure opens it again for another `recovery_time`.

A trial call that ends with neither outcome (cancelled, or any BaseException) must hand its
slot back with `release(permit)`, or the circuit would stay half-open with every slot taken
and refuse all calls forever. Each half-open period has its own number, so a late release
never frees a slot of a later period.

Opening and closing are logged at WARNING on the ``stratacache`` logger, and reported to
`on_change` when set.

Thread-safe: a lock guards the few fields; it is never held while calling anything (logging
included). A forked child gets a fresh lock (the parent's may have been held at fork time).
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass

from ..._log import logger
from ..._options import check_bound, check_positive

__all__ = ["NO_TRIAL", "REFUSED", "BreakerConfig", "CircuitBreaker"]

CLOSED = "closed"
OPEN = "open"
HALF_OPEN = "half-open"

#: `allow()` results that reserve nothing: refused, and let through while closed.
REFUSED = 0
NO_TRIAL = -1

_live: weakref.WeakSet[CircuitBreaker] = weakref.WeakSet()


def _renew_locks() -> None:
    for breaker in list(_live):
        breaker._lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_renew_locks)


@dataclass(frozen=True)
class BreakerConfig:
    """Thresholds of a circuit breaker.

    Attributes:
        failure_threshold: consecutive failures that open the circuit.
        recovery_time: seconds the circuit stays open before trial calls.
        half_open_calls: trial calls allowed at once while half-open.
    """

    failure_threshold: int = 5
    recovery_time: float = 2.0
    half_open_calls: int = 1

    def __post_init__(self) -> None:
        check_bound(self.failure_threshold, "failure_threshold")
        check_bound(self.half_open_calls, "half_open_calls")
        check_positive(self.recovery_time, "recovery_time")


class CircuitBreaker:
    """Decides whether a call may go to the tier, and learns from each outcome."""

    def __init__(
        self,
        config: BreakerConfig | None = None,
        clock: Callable[[], float] = time.monotonic,
        *,
        name: str = "Redis tier",
    ) -> None:
        self.config = config or BreakerConfig()
        self.name = name
        self._clock = clock
        self._lock = threading.Lock()
        self._state = CLOSED
        #: `_state == CLOSED`, kept beside it for the hot path (`fast_async.get_soon` reads
        #: it without a call: a stale read only sends one call by the locked path).
        self.closed = True
        self._failures = 0
        self._opened_at = 0.0
        self._trials = 0
        self._period = 0  # number of the current half-open period
        self.opened = 0  # times the circuit opened, for stats
        # Called with "open" or "closed" after the circuit opened or closed, on the calling
        # thread and outside the lock (the event broker's tier_down/tier_up; it never blocks).
        self.on_change: Callable[[str], None] | None = None
        _live.add(self)

    @property
    def state(self) -> str:
        """ "closed", "open" or "half-open" (open turns half-open once recovery_time passed)."""
        with self._lock:
            if self._state == OPEN and self._clock() - self._opened_at >= self.config.recovery_time:
                return HALF_OPEN
            return self._state

    def allow(self) -> int:
        """A permit for one call: `REFUSED` (0, falsy) if no call may go out now, `NO_TRIAL`
        while closed, or the number of the half-open period whose trial slot it reserved.
        Give every truthy permit to `release` once the call is over."""
        if self._state == CLOSED:  # the hot path: one read, no lock (a stale read is harmless)
            return NO_TRIAL
        with self._lock:
            if self._state == CLOSED:
                return NO_TRIAL
            if self._state == OPEN:
                if self._clock() - self._opened_at < self.config.recovery_time:
                    return REFUSED
                self._state, self._trials = HALF_OPEN, 0
                self._period += 1
            if self._trials >= self.config.half_open_calls:
                return REFUSED
            self._trials += 1
            return self._period

    def release(self, permit: int) -> None:
        """Ends a call: frees its trial slot unless an outcome ended that half-open period.

        Safe to call for every permit, after `success`/`failure` too (then it does nothing).
        """
        if permit <= 0:
            return
        with self._lock:
            if self._state == HALF_OPEN and self._period == permit and self._trials > 0:
                self._trials -= 1

    def success(self) -> None:
        """Records a call that reached the tier and got an answer."""
        if self._state == CLOSED and not self._failures:
            return
        with self._lock:
            was = self._state
            self._state, self._failures, self._trials = CLOSED, 0, 0
            self.closed = True
        if was != CLOSED:
            logger.warning("%s: circuit closed, calls go through again", self.name)
            if self.on_change is not None:
                self.on_change(CLOSED)

    def failure(self) -> None:
        """Records a call that failed at the transport (timeout, refused, reset)."""
        with self._lock:
            self._failures += 1
            if not (self._state == HALF_OPEN or self._failures >= self.config.failure_threshold):
                return
            opening = self._state != OPEN
            was_closed = self._state == CLOSED  # a failed trial re-opens: not news to report
            if opening:
                self.opened += 1
            self._state, self._opened_at, self._trials = OPEN, self._clock(), 0
            self.closed = False
        if opening:
            logger.warning(
                "%s: circuit opened after failed calls; calls are skipped for %.3g s",
                self.name,
                self.config.recovery_time,
            )
            if was_closed and self.on_change is not None:
                self.on_change(OPEN)
