"""AutoTTL: a TTL that follows each namespace's observed read and change processes.

No I/O and no clock of its own: callers feed observations with their times and ask for a
TTL. The same `TtlEstimator` serves the live cache (`_autottl_live.py`) and the replay of
`bench/py/bench_autottl.py`, so what the benchmark measures is what the cache runs.

The idea. A read at age `a` of an entry (seconds since it was loaded) is stale if the source
changed in `(load, load + a]`. Call `F(a)` that probability. For a TTL `T`, the expected stale
share is the sum of `F(age)` over the reads that hit, divided by all reads; the hit ratio is
the share of reads that hit. Both follow from the reads of a hash-sampled set of keys (whole
histories, as in SHARDS, so a key's bursts stay in the sample), replayed for each candidate
`T`: no model of the read process, so bursty and periodic readers are priced as they are.

`F` is estimated from what the cache observes, without assuming Poisson changes:

- a reload after expiry at age `a` that returned a different (or the same) value is a
  current-status observation "changed within a: yes/no"; their isotonic (PAVA) fit is the
  nonparametric estimate of `F` at the observed ages (Groeneboom & Wellner, 1992);
- a set over an existing key, a delete or an invalidation ends an inter-change interval of
  that key; with the empirical survival `S` of those intervals, the probability that a change
  follows a load at a random time within `a` is the renewal equilibrium
  `(1/mean) * integral_0^a S(s) ds`.

Outside the observed ages `F` is extended by concavity (an equilibrium residual-life CDF is
concave): `F(a) <= F(a0) * a / a0` above the largest observed age `a0`, which keeps the
extrapolation on the side of more staleness. The TTL grows by at most `GROWTH` per retune, so
the ages it relies on have been observed; while reloads come in but are fewer than
_MIN_STATUS, it holds. A namespace that shows no change at all (no reload compared, no set
over a key, no delete) is predicted never stale, and its TTL grows to `max`.
"""

from __future__ import annotations

import bisect
import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from numbers import Real

from .errors import ConfigError

__all__ = ["AutoTTL", "TtlEstimate", "TtlEstimator"]

#: Largest factor by which one retune raises the TTL.
GROWTH = 2.0
#: The share of the budget the estimator aims at: stale reads come in clumps (every hit
#: between a change and the expiry), so an estimate aimed at the budget itself lands above
#: it about half the time.
AIM = 0.9
#: Candidate TTLs per decade between min and max.
_STEPS_PER_DECADE = 24
#: Observations of each kind kept (the most recent), per namespace.
_MAX_OBSERVATIONS = 4096
#: Reads kept (the most recent, all sampled keys together), sampled keys per namespace, and
#: changes the cache learned of kept per key.
_MAX_READS = 1 << 16
_MAX_KEYS = 4096
_MAX_WRITES_PER_KEY = 256
#: Current-status observations needed before their fit is trusted over the intervals.
_MIN_STATUS = 20
#: Current-status observations per bin of their fit: at least _MIN_BIN, at most _BINS bins.
_MIN_BIN = 25
_BINS = 24


@dataclass(frozen=True)
class AutoTTL:
    """A TTL that follows the namespace's read and change rates (see the README).

    Accepted as a cache's `default_ttl` and as a decorator's `ttl=`. Each namespace's TTL is
    retuned off the request path so the predicted share of stale reads (hits served after
    the source changed and before the cache learned of it) stays within `max_stale`.

    Attributes:
        max_stale: the stale-read budget, a fraction of reads in (0, 1).
        min: the shortest TTL in seconds (> 0); the TTL starts there.
        max: the longest TTL in seconds (>= min, finite).
        retune_every: seconds between two retunes.
        sample: fraction of keys whose reads the estimator follows, by key hash, in (0, 1]:
            the `record=` rate a cache with this default TTL turns on. 1.0 costs a get-hit
            about 1.2x (the recorder's ring write); a smaller share is cheaper but misses
            hot keys of a skewed namespace and overshoots the budget (bench_autottl).

    Raises:
        TypeError: a field is not a number.
        ConfigError: a field is out of its range.
    """

    max_stale: float = 0.01
    min: float = 1.0
    max: float = 86400.0
    retune_every: float = 10.0
    sample: float = 1.0

    def __post_init__(self) -> None:
        for name in ("max_stale", "min", "max", "retune_every", "sample"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, Real):
                msg = f"AutoTTL.{name} must be a number, not {type(value).__name__}"
                raise TypeError(msg)
            object.__setattr__(self, name, float(value))
        if not 0 < self.max_stale < 1:
            msg = f"AutoTTL.max_stale must be in (0, 1), got {self.max_stale!r}"
            raise ConfigError(msg)
        if not 0 < self.min < math.inf:
            msg = f"AutoTTL.min must be > 0 and finite, got {self.min!r}"
            raise ConfigError(msg)
        if not self.min <= self.max < math.inf:
            msg = f"AutoTTL.max must be finite and >= min ({self.min!r}), got {self.max!r}"
            raise ConfigError(msg)
        if not 0 < self.retune_every < math.inf:
            msg = f"AutoTTL.retune_every must be > 0 and finite, got {self.retune_every!r}"
            raise ConfigError(msg)
        if not 0 < self.sample <= 1:
            msg = f"AutoTTL.sample must be in (0, 1], got {self.sample!r}"
            raise ConfigError(msg)

    def sampled(self, key_hash: int) -> bool:
        """True if the key of this 64-bit hash is in the estimator's read sample."""
        return (key_hash & 0xFFFFFFFF) < self.sample * 2**32


