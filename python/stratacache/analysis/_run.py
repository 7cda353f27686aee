"""The whole analysis of one trace in one call, as `stratacache analyze` runs it."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from numbers import Real

from .. import _core
from .._extras import ProgressBar, progress_bar
from .._options import check_positive, require_type
from ..errors import ConfigError
from ..mrc import MissRatioCurve
from ._curves import (
    GRID_POINTS,
    ReuseDistances,
    policy_curves,
    reuse_distances,
    size_grid,
    sizes_for,
)
from ._read import Trace, read_trace
from ._skew import Popularity, popularity
from ._ttl import TTL_POINTS, TtlAdvice, ttl_advice

#: Hit ratios `analyze` finds cache sizes for by default.
TARGETS: tuple[float, ...] = (0.5, 0.8, 0.9)
#: In quick mode, the policies' curves rest on about this many sampled requests.
QUICK_REQUESTS = 250_000


@dataclass(frozen=True)
class TraceSummary:
    """What was read.

    Attributes:
        path: the trace file.
        format: how it was read (see `Trace`).
        requests: requests of the trace.
        distinct_keys: distinct keys.
        duration: seconds from the first request to the last (None: no timestamps).
    """

    path: str
    format: str
    requests: int
    distinct_keys: int
    duration: float | None

    @property
    def cold_miss_ratio(self) -> float:
        """Share of the requests that are a key's first: the misses no cache size removes."""
        return self.distinct_keys / self.requests


@dataclass(frozen=True)
class Analysis:
    """Everything `analyze` measured on one trace.

    Attributes:
        trace: what was read.
        sample_rate: share of the keys the policies' curves and the reuse distances rest on.
        popularity: the skew of the requests over the keys.
        reuse: the LRU stack-distance distribution.
        curves: the miss-ratio curve of each policy, then "opt" (Belady, exact), on one grid.
        sizes_for: per target hit ratio, the entries each curve needs (None: not reached).
        ttl: TTL advice (None: the trace has no timestamps).
    """

    trace: TraceSummary
    sample_rate: float
    popularity: Popularity
    reuse: ReuseDistances
    curves: dict[str, MissRatioCurve]
    sizes_for: dict[float, dict[str, int | None]]
    ttl: TtlAdvice | None


def analyze(
    trace_path: str | os.PathLike[str],
    *,
    policies: Iterable[str] | None = None,
    sample_rate: float | None = None,
    targets: Iterable[float] = TARGETS,
    quick: bool = False,
    progress: bool = False,
) -> Analysis:
    """Reads a trace and measures its skew, reuse distances, miss-ratio curves and TTLs.

    Args:
        trace_path: a trace in any format `read_trace` reads.
        policies: names from `stratacache.POLICIES` (None: all of them). Belady's optimum
            ("opt") is always added, exact, as the ceiling.
        sample_rate: share of the keys the policies' curves and the reuse distances rest on,
            in (0, 1]. None: 1 (exact), or in quick mode enough for about 250,000 requests.
        targets: hit ratios, each in (0, 1), to find the cache size of.
        quick: fewer cache sizes and TTLs, and a sampled curve for large traces.
        progress: show progress bars (on stderr, only when it is a terminal).

    Raises:
        TypeError: an argument has the wrong type.
        ConfigError: an unknown policy, a sample_rate or target out of range.
        TraceIOError, CorruptDataError: the trace cannot be read (see `read_trace`).
        MissingExtraError: progress is set and tqdm (the `cli` extra) is not installed.
    """
    names = check_policies(policies)
    goals = check_targets(targets)
    require_type(quick, bool, "quick", "a bool")
    rate = None if sample_rate is None else check_sample_rate(sample_rate)
    with read_trace(trace_path, progress=progress) as trace:
        if rate is None:
            rate = min(1.0, QUICK_REQUESTS / trace.requests) if quick else 1.0
        timed = trace.times is not None
        with progress_bar(
            progress,
            "analyze(progress=True)",
            total=len(names) + 2 + timed,
            desc="analysing",
            disable=None,
            leave=False,
        ) as bar:
            return _measure(trace, names=names, goals=goals, rate=rate, quick=quick, bar=bar)


def _measure(
    trace: Trace,
    *,
    names: list[str],
    goals: list[float],
    rate: float,
    quick: bool,
    bar: ProgressBar,
) -> Analysis:
    running: list[str] = []

    def step(name: str) -> None:
        """Counts the step before `name` as done and shows `name` as running."""
        if running:
            bar.update()
        running[:] = [name]
        bar.set_postfix_str(name)

    step("reuse distances")
    reuse = reuse_distances(trace, rate)
    grid = size_grid(trace.distinct_keys, GRID_POINTS // 2 if quick else GRID_POINTS)
    curves = policy_curves(trace, names, grid, rate, step)
    if trace.times is not None:
        step("ttl")
    ttl = ttl_advice(trace, TTL_POINTS // 2 if quick else TTL_POINTS)
    bar.update()
    return Analysis(
        trace=TraceSummary(
            path=str(trace.path),
            format=trace.format,
            requests=trace.requests,
            distinct_keys=trace.distinct_keys,
            duration=trace.duration,
        ),
        sample_rate=rate,
        popularity=popularity(trace.frequencies),
        reuse=reuse,
        curves=curves,
        sizes_for=sizes_for(curves, goals),
        ttl=ttl,
    )


def check_policies(policies: Iterable[str] | None) -> list[str]:
    """The policy names, deduplicated in order; "opt" is dropped (it is always drawn).

    Raises:
        TypeError: not an iterable of str.
        ConfigError: an unknown name, or none left.
    """
    known = tuple(_core.policy_names())
    if policies is None:
        return list(known)
    if isinstance(policies, (str, bytes)) or not isinstance(policies, Iterable):
        msg = f"policies must be an iterable of str, not {type(policies).__name__}"
        raise TypeError(msg)
    out: list[str] = []
    for name in policies:
        require_type(name, str, "policies", "an iterable of str")
        if name not in (*known, "opt"):
            msg = f"unknown policy {name!r}; choose from {', '.join(known)}"
            raise ConfigError(msg)
        if name != "opt" and name not in out:
            out.append(name)
    if not out:
        msg = f"policies must name at least one of {', '.join(known)}"
        raise ConfigError(msg)
    return out


def check_targets(targets: Iterable[float]) -> list[float]:
    """Target hit ratios, deduplicated and ascending.

    Raises:
        TypeError: not an iterable of numbers.
        ConfigError: empty, or a value outside (0, 1).
    """
    if isinstance(targets, (str, bytes)) or not isinstance(targets, Iterable):
        msg = f"targets must be an iterable of numbers, not {type(targets).__name__}"
        raise TypeError(msg)
    out: set[float] = set()
    values: list[object] = list(targets)
    for t in values:
        if isinstance(t, bool) or not isinstance(t, Real):
            msg = f"targets must hold numbers, not {type(t).__name__}"
            raise TypeError(msg)
        if not 0.0 < float(t) < 1.0:
            msg = f"a target hit ratio must be in (0, 1), got {t!r} (80% is 0.8)"
            raise ConfigError(msg)
        out.add(float(t))
    if not out:
        msg = "targets must not be empty"
        raise ConfigError(msg)
    return sorted(out)


def check_sample_rate(sample_rate: object) -> float:
    """The sample rate as a float in (0, 1].

    Raises:
        TypeError: not a number.
        ConfigError: outside (0, 1].
    """
    rate = check_positive(sample_rate, "sample_rate")
    if rate > 1.0:
        msg = f"sample_rate must be in (0, 1], got {sample_rate!r}"
        raise ConfigError(msg)
    return rate
