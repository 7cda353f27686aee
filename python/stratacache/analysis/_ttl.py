"""TTL advice from request times: inter-arrival gaps, and each TTL of a grid replayed."""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .._options import check_bound, check_positive, require_type
from ..errors import ConfigError
from ._plot import axes
from ._read import Trace

if TYPE_CHECKING:
    from matplotlib.axes import Axes

#: TTLs `ttl_advice` replays by default.
TTL_POINTS = 16
#: The recommended TTL is the shortest that keeps this share of the hits of a TTL of forever.
KEEP = 0.9


@dataclass(frozen=True)
class TtlAdvice:
    """TTLs replayed over a timed trace: what each keeps of the hits, and what it holds.

    The replay is a cache without a size bound where a miss loads the key and the entry lives
    `ttl` seconds from that load (`Cache(default_ttl=...)`). A trace of reads says nothing
    about writes, so staleness is not measured: a TTL short enough for freshness may be
    shorter than the one advised here.

    Attributes:
        requests: requests of the trace.
        gap_p50, gap_p90, gap_p99: percentiles of the seconds between two requests of a key
            (None: no key is requested twice).
        ttls: the TTLs replayed (seconds), ascending.
        hit_ratios: the hit ratio at each TTL.
        mean_entries: the entries such a cache holds on average at each TTL (None: the trace
            spans no time).
        no_expiry_hit_ratio: the hit ratio that never expiring reaches (first requests miss).
        keep: the share of `no_expiry_hit_ratio` the recommendation must keep.
        recommended: the shortest TTL of the grid keeping that share (None: no hits to keep).
    """

    requests: int
    gap_p50: float | None
    gap_p90: float | None
    gap_p99: float | None
    ttls: tuple[float, ...]
    hit_ratios: tuple[float, ...]
    mean_entries: tuple[float, ...] | None
    no_expiry_hit_ratio: float
    keep: float
    recommended: float | None

    def at(self, ttl: float) -> tuple[float, float | None]:
        """(hit ratio, mean entries) at a TTL of the grid.

        Raises:
            ConfigError: ttl is not one of `ttls`.
        """
        if ttl not in self.ttls:
            msg = f"ttl {ttl!r} is not one of the replayed TTLs"
            raise ConfigError(msg)
        i = self.ttls.index(ttl)
        return self.hit_ratios[i], None if self.mean_entries is None else self.mean_entries[i]

    def plot(self, ax: Axes | None = None) -> Axes:
        """Draws the hit ratio against the TTL, the mean entries on a second axis.

        Returns:
            The Axes of the hit ratio.
        """
        ax = axes(ax)
        ax.plot(self.ttls, self.hit_ratios, marker=".", label="hit ratio")
        ax.axhline(self.no_expiry_hit_ratio, color="grey", linestyle=":", label="no expiry")
        if self.recommended is not None:
            ax.axvline(self.recommended, color="green", linestyle="--", label="recommended")
        ax.set_xscale("log")
        ax.set_xlabel("TTL (s)")
        ax.set_ylabel("hit ratio")
        ax.set_ylim(0.0, 1.0)
        ax.grid(visible=True, which="both", alpha=0.3)
        ax.legend(loc="upper left")
        if self.mean_entries is not None:
            right = ax.twinx()
            right.plot(self.ttls, self.mean_entries, color="tab:orange", marker=".")
            right.set_ylabel("mean entries held", color="tab:orange")
            right.set_yscale("log")
        ax.set_title("TTL replay")
        return ax


def ttl_advice(trace: Trace, points: int = TTL_POINTS, keep: float = KEEP) -> TtlAdvice | None:
    """Replays TTLs spread over the trace's inter-arrival gaps; None for an untimed trace.

    Args:
        trace: from `read_trace`.
        points: TTLs replayed (>= 2), geometric from the 1st percentile of the gaps to the
            longest time between the first and the last request of a key.
        keep: share of the hits of no expiry the recommended TTL keeps, in (0, 1].

    Raises:
        TypeError: an argument has the wrong type.
        ConfigError: points < 2, or keep outside (0, 1].
    """
    require_type(trace, Trace, "trace", "a Trace")
    n = check_bound(points, "points")
    share = check_positive(keep, "keep")
    if n < 2 or share > 1:
        msg = f"points must be >= 2 and keep in (0, 1], got {points} and {keep}"
        raise ConfigError(msg)
    if trace.times is None or trace.keys is None:
        return None
    per_key: list[list[float]] = [[] for _ in range(trace.distinct_keys)]
    for key, t in zip(trace.keys, trace.times, strict=True):
        per_key[key].append(t)
    gaps = sorted(b - a for ts in per_key for a, b in itertools.pairwise(ts))
    span = max((ts[-1] - ts[0] for ts in per_key), default=0.0)
    ttls = _grid(gaps, span, n)
    end = trace.times[-1]
    replays = [_replay(per_key, ttl, end) for ttl in ttls]
    requests = trace.requests
    hit_ratios = tuple(1.0 - loads / requests for loads, _ in replays)
    ceiling = 1.0 - trace.distinct_keys / requests
    good = [
        t for t, h in zip(ttls, hit_ratios, strict=True) if ceiling > 0 and h >= share * ceiling
    ]
    return TtlAdvice(
        requests=requests,
        gap_p50=_quantile(gaps, 0.5),
        gap_p90=_quantile(gaps, 0.9),
        gap_p99=_quantile(gaps, 0.99),
        ttls=tuple(ttls),
        hit_ratios=hit_ratios,
        mean_entries=tuple(live / end for _, live in replays) if end > 0 else None,
        no_expiry_hit_ratio=ceiling,
        keep=share,
        recommended=good[0] if good else None,
    )


def _grid(gaps: list[float], span: float, n: int) -> list[float]:
    """`n` TTLs, geometric, rounded to 3 significant digits, from the short gaps to `span`."""
    # Just above the longest span of one key's requests: the last TTL never expires an entry.
    high = (span if span > 0 else 1.0) * 1.01
    low = min(high, max(_quantile(gaps, 0.01) or 0.0, high * 1e-6))
    ratio = (high / low) ** (1 / (n - 1))
    return sorted({_round(low * ratio**i) for i in range(n)})


def _round(x: float) -> float:
    digits = 2 - math.floor(math.log10(x))
    return round(x, digits)


def _replay(per_key: list[list[float]], ttl: float, end: float) -> tuple[int, float]:
    """(loads, entry-seconds held) of a TTL-only cache replaying each key's request times."""
    loads, live = 0, 0.0
    for ts in per_key:
        i, n = 0, len(ts)
        while i < n:
            load = ts[i]
            loads += 1
            live += min(ttl, end - load)
            # The first request whose entry is ttl seconds old or older misses and reloads.
            i = bisect.bisect_left(ts, ttl, i + 1, key=_age(load))
    return loads, live


def _age(load: float) -> Callable[[float], float]:
    return lambda t: t - load


def _quantile(sorted_values: list[float], q: float) -> float | None:
    if not sorted_values:
        return None
    return sorted_values[min(len(sorted_values) - 1, math.floor(q * len(sorted_values)))]