@dataclass(frozen=True)
class TtlEstimate:
    """What the estimator predicts for one TTL: hit ratio and stale share of the reads."""

    ttl: float
    hit_ratio: float
    stale_share: float
    reads: int


class TtlEstimator:
    """Observations of one namespace and the TTL they call for. Not thread-safe: one owner
    (the cache's tuner holds a lock around it)."""

    def __init__(self) -> None:
        self._reads: dict[int, deque[float]] = {}
        self._held = 0  # reads in _reads
        self._status: deque[tuple[float, bool]] = deque(maxlen=_MAX_OBSERVATIONS)
        self._intervals: deque[float] = deque(maxlen=_MAX_OBSERVATIONS)
        self._last_change: dict[int, float] = {}
        self._writes: dict[int, deque[tuple[float, bool]]] = {}  # changes the cache learned
        self._fit: tuple[list[float], list[float]] | None = None

    # --- observations -----------------------------------------------------------------
    def read(self, key: int, now: float) -> None:
        """A read (hit or miss) of a sampled key."""
        times = self._reads.get(key)
        if times is None:
            if len(self._reads) >= _MAX_KEYS:
                return
            times = self._reads[key] = deque()
        times.append(now)
        self._held += 1
        if self._held > _MAX_READS + _MAX_READS // 4:
            self._trim()

    def _trim(self) -> None:
        """Keeps the _MAX_READS most recent reads, of all keys alike: one time window, so a
        hot key weighs in the replay what it weighs in the traffic."""
        every = sorted(t for times in self._reads.values() for t in times)
        cutoff = every[len(every) - _MAX_READS]
        for key in list(self._reads):
            times = self._reads[key]
            while times and times[0] < cutoff:
                times.popleft()
            if not times:
                del self._reads[key]
                self._writes.pop(key, None)
        self._held = sum(len(times) for times in self._reads.values())

    def reloaded(self, age: float, changed: bool) -> None:
        """A reload `age` seconds after the previous load found the value changed or not."""
        if age > 0:
            self._status.append((age, bool(changed)))
            self._fit = None

    def changed(self, key: int, now: float, *, deleted: bool = False) -> None:
        """The cache learned that `key` changed: a set over it (its entry is fresh from now)
        or a delete, invalidation or coherence message (`deleted`: the next read misses)."""
        last = self._last_change.get(key)
        if last is not None and now > last:
            self._intervals.append(now - last)
            self._fit = None
        if last is not None or len(self._last_change) < _MAX_OBSERVATIONS:
            self._last_change[key] = now
        if key in self._reads:
            writes = self._writes.get(key)
            if writes is None:
                writes = self._writes[key] = deque(maxlen=_MAX_WRITES_PER_KEY)
            writes.append((now, deleted))

    @property
    def observations(self) -> int:
        """Change observations held (reloads compared plus inter-change intervals)."""
        return len(self._status) + len(self._intervals)

    # --- the change model -------------------------------------------------------------
    def p_changed(self, age: float) -> float:
        """P(the source changed within `age` seconds of a load); 0 before any observation."""
        ages, probs = self._change_fit()
        if not ages or age <= 0:
            return 0.0
        i = bisect.bisect_left(ages, age)
        if i == len(ages):
            return min(1.0, probs[-1] * age / ages[-1])  # concavity: F(a)/a does not grow
        lo_a, lo_p = (0.0, 0.0) if i == 0 else (ages[i - 1], probs[i - 1])
        return lo_p + (probs[i] - lo_p) * (age - lo_a) / (ages[i] - lo_a)

    def _change_fit(self) -> tuple[list[float], list[float]]:
        if self._fit is None:
            status = (
                _isotonic(sorted(self._status, key=_age))
                if len(self._status) >= _MIN_STATUS
                else None
            )
            renewal = _equilibrium(sorted(self._intervals)) if self._intervals else None
            self._fit = status or renewal or ([], [])
        return self._fit

    # --- predictions ------------------------------------------------------------------
    def predict(self, ttl: float) -> TtlEstimate:
        """Replays the sampled reads at `ttl`: predicted hit ratio and stale share."""
        reads = hits = 0
        stale = 0.0
        p = self.p_changed
        for key, times in self._reads.items():
            writes = self._writes.get(key)
            if writes:
                r, h, s = _replay_with_writes(times, writes, ttl, p)
                reads, hits, stale = reads + r, hits + h, stale + s
                continue
            loaded = -math.inf
            for t in times:
                age = t - loaded
                if age < ttl:
                    hits += 1
                    stale += p(age)
                else:
                    loaded = t
            reads += len(times)
        if reads == 0:
            return TtlEstimate(ttl, 0.0, 0.0, 0)
        return TtlEstimate(ttl, hits / reads, stale / reads, reads)

    def recommend(self, auto: AutoTTL, current: float | None = None) -> TtlEstimate:
        """The highest-hit-ratio TTL in [min, max] whose predicted stale share fits AIM times
        the budget, at most GROWTH times `current`."""
        top = auto.max if current is None else min(auto.max, max(auto.min, current) * GROWTH)
        if not self._change_fit()[0] and (self._status or not self._has_reads()):
            # Reloads are coming in but too few to fit: hold until they are enough.
            return self.predict(auto.min if current is None else max(auto.min, current))
        grid = _candidates(auto.min, top)
        # Stale share and hit ratio both grow with the TTL (eviction aside): the answer is
        # the largest candidate within the budget, found by bisection.
        budget = AIM * auto.max_stale
        lo, hi = 0, len(grid) - 1
        best = self.predict(grid[0])
        if best.stale_share > budget:
            return best
        while lo < hi:
            mid = (lo + hi + 1) // 2
            e = self.predict(grid[mid])
            if e.stale_share <= budget:
                lo, best = mid, e
            else:
                hi = mid - 1
        return best

    def _has_reads(self) -> bool:
        return any(self._reads.values())


