"""Trace replay: the hit ratio a policy reaches on a recorded key sequence."""

from __future__ import annotations

import os
from pathlib import Path

from . import _core
from ._options import check_bound, require_type

__all__ = ["SimulationResult", "simulate"]

#: Result of `simulate`: `.hit_ratio`, `.hits`, `.misses`, `.requests`.
SimulationResult = _core.SimulationResult


def simulate(
    trace_path: str | os.PathLike[str], policy: str | None = None, capacity: int | None = None
) -> SimulationResult:
    """Replays a trace through an eviction policy and returns its hit ratio.

    The trace holds one integer key per line, plain or gzip-compressed (the format of
    `shared/traces`); every object weighs 1. The replay runs in C++ without the GIL.

    Args:
        trace_path: path of the trace file.
        policy: one of `stratacache.POLICIES`, or "opt" for Belady's optimum (None: the
            default policy, `stratacache.DEFAULT_POLICY`).
        capacity: entries the simulated cache holds (> 0); required.

    Raises:
        TypeError: capacity is missing or not an int, or policy is not a str.
        ConfigError: capacity <= 0 or unknown policy.
        TraceIOError: the file cannot be read.
        CorruptDataError: a line is not an integer key.
    """
    if capacity is None:
        msg = "simulate() needs a capacity (entries the simulated cache holds)"
        raise TypeError(msg)
    require_type(policy, (str, type(None)), "policy", "a str or None")
    entries = check_bound(capacity, "capacity")
    return _core.simulate(str(Path(trace_path)), policy or _core.DEFAULT_POLICY, entries)
