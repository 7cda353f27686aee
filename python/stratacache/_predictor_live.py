"""The access predictor in a live cache: its options, the feed thread and the hot-key ranking.

A cache created with ``predictor=`` records a key-hash sample of its L1 accesses (the
recorder of ``record=``) and keeps the names of the sampled keys. A daemon thread drains the
recorder into the C++ model every `DRAIN_INTERVAL` seconds; the drain copies ring slots and
trains with the GIL released, so request threads never wait for the model, and the model is
never touched on the request path (the only request-path cost is the recorder's). A Python
thread calling one batch call was chosen over a C++ worker thread: the same thread also
publishes the hot sets to Redis, and it stops with the cache (weakref.finalize).
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from numbers import Real
from typing import Any

from . import _core
from ._options import NAMESPACE_SEP, check_positive, require_type
from ._ticker import Ticker
from .errors import ConfigError

__all__ = ["DRAIN_INTERVAL", "LiveModel", "PredictorOptions", "check_predictor"]

#: Seconds between two drains of the recorder into the model.
DRAIN_INTERVAL = 0.05

_MIN_RATE = 2.0**-24
_MAX_TRACKED = 1 << 31


@dataclass(frozen=True)
class PredictorOptions:
    """How a cache's access predictor samples, predicts and shares what it learned.

    Args:
        sample_rate: share of keys whose accesses feed the model, in (0, 1] (at least 2**-24);
            a sampled key keeps all its accesses. Only sampled keys can be ranked hot.
        horizon: seconds: the model predicts a read within the next `horizon` seconds, and
            learns from an observation once its horizon has passed.
        max_tracked: most keys the model tracks (their features and names); the least
            recently seen key leaves first.
        publish_keys: most keys per namespace published to Redis as that namespace's hot set
            (a sorted set), which a new process's `warm()` reads; 0 = never publish.
        publish_interval: seconds between two publications of the hot sets.

    Raises:
        TypeError: an argument has the wrong type.
        ConfigError: an argument is out of its range.
    """

    sample_rate: float = 0.01
    horizon: float = 300.0
    max_tracked: int = 100_000
    publish_keys: int = 1000
    publish_interval: float = 30.0

    def __post_init__(self) -> None:
        rate: object = self.sample_rate
        if isinstance(rate, bool) or not isinstance(rate, Real):
            msg = f"sample_rate must be a number in (0, 1], not {type(rate).__name__}"
            raise TypeError(msg)
        if not _MIN_RATE <= float(rate) <= 1.0:
            msg = f"sample_rate must be in (0, 1] (at least 2**-24), got {rate!r}"
            raise ConfigError(msg)
        check_positive(self.horizon, "horizon")
        check_positive(self.publish_interval, "publish_interval")
        require_type(self.max_tracked, int, "max_tracked", "an int")
        if not 1 <= self.max_tracked <= _MAX_TRACKED:
            msg = f"max_tracked must be in [1, 2**31], got {self.max_tracked!r}"
            raise ConfigError(msg)
        require_type(self.publish_keys, int, "publish_keys", "an int")
        if self.publish_keys < 0:
            msg = f"publish_keys must be >= 0, got {self.publish_keys!r}"
            raise ConfigError(msg)


def check_predictor(
    predictor: object, record: float | None
) -> tuple[PredictorOptions | None, float | None]:
    """(the predictor's options or None, the record= rate the store needs).

    Raises:
        TypeError: predictor is neither a bool, None nor PredictorOptions.
        ConfigError: record= gives a sample rate other than the predictor's.
    """
    if predictor is None or predictor is False:
        return None, record
    if predictor is True:
        predictor = PredictorOptions()
    if not isinstance(predictor, PredictorOptions):
        msg = f"predictor must be True, False, None or PredictorOptions, not {type(predictor).__name__}"
        raise TypeError(msg)
    if record is None:
        return predictor, predictor.sample_rate
    given: object = record
    number = isinstance(given, Real) and not isinstance(given, bool)
    if number and math.isclose(float(record), predictor.sample_rate):
        return predictor, record
    msg = (
        f"record={record!r} and the predictor's sample_rate={predictor.sample_rate!r} differ: "
        "they share one recorder, give one rate"
    )
    raise ConfigError(msg)


def split_prefix(prefix: str) -> str:
    """The namespace of an engine key prefix (`_options.prefix_of` inverted)."""
    return prefix.removesuffix(NAMESPACE_SEP)


class LiveModel:
    """The model of one cache: the C++ LivePredictor and the thread that feeds it.

    `publish` is called on the feed thread every `publish_interval` seconds with the hot sets
    by namespace; it must not raise (the tier's own calls are fail-open).
    """

    def __init__(self, options: PredictorOptions, store: Any) -> None:
        core = _core.PredictorOptions()
        core.horizon = float(options.horizon)
        # Decayed frequencies over one and ten horizons, as `predict.Predictor` defaults to.
        core.half_life_short = float(options.horizon)
        core.half_life_long = 10 * float(options.horizon)
        core.max_keys = options.max_tracked
        self.options = options
        self.core = _core.LivePredictor(core, store)
        self.publish: Any = None  # set by a cache with a Redis tier
        # Called on the feed thread after each drain (refresh-ahead's schedule); must not block.
        self.on_drain: list[Any] = []
        self._feed = Ticker("stratacache-predictor", DRAIN_INTERVAL, self._tick)
        self._waited = 0.0  # seconds of drains since the last publication

    def start(self, owner: object) -> None:
        """Starts the feed thread; it stops when `owner` is collected or `stop` is called."""
        self._feed.start(owner)

    def stop(self) -> None:
        """Stops the feed thread and waits (at most a second) for its last drain or publication."""
        self._feed.stop()

    def _tick(self) -> None:
        self.core.drain()
        for hook in list(self.on_drain):
            with contextlib.suppress(Exception):  # a hook's failure is its own to count
                hook()
        self._waited += DRAIN_INTERVAL
        if self._waited >= self.options.publish_interval and self.publish is not None:
            self._waited = 0.0
            # A failed publication is dropped, unlogged; the next interval tries again.
            with contextlib.suppress(Exception):
                self.publish(self.hot_sets())

    def hot_keys(self, n: int, namespace: str | None) -> list[tuple[str, float]]:
        """The n keys of `namespace` (None: every namespace) most likely read soon, best first."""
        prefix = None if namespace is None else namespace + NAMESPACE_SEP
        return [(key, p) for key, _, p in self.core.hot_keys(n, prefix)]

    def recent_keys(self, n: int, namespace: str | None) -> list[tuple[str, float]]:
        """The n keys of `namespace` (None: every namespace) read most recently, with the
        seconds since that read, most recent first (as of the last drain)."""
        prefix = None if namespace is None else namespace + NAMESPACE_SEP
        return [(key, age) for key, _, age in self.core.recent_keys(n, prefix)]

    def hot_sets(self) -> dict[str, list[tuple[str, float]]]:
        """Each namespace's best `publish_keys` keys, from one ranking of every tracked key."""
        n = self.options.publish_keys
        out: dict[str, list[tuple[str, float]]] = {}
        for key, prefix, p in self.core.hot_keys(_MAX_TRACKED, None):
            keys = out.setdefault(split_prefix(prefix), [])
            if len(keys) < n:
                keys.append((key, p))
        return out

    def stats(self) -> dict[str, float]:
        return dict(self.core.stats())
