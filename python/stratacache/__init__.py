"""stratacache: a multi-tier cache for Python with a C++ core.

Quick start::

    import stratacache

    @stratacache.cache(ttl=60)
    def load_user(user_id: int) -> dict: ...

    cache = stratacache.Cache(max_entries=10_000, default_ttl=300)
    cache.set("k", {"v": 1})
"""

# No `from __future__ import annotations` (importing __future__ costs more than this file).
# Not `from typing import TYPE_CHECKING`: typing alone costs ~2 ms. Type checkers treat any
# name TYPE_CHECKING as true, so mypy and IDEs see every name imported below.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from . import predict
    from ._autottl import AutoTTL
    from ._default import cache, configure
    from ._policies import DEFAULT_POLICY, POLICIES
    from ._predictor_live import PredictorOptions
    from ._recommend import NamespaceRecommendation, Recommendations
    from ._refresh_options import RefreshAhead, RefreshStats
    from ._warm import WarmReport
    from ._warmer import StrategyStats, Warmer
    from .caches import AsyncCache, Cache
    from .codec import Codec, CodecEntry
    from .errors import (
        BackupError,
        CodecError,
        ConfigError,
        CorruptDataError,
        DataTooLargeError,
        DiskError,
        InvalidTTLError,
        MissingExtraError,
        RedisAuthError,
        RedisTLSError,
        SerializationError,
        StratacacheError,
        TamperedDataError,
        TierUnavailableError,
        TraceIOError,
        UnknownVersionError,
        ValueTooLargeError,
    )
    from .health import Health, TierHealth
    from .mrc import MissRatioCurve, miss_ratio_curve
    from .simulation import SimulationResult, simulate
    from .stats import CacheStats, DiskTierStats, LatencyStats, NamespaceStats, RedisTierStats
    from .tiers.disk.options import DiskOptions
    from .tiers.redis.breaker import BreakerConfig
    from .tiers.redis.config import RedisOptions

from ._lazy import lazy_dir, lazy_getattr

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_POLICY",
    "POLICIES",
    "AsyncCache",
    "AutoTTL",
    "BackupError",
    "BreakerConfig",
    "Cache",
    "CacheStats",
    "Codec",
    "CodecEntry",
    "CodecError",
    "ConfigError",
    "CorruptDataError",
    "DataTooLargeError",
    "DiskError",
    "DiskOptions",
    "DiskTierStats",
    "Health",
    "InvalidTTLError",
    "LatencyStats",
    "MissRatioCurve",
    "MissingExtraError",
    "NamespaceRecommendation",
    "NamespaceStats",
    "PredictorOptions",
    "Recommendations",
    "RedisAuthError",
    "RedisOptions",
    "RedisTLSError",
    "RedisTierStats",
    "RefreshAhead",
    "RefreshStats",
    "SerializationError",
    "SimulationResult",
    "StratacacheError",
    "StrategyStats",
    "TamperedDataError",
    "TierHealth",
    "TierUnavailableError",
    "TraceIOError",
    "UnknownVersionError",
    "ValueTooLargeError",
    "WarmReport",
    "Warmer",
    "__version__",
    "cache",
    "configure",
    "miss_ratio_curve",
    "predict",
    "simulate",
]

# Every public name loads on first use (PEP 562), so `import stratacache` costs well under a
# millisecond and a program pays only for what it touches (issue 17): `Cache` loads the L1
# path, not the Redis, disk, predictor, codec or analysis modules, which load when a cache
# that uses them is built. tests_py/test_imports.py keeps it so.
_HOMES = {
    "DEFAULT_POLICY": "_policies",
    "POLICIES": "_policies",
    "AutoTTL": "_autottl",
    "cache": "_default",
    "configure": "_default",
    "PredictorOptions": "_predictor_live",
    "NamespaceRecommendation": "_recommend",
    "Recommendations": "_recommend",
    "RefreshAhead": "_refresh_options",
    "RefreshStats": "_refresh_options",
    "WarmReport": "_warm",
    "StrategyStats": "_warmer",
    "Warmer": "_warmer",
    "AsyncCache": "caches",
    "Cache": "caches",
    "Codec": "codec",
    "CodecEntry": "codec",
    "codec": "codec",
    **dict.fromkeys(
        (
            "BackupError",
            "CodecError",
            "ConfigError",
            "CorruptDataError",
            "DataTooLargeError",
            "DiskError",
            "InvalidTTLError",
            "MissingExtraError",
            "RedisAuthError",
            "RedisTLSError",
            "SerializationError",
            "StratacacheError",
            "TamperedDataError",
            "TierUnavailableError",
            "TraceIOError",
            "UnknownVersionError",
            "ValueTooLargeError",
        ),
        "errors",
    ),
    "Health": "health",
    "TierHealth": "health",
    "MissRatioCurve": "mrc",
    "miss_ratio_curve": "mrc",
    "SimulationResult": "simulation",
    "simulate": "simulation",
    "simulation": "simulation",
    "predict": "predict",
    **dict.fromkeys(
        ("CacheStats", "DiskTierStats", "LatencyStats", "NamespaceStats", "RedisTierStats"), "stats"
    ),
    "DiskOptions": "tiers.disk.options",
    "BreakerConfig": "tiers.redis.breaker",
    "RedisOptions": "tiers.redis.config",
}
__getattr__ = lazy_getattr(__name__, _HOMES, globals())
__dir__ = lazy_dir(_HOMES, globals())
