"""Must produce exactly the errors marked `# E:` on their lines (mypy --strict)."""

from __future__ import annotations

import stratacache


@stratacache.cache
def load(user_id: int) -> str:
    return str(user_id)


class Catalog:
    @stratacache.cache
    def price(self, item: int) -> float:
        return float(item)


# fmt: off
load("1")  # E: Argument 1 to "__call__" of "CachedFunction" has incompatible type "str"; expected "int"  [arg-type]
load.invalidate(1, 2)  # E: Too many arguments for "invalidate" of "CachedFunction"  [call-arg]
x: int = load(1)  # E: Incompatible types in assignment (expression has type "str", variable has type "int")  [assignment]
Catalog().price("a")  # E: Argument 1 to "__call__" of "CachedFunction" has incompatible type "str"; expected "int"  [arg-type]
Catalog().price.invalidate()  # E: Missing positional argument "item" in call to "invalidate" of "CachedFunction"  [call-arg]
stratacache.cache(ttl="5")  # E: No overload variant of "cache" matches argument type "str"  [call-overload]
# fmt: on
