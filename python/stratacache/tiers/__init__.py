"""The tiers below L1: Redis (L2) for now. Users configure them through `Cache(redis=...)`
and `RedisOptions`; the modules here are the machinery.

`RedisOptions` loads on first use: `tiers.local` and `tiers.chain` serve every L1-only cache,
and importing them must not load the Redis configuration (urllib, dataclasses; issue 17)."""

from __future__ import annotations

from .._lazy import lazy_getattr

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    from .redis.config import RedisOptions

__all__ = ["RedisOptions"]

__getattr__ = lazy_getattr(__name__, {"RedisOptions": "redis.config"}, globals())
