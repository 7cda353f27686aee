"""stratacache: a multi-tier cache for Python with a C++ core.

Quick start::

    import stratacache

    @stratacache.cache(ttl=60)
    def load_user(user_id: int) -> dict: ...

    cache = stratacache.Cache(max_entries=10_000, default_ttl=300)
    cache.set("k", {"v": 1})
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import _core
from ._autottl import AutoTTL
from ._default import cache, configure
from ._lazy import lazy_getattr
from ._predictor_live import PredictorOptions
from ._recommend import NamespaceRecommendation, Recommendations
from ._refresh_options import RefreshAhead, RefreshStats
from ._warm import WarmReport
from .caches import AsyncCache, Cache
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
from .stats import CacheStats, DiskTierStats, LatencyStats, NamespaceStats, RedisTierStats
from .tiers import RedisOptions
from .tiers.disk import DiskOptions
from .tiers.redis.breaker import BreakerConfig

if TYPE_CHECKING:
    from . import predict
    from ._warmer import StrategyStats, Warmer
    from .codec import Codec, CodecEntry
    from .simulation import SimulationResult, simulate

# Loaded on first use, so `import stratacache` pays only for what a cache needs (issue 17:
# the codec's pickle/orjson/zoneinfo, the predictor's replays and the simulator are not).
_HOMES = {
    "Codec": "codec",
    "CodecEntry": "codec",
    "codec": "codec",
    "SimulationResult": "simulation",
    "simulate": "simulation",
    "simulation": "simulation",
    "predict": "predict",
    "StrategyStats": "_warmer",
    "Warmer": "_warmer",
}
__getattr__ = lazy_getattr(__name__, _HOMES, globals())

#: Names of the eviction policies, usable as `Cache(policy=...)` and `simulate(policy=...)`.
POLICIES: tuple[str, ...] = tuple(_core.policy_names())
#: The policy used when none is given.
DEFAULT_POLICY: str = _core.DEFAULT_POLICY

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
