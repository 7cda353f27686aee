"""Miss-ratio curves: how the miss ratio of a policy falls as the cache grows, from one trace."""

from __future__ import annotations

import bisect
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass
from numbers import Integral, Real
from pathlib import Path
from typing import TYPE_CHECKING

from . import _core
from ._options import check_bound, check_positive, require_type
from .errors import ConfigError

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["MissRatioCurve", "miss_ratio_curve"]


@dataclass(frozen=True, repr=False)
class MissRatioCurve:
    """The miss ratio of one policy at each cache size (in entries), exact or estimated.

    Attributes:
        sizes: cache sizes in entries, ascending.
        miss_ratios: the miss ratio at each size, in [0, 1].
        policy: the policy the curve is for.
        sample_rate: the share of the keys the estimate rests on (1.0: exact).
        requests: requests of the trace.
        sampled_requests: requests of the sampled keys; an estimate resting on a few thousand
            of them is good to a few points, not to a fraction of one.
        distinct_keys: distinct keys of the trace (estimated from the sample below rate 1).
    """

    sizes: tuple[int, ...]
    miss_ratios: tuple[float, ...]
    policy: str
    sample_rate: float
    requests: int
    sampled_requests: int
    distinct_keys: int

    def __repr__(self) -> str:
        return (
            f"MissRatioCurve(policy={self.policy!r}, sample_rate={self.sample_rate:g}, "
            f"points={len(self.sizes)}, sizes={self.sizes[0]}..{self.sizes[-1]}, "
            f"requests={self.requests}, sampled_requests={self.sampled_requests})"
            if self.sizes
            else f"MissRatioCurve(policy={self.policy!r}, points=0)"
        )

    def _points(self) -> tuple[list[float], list[float]]:
        # An empty cache misses everything: the curve starts at (0, 1).
        return [0.0, *map(float, self.sizes)], [1.0, *self.miss_ratios]

    def miss_ratio_at(self, size: float) -> float:
        """The miss ratio at `size` entries, interpolated linearly between the curve's sizes.

        Below the smallest size the curve is drawn from (0 entries, miss ratio 1); beyond the
        largest it stays at the last ratio.

        Returns:
            The miss ratio, in [0, 1].

        Raises:
            TypeError: size is not a number.
            ConfigError: size is negative or NaN.
        """
        s = _number(size, "size")
        if not s >= 0:
            msg = f"size must be >= 0 entries, got {size!r}"
            raise ConfigError(msg)
        xs, ys = self._points()
        i = bisect.bisect_right(xs, s)
        if i == len(xs):
            return ys[-1]
        x0, x1, y0, y1 = xs[i - 1], xs[i], ys[i - 1], ys[i]
        return y0 + (y1 - y0) * (s - x0) / (x1 - x0)

    def size_for(self, hit_ratio: float) -> int | None:
        """The smallest cache size (entries) whose interpolated hit ratio reaches `hit_ratio`.

        Returns:
            The size, 0 for a hit ratio of 0, or None if no size of the curve reaches it.

        Raises:
            TypeError: hit_ratio is not a number.
            ConfigError: hit_ratio is outside [0, 1].
        """
        target = 1.0 - _number(hit_ratio, "hit_ratio")
        if not 0.0 <= target <= 1.0:
            msg = f"hit_ratio must be in [0, 1], got {hit_ratio!r}"
            raise ConfigError(msg)
        xs, ys = self._points()
        for i, y in enumerate(ys):
            if y <= target:
                if i == 0:
                    return 0
                x0, x1, y0 = xs[i - 1], xs[i], ys[i - 1]
                crossing = x0 + (x1 - x0) * (y0 - target) / (y0 - y)
                # A hair of tolerance so that a size of the curve is returned as itself.
                return min(math.ceil(crossing - 1e-9), int(x1))
        return None

    def plot(self, ax: Axes | None = None) -> Axes:
        """Draws the curve (miss ratio against size, log scale) and returns the Axes.

        Args:
            ax: the matplotlib Axes to draw on (None: a new figure's). matplotlib is imported
                only here, and only when `ax` is None.

        Returns:
            The Axes drawn on.
        """
        if ax is None:
            from ._extras import require  # noqa: PLC0415 - matplotlib is optional: lazily

            _, ax = require("matplotlib.pyplot", "cli", "MissRatioCurve.plot()").subplots()
        how = "exact" if self.sample_rate >= 1.0 else f"sampled at {self.sample_rate:g}"
        ax.plot(self.sizes, self.miss_ratios, marker=".", label=f"{self.policy} ({how})")
        ax.set_xscale("log")
        ax.set_xlabel("cache size (entries)")
        ax.set_ylabel("miss ratio")
        ax.set_ylim(0.0, 1.0)
        ax.grid(visible=True, which="both", alpha=0.3)
        ax.legend()
        return ax


