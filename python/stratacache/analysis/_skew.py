"""Popularity skew: how requests spread over keys, and the Zipf exponent that fits the top."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .._options import check_bound, require_type
from ..errors import ConfigError
from ._plot import axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes

#: Keys the Zipf fit uses by default: the most requested ones, where a power law is visible.
TOP_KEYS = 1000
_PLOT_POINTS = 400


@dataclass(frozen=True)
class Popularity:
    """How requests spread over keys.

    Attributes:
        requests: requests of the trace.
        distinct_keys: keys requested at least once.
        alpha: Zipf exponent: frequency ~ rank ** -alpha over the fitted keys (None: fewer
            than two keys). Around 1 is a classic web skew, near 0 a uniform spread.
        r_squared: how well the line fits log frequency against log rank (1: perfectly).
        scale: requests of rank 1 on the fitted line (None with alpha).
        fitted_keys: the most requested keys the fit used.
        top_1pct_share: share of the requests that go to the most requested 1% of the keys.
        top_10pct_share: the same for 10% of the keys.
        single_use_share: share of the keys requested only once.
        ranks, frequencies: a log-spaced selection of (rank, requests) points, for plots.
    """

    requests: int
    distinct_keys: int
    alpha: float | None
    r_squared: float | None
    scale: float | None
    fitted_keys: int
    top_1pct_share: float
    top_10pct_share: float
    single_use_share: float
    ranks: tuple[int, ...]
    frequencies: tuple[int, ...]

    def plot(self, ax: Axes | None = None) -> Axes:
        """Draws requests per key against rank (log-log) with the fitted line.

        Args:
            ax: the Axes to draw on (None: a new pyplot figure's).

        Returns:
            The Axes drawn on.
        """
        ax = axes(ax)
        ax.loglog(self.ranks, self.frequencies, ".", markersize=3, label="keys")
        if self.alpha is not None and self.scale is not None:
            top = [r for r in self.ranks if r <= self.fitted_keys]
            ax.loglog(
                top,
                [self.scale * r**-self.alpha for r in top],
                "-",
                label=f"Zipf alpha {self.alpha:.2f} (R² {self.r_squared:.2f})",
            )
        ax.set_xlabel("key rank")
        ax.set_ylabel("requests")
        ax.set_title("popularity")
        ax.grid(visible=True, which="both", alpha=0.3)
        ax.legend()
        return ax


def popularity(frequencies: Sequence[int], top: int = TOP_KEYS) -> Popularity:
    """Fits a Zipf law by least squares on log frequency against log rank of the `top` keys.

    Args:
        frequencies: requests of each key, most requested first (`Trace.frequencies`).
        top: how many of the most requested keys the fit uses (> 0).

    Returns:
        The fit and the shares of the requests that the top keys take.

    Raises:
        TypeError: frequencies is not a sequence of ints, or top is not an int.
        ConfigError: frequencies is empty, not sorted in descending order, or holds a count
            below 1; top <= 0.
    """
    require_type(frequencies, Sequence, "frequencies", "a sequence of ints")
    n_top = check_bound(top, "top")
    values: list[object] = list(frequencies)
    freqs = [f for f in values if isinstance(f, int) and not isinstance(f, bool)]
    if len(freqs) != len(values):
        msg = "frequencies must hold ints"
        raise TypeError(msg)
    if not freqs:
        msg = "frequencies must not be empty"
        raise ConfigError(msg)
    if freqs[-1] < 1 or any(a < b for a, b in itertools.pairwise(freqs)):
        msg = "frequencies must be >= 1 and sorted, most requested first"
        raise ConfigError(msg)
    n = len(freqs)
    requests = sum(freqs)
    fitted = min(n_top, n)
    alpha, r2, scale = _fit(freqs[:fitted]) if fitted >= 2 else (None, None, None)
    ranks = _log_spaced(n)
    return Popularity(
        requests=requests,
        distinct_keys=n,
        alpha=alpha,
        r_squared=r2,
        scale=scale,
        fitted_keys=fitted,
        top_1pct_share=sum(freqs[: max(1, n // 100)]) / requests,
        top_10pct_share=sum(freqs[: max(1, n // 10)]) / requests,
        single_use_share=sum(1 for f in reversed(freqs) if f == 1) / n,
        ranks=tuple(ranks),
        frequencies=tuple(freqs[r - 1] for r in ranks),
    )


def _fit(freqs: list[int]) -> tuple[float, float, float]:
    """(alpha, R², scale) of the least-squares line through (log rank, log frequency)."""
    xs = [math.log10(r) for r in range(1, len(freqs) + 1)]
    ys = [math.log10(f) for f in freqs]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    syy = sum((y - my) ** 2 for y in ys)
    slope = sxy / sxx
    scale = 10 ** (my - slope * mx)
    if syy == 0.0:
        return 0.0, 1.0, scale  # every key equally popular: a flat line fits exactly
    residual = sum((y - (my + slope * (x - mx))) ** 2 for x, y in zip(xs, ys, strict=True))
    return -slope, 1.0 - residual / syy, scale


def _log_spaced(n: int) -> list[int]:
    """Ranks 1..n, at most about `_PLOT_POINTS` of them, evenly spread on a log scale."""
    if n <= _PLOT_POINTS:
        return list(range(1, n + 1))
    step = math.log(n) / (_PLOT_POINTS - 1)
    return sorted({min(n, round(math.exp(i * step))) for i in range(_PLOT_POINTS)})