def _replay_with_writes(
    times: deque[float],
    writes: deque[tuple[float, bool]],
    ttl: float,
    p: Callable[[float], float],
) -> tuple[int, int, float]:
    """`predict` for a key the cache was told changed: a set refreshes its entry, a delete
    drops it."""
    events = sorted([(t, 0, False) for t in times] + [(t, 1, d) for t, d in writes])
    reads = hits = 0
    stale = 0.0
    loaded = -math.inf
    for t, kind, deleted in events:
        if kind:
            loaded = -math.inf if deleted else t
            continue
        reads += 1
        age = t - loaded
        if age < ttl:
            hits += 1
            stale += p(age)
        else:
            loaded = t
    return reads, hits, stale


def _candidates(lo: float, hi: float) -> list[float]:
    """A log grid from lo to hi, both included."""
    if hi <= lo:
        return [lo]
    n = max(1, math.ceil(math.log10(hi / lo) * _STEPS_PER_DECADE))
    return [lo * (hi / lo) ** (i / n) for i in range(n + 1)]


def _isotonic(obs: list[tuple[float, bool]]) -> tuple[list[float], list[float]]:
    """F from current-status observations sorted by age: equal-count bins (mean age, share
    changed), made non-decreasing by pool-adjacent-violators, weighted by their counts.
    Bins of at least _MIN_BIN observations keep one unlucky run from bending the curve.
    Below the first bin's mean age the caller draws F linearly from the origin."""
    size = max(_MIN_BIN, len(obs) // _BINS)
    # The youngest observations are one pooled bin: isotonic fits are biased low at their lower
    # boundary, where the stale hits are, and a locally linear F is well estimated there.
    # It spans ages up to twice the youngest (at least `size` observations), so that an F
    # already bending there is not drawn as a straight line.
    young = max(size, bisect.bisect_right(obs, 2 * obs[0][0], key=_age))
    while 0 < young < len(obs) and obs[young][0] == obs[young - 1][0]:
        young += 1  # never through one age, as in _bins
    parts = [obs[:young], *_bins(obs[young:], size)] if young < len(obs) else [obs]
    blocks: list[list[float]] = []  # [sum of flags, count, sum of ages]
    for part in parts:
        blocks.append([float(sum(f for _, f in part)), float(len(part)), sum(a for a, _ in part)])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] >= blocks[-1][0] / blocks[-1][1]:
            s, c, a = blocks.pop()
            blocks[-1][0] += s
            blocks[-1][1] += c
            blocks[-1][2] += a
    return [b[2] / b[1] for b in blocks], [b[0] / b[1] for b in blocks]


def _equilibrium(intervals: list[float]) -> tuple[list[float], list[float]]:
    """The residual-life CDF `(1/mean) int_0^a S(s) ds` of sorted inter-change intervals, at
    each interval (S is their empirical survival)."""
    n = len(intervals)
    mean = sum(intervals) / n
    ages: list[float] = []
    probs: list[float] = []
    area, prev = 0.0, 0.0
    for i, x in enumerate(intervals):
        area += (x - prev) * (n - i) / n
        prev = x
        if ages and x == ages[-1]:
            probs[-1] = area / mean
        else:
            ages.append(x)
            probs.append(area / mean)
    return ages, probs


def _bins(obs: list[tuple[float, bool]], size: int) -> list[list[tuple[float, bool]]]:
    """Consecutive runs of at least `size` observations (sorted by age), never cutting
    through one age: a cut there would make the bin's share depend on arrival order."""
    out: list[list[tuple[float, bool]]] = [[]]
    for i, o in enumerate(obs):
        if len(out[-1]) >= size and o[0] != obs[i - 1][0]:
            out.append([])
        out[-1].append(o)
    return out


def _age(observation: tuple[float, bool]) -> float:
    """Sort key of current-status observations: by age alone, so that a bin cut through
    observations of one age takes them in arrival order, not the unchanged ones first."""
    return observation[0]
