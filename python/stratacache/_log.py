"""The ``stratacache`` logger: stdlib `logging`, silent unless the application configures it.

The package logs state changes an operator must see (breaker opened or closed, coherence lost
or back, corrupt envelopes seen, skipped invalidations replayed) at WARNING, and never a
cached value, a key's bytes beyond a short prefix, or a secret. Frequent events go through
`RateLimited` so a flood of bad envelopes costs one line per interval, with a count.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import logging
    from collections.abc import Callable

    #: The package's logger; a NullHandler keeps it quiet until the application adds one.
    logger: logging.Logger

__all__ = ["RateLimited", "logger"]

_logger: Any = None


def get_logger() -> logging.Logger:
    """The ``stratacache`` logger, set up on first use: `logging` is not imported by an
    L1-only cache until something is logged (issue 17's import cost)."""
    global _logger  # noqa: PLW0603 - one logger per process, made once
    if _logger is None:
        import logging  # noqa: PLC0415

        made = logging.getLogger("stratacache")
        made.addHandler(logging.NullHandler())
        _logger = made
    return _logger  # type: ignore[no-any-return]


def __getattr__(name: str) -> Any:
    # `from ._log import logger` (the Redis tier's modules) sets the logger up then.
    if name == "logger":
        return get_logger()
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)


class RateLimited:
    """Logs one WARNING per `interval` seconds for a recurring event, with how many were seen.

    Thread-safe; `hit()` costs a lock and a clock read, so call it on error paths only.
    """

    def __init__(
        self, message: str, interval: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._message = message
        self._interval = interval
        self._clock = clock
        self._lock = threading.Lock()
        self._last = -float("inf")
        self._suppressed = 0

    def hit(self, *args: object) -> None:
        """Counts one event; logs it (with the count since the last line) if the interval ran."""
        with self._lock:
            now = self._clock()
            if now - self._last < self._interval:
                self._suppressed += 1
                return
            count, self._suppressed, self._last = self._suppressed + 1, 0, now
        get_logger().warning(self._message + " (%d since the last report)", *args, count)
