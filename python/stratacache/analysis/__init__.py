"""Trace analysis: what a recorded access pattern says about the cache it needs.

One call does it all (`analyze`, which `stratacache analyze` runs); the steps are public too,
for notebooks: `read_trace`, `popularity` (Zipf skew), `reuse_distances`, `size_grid` and
`policy_curves` (miss-ratio curves against Belady's optimum), `sizes_for` (the cache size of a
target hit ratio) and `ttl_advice` (from request times). matplotlib is needed only to plot.
"""

from __future__ import annotations

from ._curves import (
    GRID_POINTS,
    ReuseDistances,
    opt_curve,
    plot_curves,
    policy_curves,
    reuse_distances,
    size_grid,
    sizes_for,
)
from ._read import FORMATS, Trace, read_trace
from ._report import render_text, to_dict, write_plots, write_report
from ._run import TARGETS, Analysis, TraceSummary, analyze
from ._skew import TOP_KEYS, Popularity, popularity
from ._ttl import TTL_POINTS, TtlAdvice, ttl_advice

__all__ = [
    "FORMATS",
    "GRID_POINTS",
    "TARGETS",
    "TOP_KEYS",
    "TTL_POINTS",
    "Analysis",
    "Popularity",
    "ReuseDistances",
    "Trace",
    "TraceSummary",
    "TtlAdvice",
    "analyze",
    "opt_curve",
    "plot_curves",
    "policy_curves",
    "popularity",
    "read_trace",
    "render_text",
    "reuse_distances",
    "size_grid",
    "sizes_for",
    "to_dict",
    "ttl_advice",
    "write_plots",
    "write_report",
]
