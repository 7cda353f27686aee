"""Comparing refresh-ahead curves (misses against loader calls) at equal loader calls."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

#: Grid points over the shared loader-call range at which two curves are compared.
GRID_POINTS = 101
#: Relative difference below which two curves count as equal at a grid point.
TIE = 1e-9


class _Point(Protocol):
    @property
    def loader_calls(self) -> int: ...
    @property
    def misses(self) -> int: ...


@dataclass(frozen=True)
class CurveComparison:
    """One curve against another over the loader calls both reach.

    Attributes:
        loader_range: (low, high) loader calls both curves reach; compared on an even grid.
        below: grid points where the first curve has fewer misses.
        above: grid points where it has more.
        points: grid points compared.
        mean_miss_reduction: mean over the grid of (theirs - ours) / theirs; > 0: ours better.
        worst_miss_reduction: the smallest such value (negative: ours worse somewhere).
    """

    loader_range: tuple[float, float]
    below: int
    above: int
    points: int
    mean_miss_reduction: float
    worst_miss_reduction: float

    @property
    def dominates(self) -> bool:
        """True if the first curve is nowhere above the second and somewhere below it."""
        return self.above == 0 and self.below > 0


def frontier(points: Iterable[_Point]) -> list[tuple[float, float]]:
    """The lower convex hull of (loader calls, misses) over the Pareto-best points.

    Mixing two settings (key by key) reaches any point on the segment between them, so the
    hull is what a method can achieve, and interpolating along it is fair to every method.
    """
    pareto: list[tuple[float, float]] = []
    for x, y in sorted((float(p.loader_calls), float(p.misses)) for p in points):
        if not pareto or y < pareto[-1][1]:
            if pareto and pareto[-1][0] == x:
                pareto.pop()
            pareto.append((x, y))
    hull: list[tuple[float, float]] = []
    for p in pareto:
        while len(hull) >= 2 and _cross(hull[-2], hull[-1], p) <= 0:
            hull.pop()
        hull.append(p)
    return hull


def interpolate(curve: list[tuple[float, float]], x: float) -> float:
    """Misses of `curve` at `x` loader calls (x within the curve's range)."""
    for (x0, y0), (x1, y1) in itertools.pairwise(curve):
        if x0 <= x <= x1:
            return y0 if x1 == x0 else y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    return curve[-1][1] if x >= curve[-1][0] else curve[0][1]


def compare_curves(ours: Iterable[_Point], theirs: Iterable[_Point]) -> CurveComparison:
    """Compares the two methods' frontiers over the loader calls both reach."""
    a, b = frontier(ours), frontier(theirs)
    lo, hi = max(a[0][0], b[0][0]), min(a[-1][0], b[-1][0])
    if hi < lo:
        return CurveComparison((lo, hi), 0, 0, 0, 0.0, 0.0)
    n = GRID_POINTS if hi > lo else 1
    below = above = 0
    gains = []
    for i in range(n):
        x = lo + (hi - lo) * i / max(n - 1, 1)
        ya, yb = interpolate(a, x), interpolate(b, x)
        below += ya < yb * (1 - TIE)
        above += ya > yb * (1 + TIE)
        gains.append((yb - ya) / yb if yb > 0 else 0.0)
    return CurveComparison((lo, hi), below, above, n, sum(gains) / n, min(gains))


def _cross(o: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])
