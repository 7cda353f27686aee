"""The predictor's Python API: workloads, the three evaluations, Predictor, validation."""

from __future__ import annotations

from pathlib import Path

import pytest

import stratacache
from stratacache import ConfigError, predict
from stratacache._refresh_curves import compare_curves, frontier

TRACES = Path(__file__).resolve().parents[2] / "shared" / "traces"


@pytest.fixture(scope="module")
def periodic() -> predict.Workload:
    return predict.workload(
        "periodic", keys=300, duration=20_000, period_min=20, period_max=2000, seed=3
    )


def test_workloads_are_seeded_and_sized() -> None:
    a = predict.workload("bursty", keys=50, duration=2000, seed=1)
    b = predict.workload("bursty", keys=50, duration=2000, seed=1)
    assert a.size == b.size > 0
    assert a.keys <= 50
    assert a.duration == 2000
    with_writes = predict.workload("bursty", keys=50, duration=2000, seed=1, update_interval=100)
    assert with_writes.size > a.size
    for kind in predict.WORKLOAD_KINDS:
        if kind != "trace":
            assert predict.workload(kind, keys=20, duration=1000, rate=5).size > 0


def test_merge_keeps_every_event() -> None:
    a = predict.workload("periodic", keys=20, duration=1000)
    b = predict.workload("diurnal", keys=20, duration=1000, rate=5, namespace=1)
    merged = predict.merge(a, b)
    assert merged.size == a.size + b.size
    assert merged.keys == a.keys + b.keys


@pytest.mark.skipif(not (TRACES / "gli.txt.gz").exists(), reason="shared traces not found")
def test_trace_workload_gets_a_clock() -> None:
    w = predict.workload("trace", trace_path=TRACES / "gli.txt.gz", rate=10, max_requests=500)
    assert w.size == 500
    assert 0 < w.duration < 200


def test_refresh_report_has_every_curve_and_comparisons(periodic: predict.Workload) -> None:
    report = predict.evaluate_refresh(
        periodic,
        ttl=200,
        warmup=5000,
        xfetch_betas=[1, 100],
        windows=[0.5, 2],
        thresholds=[0.2, 0.8],
    )
    methods = {p.method for p in report.points}
    assert methods == {"none", "xfetch", "read_in_window", "predictor", "oracle"}
    (none,) = report.curve("none")
    assert none.refreshes == 0
    assert none.loader_calls == none.misses
    assert all(p.gets == none.gets for p in report.points)
    curve = report.curve("predictor")
    assert [p.parameter for p in curve] == [0.8, 0.2]  # more eager, more loader calls
    assert curve[1].misses < curve[0].misses < none.misses
    assert set(report.comparisons) == {"xfetch", "read_in_window", "baselines"}
    assert isinstance(report.predictor_wins, bool)
    assert report.comparisons["baselines"].points > 0


class _P:
    def __init__(self, loader_calls: int, misses: int) -> None:
        self.loader_calls = loader_calls
        self.misses = misses


def test_curve_comparison_on_handmade_curves() -> None:
    # Pareto points, with the dominated (12, 9) dropped and the hull skipping (15, 8).
    assert frontier([_P(10, 10), _P(12, 9), _P(11, 5), _P(15, 8), _P(20, 0)]) == [
        (10.0, 10.0),
        (11.0, 5.0),
        (20.0, 0.0),
    ]
    ours = [_P(10, 10), _P(12, 2), _P(20, 0)]
    theirs = [_P(10, 10), _P(20, 0)]
    better = compare_curves(ours, theirs)
    assert better.dominates
    assert better.loader_range == (10.0, 20.0)
    assert better.above == 0
    assert 0 < better.mean_miss_reduction <= 1
    worse = compare_curves(theirs, ours)
    assert not worse.dominates
    assert worse.worst_miss_reduction < 0


def test_warming_methods_and_ceiling(periodic: predict.Workload) -> None:
    results = predict.evaluate_warming(periodic, restart_at=15_000, warm_keys=50)
    assert set(results) == {"cold", "most_recent", "most_frequent", "predictor", "oracle"}
    assert all(r.reads == 50 for r in results.values())
    assert results["cold"].preloaded == 0
    assert results["predictor"].preloaded == 50
    assert all(r.hits <= results["oracle"].hits for r in results.values())
    wider = predict.evaluate_warming(periodic, restart_at=15_000, warm_keys=50, window_reads=500)
    assert wider["most_frequent"].preloaded == 50


def test_ttl_recommendation_respects_a_larger_budget() -> None:
    w = predict.merge(
        predict.workload(
            "diurnal", keys=100, duration=4000, rate=10, amplitude=0, update_interval=300
        ),
        predict.workload(
            "diurnal",
            keys=100,
            duration=4000,
            rate=10,
            amplitude=0,
            update_interval=3000,
            namespace=1,
            seed=2,
        ),
    )
    tight = predict.recommend_ttl(w, staleness_budget=0.01)
    loose = predict.recommend_ttl(w, staleness_budget=0.1)
    assert tight.ttl < loose.ttl
    assert tight.predicted_stale_fraction == pytest.approx(0.01, abs=1e-6)
    assert predict.recommend_ttl(w, staleness_budget=0.01, namespace=1).ttl > tight.ttl
    reports = predict.evaluate_ttl(w, staleness_budget=0.02, grid=[1, 10, 100])
    assert [r.ns for r in reports] == [0, 1]
    for r in reports:
        assert len(r.grid) == 3
        assert r.best.ttl in (1, 10, 100)
        assert 0 <= r.at_recommended.stale_fraction <= 1
    with pytest.raises(ConfigError, match="empty"):
        predict.recommend_ttl(w, staleness_budget=0.01, namespace=7)


