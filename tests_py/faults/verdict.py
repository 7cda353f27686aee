"""What the workers' logs say: exceptions, wrong values, stale reads, latency and recovery.

The coherence window. A read is *stale* when it started more than `WINDOW_S` after an
acknowledged invalidation of its key and returned a version older than the one acknowledged.
Within the window, a process may legitimately still serve its L1 copy:

* `DETECT_S`: a hung server (SIGSTOP) is noticed by the invalidation subscriber within its
  1.5 s ping deadline (``tiers/redis/coherence.py``), plus its 0.1 s poll; a dead one at once;
* the cache's documented ``degraded_l1_ttl`` (the workers run with 0.5 s): values loaded
  while the subscription is down live that long in L1;
* `SLACK_S`: scheduling on a loaded 2-core machine (invalidation p99 is 2-3 ms there, max
  9 ms; REDIS-FACTS.md), generously.

The process that acknowledged the invalidation gets no window at all: its own read right
after the acknowledgement must see the new version. Stale reads inside the window are
counted too (``stale_in_window``), as a figure, not a failure.

A *wrong* value is one no write ever produced: another key's value, a value of an unknown
shape, or a version above the last one written to the database.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .app import HOW_GET, HOW_GET_THEN_LOADER, HOW_LOADER, METHODS, WRONG
from .runner import Window

DETECT_S = 1.6
SLACK_S = 0.5
DEGRADED_L1_TTL_S = 0.5
WINDOW_S = DETECT_S + DEGRADED_L1_TTL_S + SLACK_S

_HOW = {HOW_LOADER: "loader", HOW_GET: "get", HOW_GET_THEN_LOADER: "get miss, then loader"}
_COUNTERS = (
    "skipped_reads",
    "skipped_writes",
    "errors",
    "corrupt",
    "tag_misses",
    "lock_waits",
    "subscription_drops",
    "breaker_opened",
)


def percentiles(values: Sequence[float]) -> dict[str, float | None]:
    """p50/p99/max of seconds, in milliseconds (None for no values)."""
    if not values:
        return {"p50_ms": None, "p99_ms": None, "max_ms": None}
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(ordered[max(0, math.ceil(q * len(ordered)) - 1)] * 1e3, 2)

    return {"p50_ms": at(0.5), "p99_ms": at(0.99), "max_ms": round(ordered[-1] * 1e3, 2)}


@dataclass
class Verdict:
    """The figures of one fault test (every trial of it)."""

    case: str
    form: str
    trials: int
    reads: int = 0
    acks: int = 0
    exceptions: int = 0
    wrong: int = 0
    stale: int = 0
    stale_in_window: int = 0
    max_stale_lag_s: float | None = None
    stale_by_method: dict[str, int] = field(default_factory=dict)
    stale_by_worker: dict[str, int] = field(default_factory=dict)
    latency: dict[str, dict[str, float | None]] = field(default_factory=dict)
    deadline_ms: float = 0.0
    recovery: list[dict[str, Any]] = field(default_factory=list)
    counters: dict[str, int] = field(default_factory=dict)
    windows: list[dict[str, Any]] = field(default_factory=list)
    samples: dict[str, list[str]] = field(default_factory=dict)

    def row(self) -> dict[str, Any]:
        """The JSON row of bench/results/faults*.json."""
        out = dict(self.__dict__)
        out["window_s"] = WINDOW_S
        return out

    def failures(self) -> str:
        """A readable account of what went wrong (for the assertion message)."""
        lines = [
            (
                f"{self.case}: exceptions={self.exceptions} wrong={self.wrong} "
                f"stale beyond {WINDOW_S:.1f} s={self.stale} {self.stale_by_method} "
                f"{self.stale_by_worker} longest lag={self.max_stale_lag_s} s"
            )
        ]
        for kind, items in self.samples.items():
            lines += [f"  {kind}: {item}" for item in items[:8]]
        return "\n".join(lines)


class Acks:
    """The writer's acknowledgements per key: times ascending, versions ascending."""

    def __init__(self, acks: Sequence[Sequence[Any]], nkeys: int) -> None:
        self.times: list[list[float]] = [[] for _ in range(nkeys)]
        self.versions: list[list[int]] = [[] for _ in range(nkeys)]
        for _written, acked, key, version in sorted(acks, key=lambda a: a[1]):
            self.times[key].append(acked)
            self.versions[key].append(version)

    def acked_before(self, key: int, t: float) -> tuple[int, int]:
        """(newest version acknowledged before t, its index), (-1, -1) if none."""
        n = bisect.bisect_right(self.times[key], t)
        return (self.versions[key][n - 1], n - 1) if n else (-1, -1)

    def first_ack_above(self, key: int, version: int) -> float:
        """When the first version above `version` was acknowledged."""
        n = bisect.bisect_right(self.versions[key], version)
        return self.times[key][n]


