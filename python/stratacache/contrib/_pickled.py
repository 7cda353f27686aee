"""Values as the framework backends store them: pickled, except ints (kept for `incr`).

Django's and cachelib's backends pickle what they cache, so a later change to the object
does not reach the cached copy and any picklable object can be cached; ints stay ints so
that `Cache.incr` can add to them (in Redis too), as Django's RedisCache keeps them.
"""

from __future__ import annotations

import pickle
from typing import Any

__all__ = ["dumps", "loads", "same"]


def dumps(value: Any) -> Any:
    """`value` as stored: the int itself, else its pickle."""
    return value if type(value) is int else pickle.dumps(value, pickle.HIGHEST_PROTOCOL)


def loads(data: Any) -> Any:
    """The value `dumps` stored."""
    # Unpickles what the backend wrote: Redis is trusted as Django's RedisCache trusts it.
    return data if type(data) is int else pickle.loads(data)


def same(value: Any) -> Any:
    """No serialization (OPTIONS pickle=False): L1 keeps the object itself."""
    return value
