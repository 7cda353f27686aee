"""Access-pattern predictor (experimental, off by default) and the replays that judge it.

The predictor learns, per key, the probability of a read within a horizon from recency,
decayed frequencies, inter-arrival statistics, time since the last write and remaining TTL
(an online logistic regression in C++/Eigen). It earns a place in the cache only by beating
simple heuristics on replayed workloads, so this module offers the replays too:

- `evaluate_refresh`: refresh-ahead, misses on the request path against loader calls, for
  XFetch, "refresh if read in the last window" and the predictor, each as a swept curve;
- `evaluate_warming`: which N keys to preload after a restart;
- `evaluate_ttl` / `recommend_ttl`: the longest TTL within a staleness budget, per namespace.

Workloads come from `workload(...)`: seeded generators with known access and update
processes, or a trace of `shared/traces` on a Poisson clock.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from numbers import Real
from pathlib import Path

from . import _core
from ._options import check_bound, check_positive, require_type
from ._refresh_curves import CurveComparison, compare_curves
from .errors import ConfigError

__all__ = [
    "WORKLOAD_KINDS",
    "CurveComparison",
    "Predictor",
    "RefreshPoint",
    "RefreshReport",
    "TtlOutcome",
    "TtlRecommendation",
    "TtlReport",
    "WarmResult",
    "Workload",
    "evaluate_refresh",
    "evaluate_ttl",
    "evaluate_warming",
    "merge",
    "recommend_ttl",
    "workload",
]

#: A timed workload: `.size` events over `.duration` seconds and `.keys` distinct keys.
Workload = _core.TimedWorkload
#: One replay of `evaluate_refresh`: `.method`, `.parameter`, `.gets`, `.misses`,
#: `.refreshes`, `.loader_calls`.
RefreshPoint = _core.RefreshPoint
#: One method of `evaluate_warming`: `.method`, `.preloaded`, `.hits`, `.reads`, `.hit_ratio`.
WarmResult = _core.WarmResult
#: A replayed TTL: `.ttl`, `.hit_ratio`, `.stale_fraction`, `.reads`.
TtlOutcome = _core.TtlOutcome
#: A recommended TTL: `.ttl`, `.predicted_hit_ratio`, `.predicted_stale_fraction`, `.keys`.
TtlRecommendation = _core.TtlRecommendation
#: One namespace of `evaluate_ttl`: `.ns`, `.recommendation`, `.at_recommended`, `.best`,
#: `.heuristic`, `.grid`.
TtlReport = _core.TtlReport

#: Kinds accepted by `workload`.
WORKLOAD_KINDS: tuple[str, ...] = tuple(_core.workload_kinds())

_BETAS = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0)
_WINDOWS = (1 / 16, 1 / 8, 1 / 4, 1 / 2, 1.0, 2.0, 4.0)
_THRESHOLDS = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
_TTL_GRID = tuple(round(10 ** (e / 4), 3) for e in range(-4, 21))  # 0.1 s .. 100,000 s


def workload(
    kind: str,
    *,
    keys: int = 1000,
    duration: float = 3600.0,
    seed: int = 1,
    rate: float = 100.0,
    period_min: float = 30.0,
    period_max: float = 600.0,
    jitter: float = 0.1,
    burst_on: float = 60.0,
    burst_off: float = 600.0,
    burst_rate: float = 0.5,
    zipf_alpha: float = 0.9,
    cycle: float = 3600.0,
    amplitude: float = 0.8,
    scan_every: float = 600.0,
    scan_length: int = 1000,
    trace_path: str | os.PathLike[str] | None = None,
    max_requests: int | None = None,
    update_interval: float = 0.0,
    namespace: int = 0,
) -> Workload:
    """Generates a seeded timed workload of reads (and Poisson writes, if asked).

    Kinds: "periodic" (each key read every P_k, log-uniform in [period_min, period_max],
    +- jitter * P_k), "bursty" (on/off periods of mean burst_on/burst_off seconds, reads at
    burst_rate per second while on), "diurnal" (Zipf(zipf_alpha) popularity, total `rate`
    modulated by a sine of period `cycle`), "scan" (Zipf reads at `rate` plus, every
    `scan_every` seconds, one pass over the same `scan_length` cold keys) and "trace" (the
    keys of `trace_path`, at most `max_requests`, arriving as a Poisson process at `rate`).

    Args:
        kind: one of `WORKLOAD_KINDS`.
        keys: keys of the generated kinds (hot keys for "scan").
        duration: seconds covered by the generated kinds.
        seed: the same seed gives the same events.
        update_interval: mean seconds between two writes of one key (0: no writes).
        namespace: namespace id (0..65535) stamped on the events; merged workloads keep theirs.

    Raises:
        TypeError: an argument has the wrong type.
        ConfigError: an unknown kind or an out-of-range parameter.
        TraceIOError, CorruptDataError: the trace cannot be read.
    """
    require_type(kind, str, "kind", "a str")
    if kind not in WORKLOAD_KINDS:
        msg = f"kind must be one of {', '.join(WORKLOAD_KINDS)}, got {kind!r}"
        raise ConfigError(msg)
    if (kind == "trace") != (trace_path is not None):
        msg = "trace_path is required for kind='trace' and only for it"
        raise ConfigError(msg)
    o = _core.WorkloadOptions()
    o.kind = kind
    o.keys = check_bound(keys, "keys")
    o.seed = _seed(seed)
    o.scan_length = check_bound(scan_length, "scan_length")
    o.max_requests = 0 if max_requests is None else check_bound(max_requests, "max_requests")
    o.ns = _namespace(namespace)
    o.trace_path = "" if trace_path is None else str(Path(trace_path))
    for name, value in (
        ("duration", duration),
        ("rate", rate),
        ("period_min", period_min),
        ("period_max", period_max),
        ("burst_on", burst_on),
        ("burst_off", burst_off),
        ("burst_rate", burst_rate),
        ("cycle", cycle),
        ("scan_every", scan_every),
    ):
        setattr(o, name, check_positive(value, name))
    o.jitter = _fraction(jitter, "jitter")
    o.amplitude = _fraction(amplitude, "amplitude")
    o.zipf_alpha = _non_negative(zipf_alpha, "zipf_alpha")
    o.update_interval = _non_negative(update_interval, "update_interval")
    return _core.make_workload(o)


def merge(*workloads: Workload) -> Workload:
    """One workload with the events of all `workloads` in time order.

    Give each part its own `namespace` (and, for generated kinds, keys stay apart by it).

    Raises:
        TypeError: an argument is not a Workload.
        ConfigError: no workload given.
    """
    if not workloads:
        msg = "merge() needs at least one workload"
        raise ConfigError(msg)
    for w in workloads:
        require_type(w, Workload, "workloads", "Workload objects")
    return _core.merge_workloads(list(workloads))


@dataclass(frozen=True)
class RefreshReport:
    """What `evaluate_refresh` measured.

    Attributes:
        points: one replay per method and parameter value.
        comparisons: the predictor's curve against each baseline's ("xfetch",
            "read_in_window") and against the best of both ("baselines"), at equal loader calls.
    """

    points: tuple[RefreshPoint, ...]
    comparisons: dict[str, CurveComparison]

    def curve(self, method: str) -> list[RefreshPoint]:
        """The points of `method`, by increasing loader calls."""
        return sorted((p for p in self.points if p.method == method), key=lambda p: p.loader_calls)

    @property
    def predictor_wins(self) -> bool:
        """True if the predictor's curve lies below the best baseline's wherever both reach."""
        return self.comparisons["baselines"].dominates


def evaluate_refresh(
    workload: Workload,
    *,
    ttl: float,
    margin: float | None = None,
    warmup: float = 0.0,
    loader_seconds: float | None = None,
    xfetch_betas: Iterable[float] = _BETAS,
    windows: Iterable[float] = _WINDOWS,
    thresholds: Iterable[float] = _THRESHOLDS,
    half_lives: tuple[float, float] | None = None,
    seed: int = 1,
) -> RefreshReport:
    """Replays refresh-ahead methods over `workload`: request-path misses vs loader calls.

    Entries live `ttl` seconds after a load, a refresh or a write (writes are write-through).
    Methods: "none"; "xfetch" per beta (a read refreshes early with XFetch's rule, delta =
    `loader_seconds`); "read_in_window" per window w (`margin` before expiry, refresh if read
    in the last w * ttl seconds; w = 1 is "read during its lifetime"); "predictor" per
    threshold (refresh if P(read between the expiry and a ttl after the decision) >= threshold;
    it starts untrained and learns online from its own decisions); "oracle" (refresh exactly
    when a read will use it: the ceiling, not realisable). Runs in C++ without the GIL.

    Args:
        workload: from `workload(...)` or `merge(...)`.
        ttl: seconds an entry lives.
        margin: seconds before expiry at which timer methods decide (default ttl / 60).
        warmup: seconds at the start that no counter includes (the predictor learns there).
        loader_seconds: XFetch's delta (default ttl / 100).
        xfetch_betas, windows, thresholds: the sweeps.
        half_lives: the predictor's short and long frequency half-lives (default ttl, 10 ttl).
        seed: XFetch's random draws.

    Raises:
        TypeError: an argument has the wrong type.
        ConfigError: a value is out of range (margin must be below ttl).
    """
    require_type(workload, Workload, "workload", "a Workload")
    o = _core.RefreshOptions()
    o.ttl = check_positive(ttl, "ttl")
    o.margin = o.ttl / 60 if margin is None else _non_negative(margin, "margin")
    o.warmup = _non_negative(warmup, "warmup")
    o.loader_seconds = (
        o.ttl / 100 if loader_seconds is None else check_positive(loader_seconds, "loader_seconds")
    )
    o.xfetch_betas = _positives(xfetch_betas, "xfetch_betas")
    o.windows = _positives(windows, "windows")
    o.thresholds = [_fraction(t, "thresholds") for t in _sequence(thresholds, "thresholds")]
    o.seed = _seed(seed)
    o.predictor = _predictor_options(half_lives or (o.ttl, 10 * o.ttl), 0.0, 100_000_000, 1)
    points = tuple(_core.evaluate_refresh(workload, o))
    ours = [p for p in points if p.method in ("none", "predictor")]
    comparisons = {
        name: compare_curves(ours, [p for p in points if p.method in methods])
        for name, methods in (
            ("xfetch", ("none", "xfetch")),
            ("read_in_window", ("none", "read_in_window")),
            ("baselines", ("none", "xfetch", "read_in_window")),
        )
    }
    return RefreshReport(points, comparisons)


def evaluate_warming(
    workload: Workload,
    *,
    restart_at: float,
    warm_keys: int,
    capacity: int | None = None,
    measure_reads: int | None = None,
    window_reads: int | None = None,
    sample_rate: float = 1.0,
    half_lives: tuple[float, float] | None = None,
) -> dict[str, WarmResult]:
    """Preloads `warm_keys` keys after a flush at `restart_at` and counts the hits that follow.

    Methods: "cold" (nothing), "most_recent" and "most_frequent" (of the last `window_reads`
    reads), "predictor" (the keys of highest P(read before as much time passes as the last
    `measure_reads` reads took)) and "oracle" (the keys the measured reads use most: the
    ceiling). The cache after the restart is an LRU of `capacity` entries. Runs in C++ without
    the GIL.

    Args:
        restart_at: seconds into the workload.
        warm_keys: N, keys each method preloads.
        capacity: entries after the restart (default N).
        measure_reads: reads after the restart that count (default N).
        window_reads: reads before the restart the baselines look at (default measure_reads).
        sample_rate: fraction of events at which the predictor takes a training observation
            (1.0: every event; fewer starve the model on short horizons).
        half_lives: the predictor's frequency half-lives in seconds (default: 1 and 10 times the
            workload's duration / 100).

    Returns:
        The result of each method, by name.

    Raises:
        TypeError: an argument has the wrong type.
        ConfigError: a value is out of range, capacity < warm_keys, or no read follows
            restart_at.
    """
    require_type(workload, Workload, "workload", "a Workload")
    o = _core.WarmOptions()
    o.restart_at = _non_negative(restart_at, "restart_at")
    o.warm_keys = check_bound(warm_keys, "warm_keys")
    o.capacity = check_bound(capacity, "capacity")
    o.measure_reads = check_bound(measure_reads, "measure_reads")
    o.window_reads = check_bound(window_reads, "window_reads")
    scale = max(workload.duration / 100, 1e-3)
    o.predictor = _predictor_options(
        half_lives or (scale, 10 * scale), _fraction(sample_rate, "sample_rate"), 100_000_000, 1
    )
    return {r.method: r for r in _core.evaluate_warming(workload, o)}


def evaluate_ttl(
    workload: Workload,
    *,
    staleness_budget: float,
    grid: Iterable[float] = _TTL_GRID,
    fit_fraction: float = 0.5,
) -> list[TtlReport]:
    """Recommends a TTL per namespace and checks it by replay against a grid search.

    Each namespace's read and write rates are measured over the first `fit_fraction` of its
    time span; the rest is replayed (a read hits while its entry is younger than the TTL and
    is stale if the key was written since the load) at the recommended TTL, at the linear rule
    2 * budget / write rate, and at every grid TTL. `best` is the grid TTL of highest hit
    ratio whose stale fraction fits the budget. Runs in C++ without the GIL.

    Raises:
        TypeError: an argument has the wrong type.
        ConfigError: budget or fit_fraction outside their ranges, or an empty grid.
    """
    require_type(workload, Workload, "workload", "a Workload")
    budget = _fraction(staleness_budget, "staleness_budget")
    ttls = _positives(grid, "grid")
    fit = _fraction(fit_fraction, "fit_fraction")
    return list(_core.evaluate_ttl(workload, budget, ttls, fit))


def recommend_ttl(
    workload: Workload, *, staleness_budget: float, namespace: int = 0
) -> TtlRecommendation:
    """The longest TTL whose predicted fraction of stale reads fits `staleness_budget`.

    The prediction models each key of the namespace as Poisson reads and writes at the rates
    seen in `workload`; keys never written never go stale.

    Raises:
        TypeError: an argument has the wrong type.
        ConfigError: the budget is outside [0, 1] or the namespace has no events.
    """
    require_type(workload, Workload, "workload", "a Workload")
    budget = _fraction(staleness_budget, "staleness_budget")
    return _core.recommend_ttl(workload, _namespace(namespace), budget)


class Predictor:
    """Per-key read predictions from recorded accesses. Experimental: off by default.

    Keys are ints (use a stable 64-bit hash of string keys). While `enabled` is False the
    predictor keeps the per-key statistics but trains no model: `warm_candidates` then returns
    the most recently seen keys (the heuristic it did not beat everywhere, see
    `bench/results/predict.json`), and `probabilities` refuses. Not thread-safe: one owner
    records and asks.

    Args:
        horizon: seconds; the model predicts a read within (now, now + horizon].
        max_keys: keys tracked at most (the least recently seen leaves first).
        half_lives: short and long half-lives of the decayed frequencies (default horizon and
            10 horizons).
        sample_rate: fraction of recorded events at which one tracked key becomes a training
            observation.
        enabled: train the model and use it.
        seed: the sampling's random draws.

    Raises:
        TypeError: an argument has the wrong type.
        ConfigError: a value is out of range.
    """

    def __init__(
        self,
        *,
        horizon: float,
        max_keys: int = 100_000,
        half_lives: tuple[float, float] | None = None,
        sample_rate: float = 0.1,
        enabled: bool = False,
        seed: int = 1,
    ) -> None:
        require_type(enabled, bool, "enabled", "a bool")
        h = check_positive(horizon, "horizon")
        rate = _fraction(sample_rate, "sample_rate") if enabled else 0.0
        o = _predictor_options(
            half_lives or (h, 10 * h), rate, check_bound(max_keys, "max_keys"), _seed(seed)
        )
        o.horizon = h
        self._enabled = enabled
        self._native = _core.AccessPredictor(o)

    @property
    def enabled(self) -> bool:
        """Whether the model is trained and used."""
        return self._enabled

    @property
    def tracked(self) -> int:
        """Keys currently tracked."""
        return self._native.tracked

    @property
    def trained(self) -> int:
        """Labelled observations the model has learned from."""
        return self._native.trained

    @property
    def bytes_per_key(self) -> float:
        """Heap bytes the statistics hold per tracked key (slots and index by capacity)."""
        return self._native.bytes_per_key

    def record(
        self, keys: Sequence[int], times: Sequence[float], writes: Sequence[bool] | None = None
    ) -> None:
        """Records reads (or writes, where `writes[i]`) of `keys[i]` at `times[i]` seconds.

        Times never go back, across calls too. Training happens inside, in C++, without the GIL.

        Raises:
            TypeError: keys are not ints or times not numbers.
            ConfigError: lengths differ, or a time is earlier than the one before.
        """
        flags = [] if writes is None else writes
        try:
            self._native.record_batch(keys, times, flags)
        except TypeError:
            # pybind11's message names no argument; validate only on this slow path.
            _ints(keys, "keys")
            _numbers(times, "times")
            _bools(flags, "writes")
            raise

    def probabilities(self, keys: Sequence[int], now: float) -> list[float]:
        """P(read within the horizon) of each key at `now`.

        Raises:
            ConfigError: the predictor is not enabled.
            TypeError: keys are not ints or now is not a number.
        """
        if not self._enabled:
            msg = "Predictor(enabled=False) trains no model; pass enabled=True (experimental)"
            raise ConfigError(msg)
        at = _number(now, "now")
        try:
            return self._native.probabilities(keys, at)
        except TypeError:
            _ints(keys, "keys")
            raise

    def expected_next_read(self, key: int, now: float) -> float | None:
        """Seconds from `now` to the key's expected next read (None: fewer than two reads).

        From its inter-arrival statistics, enabled or not; an overdue key is expected as late
        again as it already is.

        Raises:
            TypeError: key is not an int or now is not a number.
        """
        require_type(key, int, "key", "an int")
        return self._native.expected_next_read(key, _number(now, "now"))

    def warm_candidates(self, n: int, now: float) -> list[int]:
        """The `n` tracked keys to preload after a restart, best first.

        Enabled: highest predicted probability of a read within the horizon. Disabled: the
        most recently seen keys.

        Raises:
            TypeError: n is not an int or now is not a number.
            ConfigError: n <= 0.
        """
        return self._native.top_keys(check_bound(n, "n"), _number(now, "now"))


def _predictor_options(
    half_lives: object, sample_rate: float, max_keys: int, seed: int
) -> _core.PredictorOptions:
    if not isinstance(half_lives, tuple) or len(half_lives) != 2:
        msg = "half_lives must be a tuple (short, long) of seconds"
        raise TypeError(msg)
    o = _core.PredictorOptions()
    o.half_life_short = check_positive(half_lives[0], "half_lives[0]")
    o.half_life_long = check_positive(half_lives[1], "half_lives[1]")
    o.sample_rate = sample_rate
    o.max_keys = max_keys
    o.seed = seed
    return o


def _number(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, Real):
        msg = f"{name} must be a number, not {type(value).__name__}"
        raise TypeError(msg)
    return float(value)


def _non_negative(value: object, name: str) -> float:
    number = _number(value, name)
    if not 0 <= number < math.inf:
        msg = f"{name} must be >= 0 and finite, got {number!r}"
        raise ConfigError(msg)
    return number


def _fraction(value: object, name: str) -> float:
    number = _number(value, name)
    if not 0 <= number <= 1:
        msg = f"{name} must be in [0, 1], got {number!r}"
        raise ConfigError(msg)
    return number


def _sequence(values: object, name: str) -> list[object]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        msg = f"{name} must be an iterable of numbers, not {type(values).__name__}"
        raise TypeError(msg)
    return list(values)


def _positives(values: object, name: str) -> list[float]:
    out = [check_positive(v, name) for v in _sequence(values, name)]
    if not out:
        msg = f"{name} must not be empty"
        raise ConfigError(msg)
    return out


def _numbers(values: object, name: str) -> list[float]:
    return [_number(v, name) for v in _sequence(values, name)]


def _ints(values: object, name: str) -> list[int]:
    out: list[int] = []
    for v in _sequence(values, name):
        require_type(v, int, name, "a sequence of ints")
        assert isinstance(v, int)
        out.append(v)
    return out


def _bools(values: object, name: str) -> None:
    for v in _sequence(values, name):
        require_type(v, bool, name, "a sequence of bools")


def _seed(seed: object) -> int:
    require_type(seed, int, "seed", "an int")
    assert isinstance(seed, int)
    if not 0 <= seed < 2**64:
        msg = f"seed must be in [0, 2**64), got {seed}"
        raise ConfigError(msg)
    return seed


def _namespace(namespace: object) -> int:
    require_type(namespace, int, "namespace", "an int")
    assert isinstance(namespace, int)
    if not 0 <= namespace < 2**16:
        msg = f"namespace must be in [0, 65535], got {namespace}"
        raise ConfigError(msg)
    return namespace