def _steady_reads(until: float) -> tuple[list[int], list[float]]:
    """Key 1 read every 10 s, key 2 every 500 s."""
    events = [(t, 1) for t in range(0, int(until), 10)] + [
        (t, 2) for t in range(5, int(until), 500)
    ]
    events.sort()
    return [k for _, k in events], [float(t) for t, _ in events]


def test_predictor_is_off_by_default_and_falls_back_to_recency() -> None:
    p = predict.Predictor(horizon=60)
    assert not p.enabled
    keys, times = _steady_reads(5000)
    p.record(keys, times)
    assert p.trained == 0
    assert p.tracked == 2
    assert p.warm_candidates(1, 5000) == [keys[-1]]  # most recently seen
    assert p.expected_next_read(1, times[-1]) == pytest.approx(10)
    with pytest.raises(ConfigError, match="enabled=True"):
        p.probabilities([1], 5000)


def test_enabled_predictor_learns_which_key_comes_back() -> None:
    p = predict.Predictor(horizon=60, half_lives=(30, 600), sample_rate=1.0, enabled=True)
    keys, times = _steady_reads(19_706)
    p.record(keys[: len(keys) // 2], times[: len(times) // 2])
    p.record(
        keys[len(keys) // 2 :], times[len(times) // 2 :], [False] * (len(keys) - len(keys) // 2)
    )
    assert p.trained > 1000
    frequent, rare = p.probabilities([1, 2], 19_705)
    assert frequent > 0.8
    assert rare < 0.3
    assert p.warm_candidates(2, 19_705) == [1, 2]
    assert p.bytes_per_key > 0


def test_predictor_validates_its_input() -> None:
    p = predict.Predictor(horizon=60)
    with pytest.raises(ConfigError, match="differ in length"):
        p.record([1, 2], [0.0])
    with pytest.raises(ConfigError, match="never go back"):
        p.record([1, 2], [5.0, 4.0])
    p.record([1], [10.0])
    with pytest.raises(ConfigError, match="never go back"):
        p.record([1], [9.0])
    with pytest.raises(TypeError, match="keys"):
        p.record(["a"], [11.0])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="times"):
        p.record([1], ["now"])  # type: ignore[list-item]
    with pytest.raises(ConfigError, match="horizon"):
        predict.Predictor(horizon=0)
    with pytest.raises(TypeError, match="enabled"):
        predict.Predictor(horizon=1, enabled=1)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="n must be > 0"):
        p.warm_candidates(0, 1.0)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: predict.workload("weekly"), ConfigError, "kind must be one of"),
        (lambda: predict.workload("periodic", keys=0), ConfigError, "keys"),
        (lambda: predict.workload("periodic", duration=-1), ConfigError, "duration"),
        (lambda: predict.workload("periodic", jitter=2), ConfigError, "jitter"),
        (
            lambda: predict.workload("periodic", period_min=10, period_max=5),
            ConfigError,
            "period_max",
        ),
        (lambda: predict.workload("trace"), ConfigError, "trace_path"),
        (lambda: predict.workload("periodic", trace_path="x"), ConfigError, "trace_path"),
        (lambda: predict.workload("periodic", namespace=70_000), ConfigError, "namespace"),
        (lambda: predict.workload("periodic", seed=-1), ConfigError, "seed"),
        (lambda: predict.workload("periodic", rate="fast"), TypeError, "rate"),
        (predict.merge, ConfigError, "at least one"),
        (lambda: predict.merge("w"), TypeError, "Workload"),  # type: ignore[arg-type]
    ],
)
def test_workload_validation(call: object, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        call()  # type: ignore[operator]


def test_evaluation_validation(periodic: predict.Workload) -> None:
    with pytest.raises(TypeError, match="workload"):
        predict.evaluate_refresh("w", ttl=10)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="ttl"):
        predict.evaluate_refresh(periodic, ttl=0)
    with pytest.raises(ConfigError, match="margin"):
        predict.evaluate_refresh(periodic, ttl=10, margin=10)
    with pytest.raises(ConfigError, match="thresholds"):
        predict.evaluate_refresh(periodic, ttl=10, thresholds=[1.5])
    with pytest.raises(ConfigError, match="windows must not be empty"):
        predict.evaluate_refresh(periodic, ttl=10, windows=[])
    with pytest.raises(TypeError, match="half_lives"):
        predict.evaluate_refresh(periodic, ttl=10, half_lives=[1, 2])  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="capacity"):
        predict.evaluate_warming(periodic, restart_at=100, warm_keys=10, capacity=5)
    with pytest.raises(ConfigError, match="no read after"):
        predict.evaluate_warming(periodic, restart_at=1e9, warm_keys=10)
    with pytest.raises(ConfigError, match="staleness_budget"):
        predict.evaluate_ttl(periodic, staleness_budget=2)
    with pytest.raises(ConfigError, match="grid"):
        predict.evaluate_ttl(periodic, staleness_budget=0.1, grid=[])
    with pytest.raises(ConfigError, match="fit_fraction"):
        predict.evaluate_ttl(periodic, staleness_budget=0.1, fit_fraction=1.0)


def test_exports() -> None:
    assert "predict" in stratacache.__all__
    assert stratacache.predict is predict
    for name in predict.__all__:
        assert getattr(predict, name) is not None
