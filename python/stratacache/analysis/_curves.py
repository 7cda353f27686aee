"""Miss-ratio curves of the policies against Belady's optimum, the sizes they need for a hit
ratio, and the reuse-distance distribution read off the exact (or sampled) LRU curve."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .._options import check_bound, check_positive, require_type
from ..errors import ConfigError
from ..mrc import MissRatioCurve, miss_ratio_curve
from ..simulation import simulate
from ._plot import axes
from ._read import Trace

if TYPE_CHECKING:
    from matplotlib.axes import Axes

#: Sizes of the grid `size_grid` draws by default.
GRID_POINTS = 12


def size_grid(distinct_keys: int, points: int = GRID_POINTS) -> list[int]:
    """Cache sizes (entries), geometric from 0.1% of the keys up to all of them.

    Beyond `distinct_keys` entries no policy evicts, so larger sizes add nothing.

    Raises:
        TypeError: an argument is not an int.
        ConfigError: an argument is <= 0, or points < 2.
    """
    keys = check_bound(distinct_keys, "distinct_keys")
    n = check_bound(points, "points")
    if n < 2:
        msg = f"points must be >= 2, got {n}"
        raise ConfigError(msg)
    low = max(1, round(keys / 1000))
    ratio = (keys / low) ** (1 / (n - 1))
    return sorted({min(keys, round(low * ratio**i)) for i in range(n)})


def opt_curve(trace: Trace, sizes: Iterable[int]) -> MissRatioCurve:
    """Belady's optimum at each size, exact, by one `simulate(policy="opt")` per size.

    Raises:
        TypeError: trace is not a Trace or a size is not an int.
        ConfigError: sizes is empty or a size is <= 0.
    """
    require_type(trace, Trace, "trace", "a Trace")
    grid = sorted({check_bound(s, "sizes") for s in sizes})
    if not grid:
        msg = "sizes must not be empty"
        raise ConfigError(msg)
    return MissRatioCurve(
        sizes=tuple(grid),
        miss_ratios=tuple(1.0 - simulate(trace.replay_path, "opt", s).hit_ratio for s in grid),
        policy="opt",
        sample_rate=1.0,
        requests=trace.requests,
        sampled_requests=trace.requests,
        distinct_keys=trace.distinct_keys,
    )


def policy_curves(
    trace: Trace,
    policies: Iterable[str],
    sizes: Sequence[int],
    sample_rate: float = 1.0,
    step: Callable[[str], None] | None = None,
) -> dict[str, MissRatioCurve]:
    """The miss-ratio curve of each policy at `sizes`, then "opt" (exact) as the ceiling.

    Args:
        trace: from `read_trace`.
        policies: names from `stratacache.POLICIES`.
        sizes: cache sizes in entries.
        sample_rate: share of the keys the policies' curves rest on (1.0: exact); OPT is
            always exact.
        step: called with a policy name before its curve is computed (progress reporting).

    Raises:
        TypeError, ConfigError: as `miss_ratio_curve`.
    """
    require_type(trace, Trace, "trace", "a Trace")
    curves = {}
    for policy in [*policies, "opt"]:
        if step is not None:
            step(policy)
        if policy == "opt":
            curves[policy] = opt_curve(trace, sizes)
        else:
            curves[policy] = miss_ratio_curve(trace.replay_path, policy, sample_rate, sizes)
    return curves


def sizes_for(
    curves: dict[str, MissRatioCurve], hit_ratios: Iterable[float]
) -> dict[float, dict[str, int | None]]:
    """For each target hit ratio, the smallest size each curve reaches it at (None: never).

    Sizes are interpolated between the points of the curves (`MissRatioCurve.size_for`).
    """
    return {h: {name: c.size_for(h) for name, c in curves.items()} for h in hit_ratios}


def plot_curves(
    curves: dict[str, MissRatioCurve], cold_miss_ratio: float | None = None, ax: Axes | None = None
) -> Axes:
    """Draws every curve on one Axes, "opt" dashed as the ceiling, and the cold-miss floor.

    Returns:
        The Axes drawn on.
    """
    ax = axes(ax)
    for name, curve in curves.items():
        if name != "opt":
            curve.plot(ax)
    if "opt" in curves:
        opt = curves["opt"]
        ax.plot(opt.sizes, opt.miss_ratios, "k--", marker=".", label="opt (Belady, exact)")
    if cold_miss_ratio is not None:
        ax.axhline(cold_miss_ratio, color="grey", linestyle=":", label="cold misses (floor)")
    ax.set_title("miss-ratio curves")
    ax.legend()
    return ax


@dataclass(frozen=True)
class ReuseDistances:
    """How many distinct keys come between two requests of a key (LRU stack distance).

    A request at distance d hits an LRU cache of d entries or more and misses a smaller one,
    so the distribution is the LRU miss-ratio curve read the other way round.

    Attributes:
        edges: bin edges in distinct keys: bin i holds distances in (edges[i], edges[i + 1]].
        fractions: share of all requests in each bin.
        cold_fraction: share of the requests that are first requests of their key.
        median, p90: the distances (entries) below which 50% and 90% of the re-requests fall
            (None: not reached on the grid).
        sample_rate: share of the keys the distribution rests on (1.0: exact).
    """

    edges: tuple[int, ...]
    fractions: tuple[float, ...]
    cold_fraction: float
    median: int | None
    p90: int | None
    sample_rate: float

    def plot(self, ax: Axes | None = None) -> Axes:
        """Draws the histogram over log-spaced bins.

        Returns:
            The Axes drawn on.
        """
        ax = axes(ax)
        # The first bin holds distance 1 only; draw it from 0.5 so that it shows on a log axis.
        edges = [0.5, *self.edges[1:]]
        how = "exact" if self.sample_rate >= 1.0 else f"sampled at {self.sample_rate:g}"
        ax.stairs(self.fractions, edges, fill=True, alpha=0.7, label=f"re-requests ({how})")
        ax.set_xscale("log")
        ax.set_xlabel("reuse distance (distinct keys since the last request of the key)")
        ax.set_ylabel("share of requests")
        ax.set_title(f"reuse distances; first requests: {self.cold_fraction:.1%}")
        ax.grid(visible=True, which="both", alpha=0.3)
        ax.legend()
        return ax


def reuse_distances(trace: Trace, sample_rate: float = 1.0) -> ReuseDistances:
    """The LRU stack-distance distribution of `trace`, in power-of-two bins.

    Exact at rate 1 (one pass in C++); below 1, a SHARDS estimate from a sample of the keys.

    Raises:
        TypeError: trace is not a Trace or sample_rate not a number.
        ConfigError: sample_rate outside (0, 1].
    """
    require_type(trace, Trace, "trace", "a Trace")
    rate = check_positive(sample_rate, "sample_rate")
    top = trace.distinct_keys
    sizes = [2**k for k in range(max(1, math.ceil(math.log2(top))))] + [top]
    sizes = sorted(set(sizes))
    lru = miss_ratio_curve(trace.replay_path, "lru", rate, sizes)
    edges = (0, *lru.sizes)
    misses = (1.0, *lru.miss_ratios)
    fractions = tuple(max(0.0, a - b) for a, b in itertools.pairwise(misses))
    cold = lru.miss_ratios[-1]
    reused = 1.0 - cold
    return ReuseDistances(
        edges=edges,
        fractions=fractions,
        cold_fraction=cold,
        median=lru.size_for(0.5 * reused) if reused > 0 else None,
        p90=lru.size_for(0.9 * reused) if reused > 0 else None,
        sample_rate=lru.sample_rate,
    )
