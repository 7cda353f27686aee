"""The tiers below L1: Redis (L2) for now. Users configure them through `Cache(redis=...)`
and `RedisOptions`; the modules here are the machinery."""

from .redis.config import RedisOptions

__all__ = ["RedisOptions"]
