"""The public shape of a function the `cache` decorator returns: its protocols and CacheInfo.

`decorators` builds them; these types are what users and mypy see (`CachedFunction`,
`AsyncCachedFunction`, `Decorator`), and `CacheHooks` is what a cache offers the decorator.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import (
    TYPE_CHECKING,
    Any,
    Concatenate,
    NamedTuple,
    ParamSpec,
    Protocol,
    TypeVar,
    overload,
)

if TYPE_CHECKING:
    from typing_extensions import Self

    from ._warm import WarmReport


__all__ = ["AsyncCachedFunction", "CacheInfo", "CachedFunction", "Decorator"]

P = ParamSpec("P")
P2 = ParamSpec("P2")
R = TypeVar("R")
S = TypeVar("S")


class CacheInfo(NamedTuple):
    """Counters of one decorated function.

    hits: calls answered from the cache (counted on the hit path by an `itertools.count`).
    misses: calls that did not find a value; each either ran the function or waited for a
    concurrent call of the same key to run it. loader_calls: times the function ran.
    in_flight: keys whose function call is under way now. unencodable: results the Redis
    tier's codec could not encode, kept in this process's L1 only (logged, rate-limited).
    maxsize, currsize: as in `functools.lru_cache`: the cache's max_entries (None when only
    max_bytes bounds it) and how many entries of this function L1 holds now (None with
    ``key=``, whose keys have no common prefix). `cache_clear` restarts the counters.
    """

    hits: int
    misses: int
    loader_calls: int
    in_flight: int
    unencodable: int = 0
    maxsize: int | None = None
    currsize: int | None = None


class CachedFunction(Protocol[P, R]):
    """A decorated function: the function's own signature plus cache controls."""

    __wrapped__: Callable[P, R]

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R: ...

    def invalidate(self, *args: P.args, **kwargs: P.kwargs) -> bool:
        """Deletes the entry of these arguments from every tier and process (with a Redis tier,
        as `Cache.delete` does); True if it existed. A method's: called through the instance."""
        ...

    def cache_info(self) -> CacheInfo:
        """This function's counters."""
        ...

    def cache_clear(self) -> None:
        """Deletes every entry of this function from every tier and process (one pattern
        invalidation) and restarts its counters, as `functools.lru_cache`'s does."""
        ...

    def warm(self, n: int | None = None, concurrency: int = 4) -> WarmReport:
        """Loads the predicted-hot calls L1 lacks, `concurrency` at a time (threads); needs a
        cache with predictor=. See `stratacache._warm_calls.warm_calls`."""
        ...

    @overload
    def __get__(self, instance: None, owner: type[Any] | None = None, /) -> Self: ...
    @overload
    def __get__(
        self: CachedFunction[Concatenate[S, P2], R],
        instance: S,
        owner: type[Any] | None = None,
        /,
    ) -> CachedFunction[P2, R]: ...


class AsyncCachedFunction(Protocol[P, R]):
    """A decorated ``async def``: awaiting a call gives R; `invalidate` is awaited too."""

    __wrapped__: Callable[P, Coroutine[Any, Any, R]]

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> Coroutine[Any, Any, R]: ...

    def invalidate(self, *args: P.args, **kwargs: P.kwargs) -> Awaitable[bool]:
        """Deletes the entry of these arguments from every tier and process; await it for the
        Redis delete and its message (L1 is cleared before it returns). True if it existed."""
        ...

    def cache_info(self) -> CacheInfo:
        """This function's counters."""
        ...

    def cache_clear(self) -> Awaitable[None]:
        """Like `CachedFunction.cache_clear`; L1 at once, the lower tiers when awaited."""
        ...

    def warm(self, n: int | None = None, concurrency: int = 4) -> Coroutine[Any, Any, WarmReport]:
        """Like `CachedFunction.warm`; the calls run as tasks, `concurrency` at a time."""
        ...

    @overload
    def __get__(self, instance: None, owner: type[Any] | None = None, /) -> Self: ...
    @overload
    def __get__(
        self: AsyncCachedFunction[Concatenate[S, P2], R],
        instance: S,
        owner: type[Any] | None = None,
        /,
    ) -> AsyncCachedFunction[P2, R]: ...


class CacheHooks(Protocol):
    """What the decorator needs from Cache/AsyncCache: plain sync calls, L1 never blocks."""

    namespace: str
    _tier: Any  # the TierState, None without a tier
    _max_entries: int | None

    def _getter(self, namespace: str) -> Callable[..., Any]: ...
    def _setter(self, namespace: str) -> Callable[..., None]: ...
    def _delete(self, namespace: str, key: str) -> bool: ...
    def _l1_delete(self, namespace: str, key: str) -> bool: ...
    async def _delete_async(self, namespace: str, key: str) -> bool: ...
    def _l1_count(self, namespace: str, head: str) -> int: ...
    def _l1_drop_pattern(self, namespace: str, pattern: str) -> None: ...
    def _drop_pattern(self, namespace: str, pattern: str) -> None: ...
    async def _drop_pattern_async(self, namespace: str, pattern: str) -> None: ...
    def _tier_loader(self, namespace: str) -> Callable[..., Any] | None: ...
    def _link(self, namespace: str, key: str, on: Sequence[str], ttl: float | None) -> bool: ...
    async def _link_async(
        self, namespace: str, key: str, on: Sequence[str], ttl: float | None
    ) -> bool: ...


class Decorator(Protocol):
    """What ``cache(...)`` with options returns: applied to a function, its cached form."""

    @overload
    def __call__(  # type: ignore[overload-overlap]
        self, func: Callable[P, Coroutine[Any, Any, R]], /
    ) -> AsyncCachedFunction[P, R]: ...
    @overload
    def __call__(self, func: Callable[P, R], /) -> CachedFunction[P, R]: ...
