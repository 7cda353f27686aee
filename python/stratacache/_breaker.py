"""Circuit breaker of a network tier: the state machine only, no I/O and no sleeping.

closed: calls go through; `failure_threshold` consecutive failures open the circuit.
open: calls are refused at once (the tier counts them as skipped) for `recovery_time`
seconds, so an outage costs callers nothing instead of a timeout each.
half-open: after `recovery_time`, up to `half_open_calls` trial calls go through; one success
closes the circuit, one failure opens it again for another `recovery_time`.

Thread-safe: a lock guards the few fields; it is never held while calling anything.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from ._options import check_bound, check_positive

__all__ = ["BreakerConfig", "CircuitBreaker"]

CLOSED = "closed"
OPEN = "open"
HALF_OPEN = "half-open"


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
        self, config: BreakerConfig | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.config = config or BreakerConfig()
        self._clock = clock
        self._lock = threading.Lock()
        self._state = CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._trials = 0
        self.opened = 0  # times the circuit opened, for stats

    @property
    def state(self) -> str:
        """ "closed", "open" or "half-open" (open turns half-open once recovery_time passed)."""
        with self._lock:
            if self._state == OPEN and self._clock() - self._opened_at >= self.config.recovery_time:
                return HALF_OPEN
            return self._state

    def allow(self) -> bool:
        """True if a call may go out now; a True in half-open state reserves a trial call."""
        with self._lock:
            if self._state == CLOSED:
                return True
            if self._state == OPEN:
                if self._clock() - self._opened_at < self.config.recovery_time:
                    return False
                self._state, self._trials = HALF_OPEN, 0
            if self._trials >= self.config.half_open_calls:
                return False
            self._trials += 1
            return True

    def success(self) -> None:
        """Records a call that reached the tier and got an answer."""
        with self._lock:
            self._state, self._failures, self._trials = CLOSED, 0, 0

    def failure(self) -> None:
        """Records a call that failed at the transport (timeout, refused, reset)."""
        with self._lock:
            self._failures += 1
            if self._state == HALF_OPEN or self._failures >= self.config.failure_threshold:
                if self._state != OPEN:
                    self.opened += 1
                self._state, self._opened_at, self._trials = OPEN, self._clock(), 0