def miss_ratio_curve(
    trace_path: str | os.PathLike[str],
    policy: str = "lru",
    sample_rate: float = 0.01,
    sizes: Iterable[int] | None = None,
) -> MissRatioCurve:
    """The miss-ratio curve of `policy` on a trace: its miss ratio at each cache size.

    Below rate 1 the curve rests on a spatial sample of the keys (a key is in or out with all
    its requests, chosen by hash): LRU by SHARDS, one pass over the sample giving every size;
    the other policies and "opt" by miniature simulation, replaying the sample through caches
    scaled down by the rate, one per size, on two threads. At rate 1 both are exact and equal
    `simulate` at every size. The trace format is `simulate`'s; every object weighs 1. The work
    runs in C++ without the GIL.

    A size S is modelled by a cache of S * sample_rate entries of the sample; where that is
    below 32 entries (too coarse for distances, too small for a policy's queues), the size is
    estimated from a larger sample of the same keys instead (rate 32 / S or more, at most 1),
    and sizes just above that from a sample a few times the rate. Small sizes thus cost up to
    a full pass, and they are what a sampled curve spends most of its time on. The file is
    sampled while it is read: only the requests of the largest sample are kept.

    A sample whose keys are more or less popular than the whole trace is corrected for with
    what the whole trace is known to hold: its requests, and its distinct keys, counted while
    reading (a regression estimator over the sampled keys' requests).

    "opt" (Belady) by miniature simulation is an approximation without the theory LRU's
    sampling has; its error on the shared traces is in bench/results/mrc.json.

    Args:
        trace_path: path of the trace file.
        policy: one of `stratacache.POLICIES`, or "opt".
        sample_rate: share of the keys sampled, in (0, 1]; 1.0 is exact. A small trace at a
            small rate leaves few sampled requests (see `MissRatioCurve.sampled_requests`).
        sizes: cache sizes in entries (ints > 0; sorted and deduplicated). None: about 40
            sizes, geometric, from 1 / sample_rate (one entry of the sample) up to the number
            of distinct keys estimated from the sample.

    Returns:
        The curve, with the sample it rests on (`sampled_requests`, `distinct_keys`).

    Raises:
        TypeError: an argument has the wrong type.
        ConfigError: unknown policy, sample_rate outside (0, 1] (or below 2**-24), an empty
            sizes or a size <= 0.
        TraceIOError: the file cannot be read.
        CorruptDataError: a line is not an integer key.
    """
    require_type(policy, str, "policy", "a str")
    rate = check_positive(sample_rate, "sample_rate")
    if rate > 1.0:
        msg = f"sample_rate must be in (0, 1], got {sample_rate!r}"
        raise ConfigError(msg)
    core = _core.miss_ratio_curve(str(Path(trace_path)), policy, rate, _check_sizes(sizes))
    return MissRatioCurve(
        sizes=tuple(core.sizes),
        miss_ratios=tuple(core.miss_ratios),
        policy=core.policy,
        sample_rate=core.sample_rate,
        requests=core.requests,
        sampled_requests=core.sampled_requests,
        distinct_keys=core.distinct_keys,
    )


def _number(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, Real):
        msg = f"{name} must be a number, not {type(value).__name__}"
        raise TypeError(msg)
    return float(value)


def _check_sizes(sizes: object) -> list[int]:
    if sizes is None:
        return []
    if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Iterable):
        msg = f"sizes must be an iterable of ints or None, not {type(sizes).__name__}"
        raise TypeError(msg)
    out = []
    for size in sizes:
        if isinstance(size, bool) or not isinstance(size, Integral):
            msg = f"sizes must hold ints, not {type(size).__name__}"
            raise TypeError(msg)
        out.append(check_bound(int(size), "sizes"))
    if not out:
        msg = "sizes must not be empty (None picks a grid)"
        raise ConfigError(msg)
    return out
