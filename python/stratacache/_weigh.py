"""How values are weighed for the `max_bytes` bound.

The weight of an entry is `len(key.encode())` plus an estimate of the value's memory:
`sys.getsizeof` of the value, plus, for list/tuple/set/frozenset/dict, the recursive weight of
their items down to `MAX_DEPTH` levels and at most `MAX_ITEMS` items per container (the rest is
extrapolated from the mean of those weighed). Objects shared between values are counted in each.
Pass `weigher=` to a cache to use your own function (value -> int bytes).
"""

from __future__ import annotations

import sys
from typing import Any

MAX_DEPTH = 4
MAX_ITEMS = 256


def weigh(value: Any, depth: int = 0) -> int:
    """Estimated bytes of `value`, bounded in work by MAX_DEPTH and MAX_ITEMS."""
    size = sys.getsizeof(value)
    if depth >= MAX_DEPTH:
        return size
    if isinstance(value, dict):
        items: list[Any] = []
        for i, (k, v) in enumerate(value.items()):
            if i >= MAX_ITEMS // 2:
                break
            items.extend((k, v))
        total = len(value) * 2
    elif isinstance(value, (list, tuple, set, frozenset)):
        items = []
        for i, item in enumerate(value):
            if i >= MAX_ITEMS:
                break
            items.append(item)
        total = len(value)
    else:
        return size
    if not items:
        return size
    weighed = sum(weigh(item, depth + 1) for item in items)
    return size + weighed * total // len(items)
