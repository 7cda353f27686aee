"""`cache.recommendations()`: per namespace, the TTL in force and the one the estimator
would choose, with its predicted hit ratio and stale share, and the L1 size the live
miss-ratio curve says a target hit ratio needs."""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Real
from typing import Any

from ._autottl import AutoTTL
from .errors import ConfigError

__all__ = ["NamespaceRecommendation", "Recommendations", "recommendations"]


@dataclass(frozen=True)
class NamespaceRecommendation:
    """What the estimator says of one namespace.

    Attributes:
        namespace: the namespace ("" for the unnamed one).
        current_ttl: the TTL in force in seconds (None: no expiry, or not known: a set with
            an explicit ttl).
        auto: True when an AutoTTL governs it (`current_ttl` is then the one it applies).
        recommended_ttl: the highest-hit-ratio TTL whose predicted stale share fits the budget
            (the AutoTTL's, else `max_stale`), inside the AutoTTL's bounds (else 1 s to a day).
        predicted_hit_ratio: the share of the sampled reads that would hit at recommended_ttl
            (L1 evictions aside: see `Recommendations.l1_entries_for_target`).
        predicted_stale_share: the share of reads predicted stale at recommended_ttl.
        sampled_reads: reads of sampled keys the prediction replays.
        change_observations: reloads compared and inter-change intervals seen; with none,
            staleness is predicted as zero and the recommendation is the upper bound.
    """

    namespace: str
    current_ttl: float | None
    auto: bool
    recommended_ttl: float
    predicted_hit_ratio: float
    predicted_stale_share: float
    sampled_reads: int
    change_observations: int


@dataclass(frozen=True)
class Recommendations:
    """`cache.recommendations()`.

    Attributes:
        namespaces: one entry per namespace the cache has seen reads or loads of, by name.
        target_hit_ratio: the hit ratio `l1_entries_for_target` is for.
        l1_entries_for_target: the smallest L1 (entries, whole cache, the cache's policy)
            whose hit ratio on the recorded reads reaches the target; None when no size of the
            curve does, or nothing was recorded yet.
        max_stale: the budget used for namespaces without an AutoTTL.
    """

    namespaces: dict[str, NamespaceRecommendation]
    target_hit_ratio: float
    l1_entries_for_target: int | None
    max_stale: float


def _fraction(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, Real):
        msg = f"{name} must be a number, not {type(value).__name__}"
        raise TypeError(msg)
    number = float(value)
    if not 0 < number < 1:
        msg = f"{name} must be in (0, 1), got {number!r}"
        raise ConfigError(msg)
    return number


def recommendations(cache: Any, target_hit_ratio: object, max_stale: object) -> Recommendations:
    """The body of `Cache.recommendations` (blocking: it drains the recorder).

    Raises:
        TypeError: an argument is not a number.
        ConfigError: an argument outside (0, 1), or the cache records nothing.
    """
    target = _fraction(target_hit_ratio, "target_hit_ratio")
    budget = _fraction(max_stale, "max_stale")
    tuner = cache._autottl
    if tuner is None:
        msg = (
            "recommendations() learns from the access recording: create the cache with "
            "record=<sample rate> or default_ttl=AutoTTL(...)"
        )
        raise ConfigError(msg)
    tuner.drain()
    fixed = AutoTTL(max_stale=budget)
    out: dict[str, NamespaceRecommendation] = {}
    for state in tuner.states():
        auto = state.auto or fixed
        with tuner.lock:
            best = state.estimator.recommend(auto, None)
            seen = state.estimator.observations
        out[state.name] = NamespaceRecommendation(
            namespace=state.name,
            current_ttl=state.ttl,
            auto=state.auto is not None,
            recommended_ttl=best.ttl,
            predicted_hit_ratio=best.hit_ratio,
            predicted_stale_share=best.stale_share,
            sampled_reads=best.reads,
            change_observations=seen,
        )
    curve = cache._miss_ratio_curve(cache.policy, None)
    size = curve.size_for(target) if len(curve.sizes) else None
    return Recommendations(out, target, size, budget)
