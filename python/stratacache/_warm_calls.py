"""`f.warm()` of a cached function: its loader re-run for the predicted-hot argument tuples.

The predictor ranks keys, not calls; a function whose cache has a predictor therefore keeps,
for each key the predictor samples, the arguments of its last load (bounded by
`PredictorOptions.max_tracked`, least recently loaded out first), so a hot key that left the
cache can be computed again.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from ._options import prefix_of, require_type
from ._weigh import weigh
from .errors import ConfigError

# The warmer (dataclasses, the predictor's options) and the thread pool (concurrent.futures,
# logging) load at the first warm(): every cached function imports this module (issue 17).
if TYPE_CHECKING:
    from ._warm import WarmReport

__all__ = ["ArgMemory", "arg_memory_of", "warm_calls"]

Call = tuple[tuple[Any, ...], dict[str, Any]]


class ArgMemory:
    """Argument tuples by key, for the keys `recorded(prefix, key)` samples; thread-safe."""

    def __init__(self, capacity: int, recorded: Callable[[str, str], bool], prefix: str) -> None:
        self._capacity = capacity
        self._recorded = recorded
        self._prefix = prefix
        self._calls: OrderedDict[str, Call] = OrderedDict()
        self._lock = threading.Lock()

    def remember(self, key: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        if not self._recorded(self._prefix, key):
            return  # the model never ranks it: its arguments would never be used
        with self._lock:
            self._calls[key] = (args, dict(kwargs))
            self._calls.move_to_end(key)
            if len(self._calls) > self._capacity:
                self._calls.popitem(last=False)

    def get(self, key: str) -> Call | None:
        with self._lock:
            return self._calls.get(key)

    def __len__(self) -> int:
        return len(self._calls)


def arg_memory_of(cache: Any, namespace: str) -> ArgMemory | None:
    """The argument memory a function cached in `namespace` of `cache` keeps, or None."""
    model = getattr(cache, "_predictor", None)
    if model is None:
        return None
    return ArgMemory(model.options.max_tracked, cache._store.recorded, prefix_of(namespace))


def _plan(site: Any, n: object, concurrency: object) -> tuple[list[tuple[str, Call]], int, str]:
    """(the hot keys of this function L1 lacks, with their calls; concurrency; prefix).

    Raises:
        TypeError: an argument has the wrong type.
        ConfigError: n or concurrency < 1, or the cache has no predictor.
    """
    require_type(concurrency, int, "concurrency", "an int")
    if concurrency < 1:  # type: ignore[operator]
        msg = f"concurrency must be at least 1, got {concurrency!r}"
        raise ConfigError(msg)
    cache = site.current_cache()
    model = getattr(cache, "_predictor", None)
    if model is None or site.arg_memory is None:
        msg = f"{site.keys.func_name}.warm() needs a cache created with predictor=True"
        raise ConfigError(msg)
    if n is None:
        from ._warm import DEFAULT_WARM_KEYS  # noqa: PLC0415

        n = model.options.publish_keys or DEFAULT_WARM_KEYS
    require_type(n, int, "n", "an int or None")
    if n < 1:  # type: ignore[operator]
        msg = f"n must be at least 1, got {n!r}"
        raise ConfigError(msg)
    ns = cache.namespace if site.namespace is None else site.namespace
    prefix = prefix_of(ns)
    todo = []
    # Ranked over the namespace, which other functions may share: ask for more than n.
    for key, _ in model.hot_keys(max(4 * n, n + 64), ns):  # type: ignore[operator]
        call = site.arg_memory.get(key)
        if call is not None and not cache._store.contains(prefix, key):
            todo.append((key, call))
            if len(todo) == n:
                break
    return todo, concurrency, prefix  # type: ignore[return-value]


def warm_calls(site: Any, n: object = None, concurrency: object = 4) -> Any:
    """f.warm(n=None, concurrency=4): loads the predicted-hot calls of f that L1 lacks.

    Each key goes through f's usual miss path (single-flight, the Redis tier first when there
    is one, then the function), at most `concurrency` at a time: threads for a sync function,
    tasks for an async one (whose warm() returns a coroutine). The first loader exception is
    raised unchanged once the running calls have finished.

    Returns:
        A `WarmReport` (source "model"; requested: calls started).
    """
    from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415

    from ._warm import WarmReport  # noqa: PLC0415

    start = time.monotonic()
    todo, limit, _ = _plan(site, n, concurrency)
    if site.is_async:
        return _warm_async(site, todo, limit, start)
    with ThreadPoolExecutor(max_workers=limit, thread_name_prefix="stratacache-warm") as pool:
        values = list(pool.map(lambda kc: site.load(kc[0], *kc[1]), todo))
    total = sum(weigh(v) for v in values)
    return WarmReport(len(values), total, time.monotonic() - start, "model", len(todo), False)


def _warm_async(
    site: Any, todo: list[tuple[str, Call]], limit: int, start: float
) -> Coroutine[Any, Any, WarmReport]:
    async def run() -> WarmReport:
        import asyncio  # noqa: PLC0415 - a sync-only program never loads asyncio

        from ._warm import WarmReport  # noqa: PLC0415

        gate = asyncio.Semaphore(limit)

        async def one(key: str, call: Call) -> Any:
            async with gate:
                return await site.load_async(key, *call)

        values = await asyncio.gather(*(one(k, c) for k, c in todo), return_exceptions=True)
        for v in values:
            if isinstance(v, BaseException):
                raise v
        total = sum(weigh(v) for v in values)
        return WarmReport(len(values), total, time.monotonic() - start, "model", len(todo), False)

    return run()
