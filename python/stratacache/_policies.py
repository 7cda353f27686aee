"""The eviction policies' names, read from the C++ core when first asked for
(`stratacache.POLICIES`, `stratacache.DEFAULT_POLICY`)."""

from __future__ import annotations

from . import _core

__all__ = ["DEFAULT_POLICY", "POLICIES"]

#: Names of the eviction policies, usable as `Cache(policy=...)` and `simulate(policy=...)`.
POLICIES: tuple[str, ...] = tuple(_core.policy_names())
#: The policy used when none is given.
DEFAULT_POLICY: str = _core.DEFAULT_POLICY