def judge(
    case: str,
    form: str,
    *,
    logs: list[dict[str, Any]],
    windows: list[Window],
    final_versions: dict[str, int],
    deadline_s: float,
) -> Verdict:
    verdict = Verdict(case=case, form=form, trials=len(windows), deadline_ms=deadline_s * 1e3)
    verdict.windows = [{"start": w.start, "end": w.end, **w.info} for w in windows]
    keys: list[str] = next(log["keys"] for log in logs if "keys" in log)
    writer = next(log for log in logs if log.get("role") == "writer")
    acks = Acks(writer.get("acks", []), len(keys))
    verdict.acks = len(writer.get("acks", []))
    stale_reads: list[tuple[str, float, int, int, float, int]] = []
    samples: dict[str, list[str]] = {"exceptions": [], "wrong": [], "stale": []}
    counters: Counter[str] = Counter()
    for log in logs:
        name = log["name"]
        verdict.exceptions += len(log.get("exceptions", []))
        samples["exceptions"] += [f"{name}: {e}" for e in log.get("exceptions", [])[:3]]
        samples["wrong"] += [f"{name}: {w}" for w in log.get("wrong", [])[:3]]
        window = 0.0 if log.get("role") == "writer" else WINDOW_S
        for t0, _t1, key, version, how in log.get("reads", []):
            verdict.reads += 1
            if version == WRONG or version > final_versions[keys[key]]:
                verdict.wrong += 1
                continue
            acked, _ = acks.acked_before(key, t0 - window)
            if version < acked:
                lag = t0 - acks.first_ack_above(key, version)
                stale_reads.append((name, t0, key, version, lag, how))
            elif window and version < acks.acked_before(key, t0)[0]:
                verdict.stale_in_window += 1
        l2 = log.get("final_stats", {}).get("l2") or {}
        counters.update(
            {k: v for k, v in l2.items() if k in _COUNTERS or k.startswith("invalidations_")}
        )
    verdict.counters = dict(counters)
    verdict.stale = len(stale_reads)
    if stale_reads:
        verdict.max_stale_lag_s = round(max(s[4] for s in stale_reads), 3)
    verdict.stale_by_method = dict(Counter(keys[s[2]].split(":")[0] for s in stale_reads))
    verdict.stale_by_worker = dict(Counter(s[0] for s in stale_reads))
    samples["stale"] = [
        f"{n} read {keys[k]} v{v} ({_HOW[how]}) {lag:.2f} s after a newer version was "
        "acknowledged" + since_fault(t0, windows)
        for n, t0, k, v, lag, how in stale_reads[:: max(1, len(stale_reads) // 8)]
    ]
    verdict.samples = {k: v for k, v in samples.items() if v}
    verdict.latency = latency(logs, windows)
    ends = [w.start for w in windows[1:]] + [math.inf][: len(windows)]
    verdict.recovery = [
        recovery(logs, w, stale_reads, end) for w, end in zip(windows, ends, strict=True)
    ]
    assert set(verdict.stale_by_method) <= set(METHODS)
    return verdict


def since_fault(t: float, windows: list[Window]) -> str:
    """ ", +x s from the end of fault n" for the last fault begun before t ("" if none)."""
    begun = [n for n, w in enumerate(windows) if w.start <= t]
    if not begun:
        return ", before any fault" if windows else ""
    return f", {t - windows[begun[-1]].end:+.2f} s from the end of fault {begun[-1] + 1}"


def during(t: float, windows: list[Window]) -> bool:
    return any(w.start <= t <= w.end for w in windows)


def latency(logs: list[dict[str, Any]], windows: list[Window]) -> dict[str, dict[str, Any]]:
    """Read and invalidation call times, overall and for the calls started during a fault."""
    reads = [(t0, t1 - t0) for log in logs for t0, t1, *_ in log.get("reads", [])]
    invalidations = [
        (written, acked - written) for log in logs for written, acked, *_ in log.get("acks", [])
    ]
    return {
        "read": percentiles([s for _, s in reads]),
        "read_during_fault": percentiles([s for t, s in reads if during(t, windows)]),
        "invalidate": percentiles([s for _, s in invalidations]),
        "invalidate_during_fault": percentiles([s for t, s in invalidations if during(t, windows)]),
    }


def recovery(
    logs: list[dict[str, Any]],
    window: Window,
    stale_reads: list[tuple[str, float, int, int, float, int]],
    until: float,
) -> dict[str, Any]:
    """Seconds from the fault's end until every worker's cache answered from Redis again
    (its count of answered Redis calls moved), until every one was coherent again, and until
    the last stale read before the next fault (None: none after this one began)."""
    redis_back: list[float | None] = []
    coherent_back: list[float | None] = []
    for log in logs:
        samples = log.get("samples", [])
        redis_back.append(
            next(
                (
                    t - window.end
                    for (_, before, *_), (t, answered, *_) in itertools.pairwise(samples)
                    if t >= window.end and answered > before
                ),
                None,
            )
        )
        coherent_back.append(
            next((t - window.end for t, _a, _s, ok, _b in samples if t >= window.end and ok), None)
        )
    late = [t0 - window.end for _n, t0, *_ in stale_reads if window.start <= t0 < until]
    return {
        "redis_back_s": worst(redis_back),
        "coherent_back_s": worst(coherent_back),
        "last_stale_after_end_s": round(max(late), 3) if late else None,
        "outage_s": round(window.end - window.start, 3),
    }


def worst(values: list[float | None]) -> float | str | None:
    """The largest value; "never" if some worker never got there."""
    if not values:
        return None
    if any(v is None for v in values):
        return "never"
    return round(max(v for v in values if v is not None), 3)
