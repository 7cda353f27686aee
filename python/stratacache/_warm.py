"""Warming: filling L1 from the lower tiers with the predicted hot set, and the hot sets that
processes publish to Redis for their peers.

A namespace's hot set lives in Redis as a sorted set (member: key, score: its rank in the
publisher's ranking, the best highest), replaced whole at each publication, trimmed to
`publish_keys` members and expiring after a few publication intervals, so a namespace nobody
serves any more leaves no key behind. The choice of keys, the batches and the report are
written once (`_steps`); `warm_sync` and `warm_async` only issue the reads.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ._options import check_namespace, prefix_of, require_type
from ._predictor_live import LiveModel, PredictorOptions
from ._steps import Steps, run_async, run_sync
from ._weigh import weigh
from .errors import ConfigError

__all__ = ["WarmReport", "hot_list", "start_predictor", "warm_async", "warm_sync"]

#: Keys per read of the lower tier (one MGET each on Redis).
BATCH = 200
#: Keys warm() asks for when n is not given and the cache has no predictor options.
DEFAULT_WARM_KEYS = 1000
#: A published hot set expires after this many publication intervals without a refresh.
_EXPIRE_INTERVALS = 4

# KEYS[1] the hot set; ARGV[1] its TTL in seconds; then score, member pairs, best first.
_PUBLISH = """
redis.call('DEL', KEYS[1])
for i = 2, #ARGV, 2 do redis.call('ZADD', KEYS[1], ARGV[i], ARGV[i + 1]) end
if #ARGV > 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return #ARGV
"""
# KEYS[1] the hot set; ARGV[1] how many members, best first.
_READ = "return redis.call('ZREVRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)"


@dataclass(frozen=True)
class WarmReport:
    """What one `warm()` did.

    Attributes:
        keys: keys found in a lower tier and now held in L1.
        bytes: their weight (the estimate of `stratacache._weigh`).
        seconds: wall time the call took.
        source: where the key list came from: "model" (this process's predictor),
            "published" (the hot set peers published to Redis) or "none".
        requested: keys on that list that L1 did not hold (the ones looked up below).
        timed_out: True if the timeout stopped the call before every batch was read.
    """

    keys: int
    bytes: int
    seconds: float
    source: str
    requested: int
    timed_out: bool


def hot_set_key(key_prefix: str, namespace: str) -> bytes:
    """The Redis key of a namespace's published hot set."""
    return (key_prefix + "hot:" + namespace).encode("utf-8", "surrogatepass")


def check_warm(cache: Any, n: object, namespace: object, timeout: object) -> tuple[int, str, float]:
    """(n, namespace, deadline on time.monotonic()) for a warm() call.

    Raises:
        TypeError: an argument has the wrong type.
        ConfigError: n < 1 or timeout <= 0.
    """
    if n is None:
        model = cache._predictor
        n = (model.options.publish_keys if model is not None else 0) or DEFAULT_WARM_KEYS
    require_type(n, int, "n", "an int or None")
    if n < 1:  # type: ignore[operator]
        msg = f"n must be at least 1, got {n!r}"
        raise ConfigError(msg)
    ns = cache.namespace if namespace is None else check_namespace(namespace)
    deadline = math.inf
    if timeout is not None:
        require_type(timeout, (int, float), "timeout", "a number of seconds or None")
        if not 0 < timeout < math.inf:  # type: ignore[operator]
            msg = f"timeout must be > 0 and finite, got {timeout!r}"
            raise ConfigError(msg)
        deadline = time.monotonic() + float(timeout)  # type: ignore[arg-type]
    return n, ns, deadline  # type: ignore[return-value]


def _redis_of(cache: Any) -> tuple[Any, str] | None:
    """(the Redis executor, the key prefix) of a cache with a Redis tier, else None."""
    redis = getattr(cache._driver, "redis", None)
    return None if redis is None or cache._tier is None else (redis, cache._tier.prefix)


def _missing(cache: Any, ns: str, keys: Sequence[str]) -> list[str]:
    prefix = prefix_of(ns)
    return [k for k in keys if not cache._store.contains(prefix, k)]


def credit(cache: Any, ns: str, keys: Iterable[str]) -> None:
    """Credits the keys just warmed into L1 with one read each in its policy (`Store.expect`):
    loaded blind, a warmed key would count in W-TinyLFU's sketch as often as a key read once,
    and the first one-off misses after the warm-up would evict it. No L1 counter moves."""
    prefix = prefix_of(ns)
    expect = cache._store.expect
    for key in keys:
        expect(prefix, key)


def _members(reply: Any) -> list[str]:
    return [m.decode("utf-8", "surrogatepass") if isinstance(m, bytes) else str(m) for m in reply]


def _publish_calls(key_prefix: str, sets: dict[str, list[tuple[str, float]]], ttl: float) -> Any:
    calls = []
    for ns, keys in sets.items():
        args: list[Any] = [max(1, math.ceil(ttl))]
        # Scored by rank (the best highest): the publisher's order is by expected reads, which
        # the probability alone does not give.
        for rank, (key, _) in enumerate(keys):
            args += [str(len(keys) - rank), key.encode("utf-8", "surrogatepass")]
        calls.append(([hot_set_key(key_prefix, ns)], args))
    return calls


def start_predictor(cache: Any, options: PredictorOptions | None) -> LiveModel | None:
    """The cache's model with its feed thread running, or None when the predictor is off.

    With a Redis tier and publish_keys > 0 the thread also publishes the hot sets: a sync
    Cache through its executor (breaker and deadline included), an AsyncCache through the
    sync client its tier keeps for the subscriber (the thread has no event loop).
    """
    if options is None:
        return None
    model = LiveModel(options, cache._store)
    found = _redis_of(cache)
    if found is not None and options.publish_keys > 0:
        redis, prefix = found
        ttl = _EXPIRE_INTERVALS * options.publish_interval
        sync_client = getattr(cache._parts, "sync", None) if cache._asyncio else None
        if cache._asyncio and sync_client is None:
            return _started(model, cache)

        def publish(sets: dict[str, list[tuple[str, float]]]) -> None:
            calls = _publish_calls(prefix, sets, ttl)
            if sync_client is None:
                redis.eval(_PUBLISH, calls)
                return
            for keys, args in calls:
                sync_client.eval(_PUBLISH, len(keys), *keys, *args)

        model.publish = publish
    return _started(model, cache)


def _started(model: LiveModel, cache: Any) -> LiveModel:
    model.start(cache)
    return model


def _own_keys(cache: Any, n: int, ns: str) -> list[str]:
    model = cache._predictor
    return [] if model is None else [k for k, _ in model.hot_keys(n, ns)]


def hot_list(cache: Any, n: int, ns: str) -> Steps[tuple[list[str], str]]:
    """(at most n keys of `ns` to warm, where they came from: "model", "published", "none"):
    this process's predicted hot set or, when its model ranks none yet, its peers' one."""
    keys = _own_keys(cache, n, ns)
    if keys:
        return keys, "model"
    found_redis = _redis_of(cache)
    if found_redis is None:
        return [], "none"
    redis, prefix = found_redis
    reply = yield redis.eval, (_READ, [([hot_set_key(prefix, ns)], [n])])
    keys = _members(reply[0] if reply else [])
    return keys, "published" if keys else "none"


def _report(
    start: float, found: list[dict[str, Any]], source: str, asked: int, out: bool
) -> WarmReport:
    values = [v for batch in found for v in batch.values()]
    total = sum(weigh(v) for v in values)
    return WarmReport(len(values), total, time.monotonic() - start, source, asked, out)


#: Longest a warm() waits for the cache's invalidation subscription to come up first.
COVERAGE_WAIT = 1.0


def coverage_wait(cache: Any, deadline: float) -> float:
    """Seconds to wait for the subscription before warming: its coming up flushes L1 (what was
    read before it is not covered by invalidations), so a warm just after the cache was built
    would be emptied by a slow start. 0 with no subscriber or one that is up."""
    sub = getattr(cache, "_subscriber", None)
    if sub is None or sub.connected.is_set():
        return 0.0
    return max(0.0, min(COVERAGE_WAIT, deadline - time.monotonic()))


def covered_sync(cache: Any, seconds: float) -> None:
    cache._subscriber.connected.wait(seconds)


async def covered_async(cache: Any, seconds: float) -> None:
    import asyncio  # noqa: PLC0415 - an L1-only program never loads asyncio for this module

    end = time.monotonic() + seconds
    while not cache._subscriber.connected.is_set() and time.monotonic() < end:
        await asyncio.sleep(0.005)


def _warm(
    cache: Any, n: object, namespace: object, timeout: object, covered: Any
) -> Steps[WarmReport]:
    start = time.monotonic()
    count, ns, deadline = check_warm(cache, n, namespace, timeout)
    wait = coverage_wait(cache, deadline)
    if wait > 0:
        yield covered, (cache, wait)
    keys, source = yield from hot_list(cache, count, ns)
    if not keys:
        return _report(start, [], "none", 0, False)
    missing = _missing(cache, ns, keys)
    found: list[dict[str, Any]] = []
    for i in range(0, len(missing), BATCH):
        if time.monotonic() >= deadline:
            return _report(start, found, source, len(missing), True)
        found.append((yield cache._driver.read_many, (ns, missing[i : i + BATCH])))
        credit(cache, ns, found[-1])
    return _report(start, found, source, len(missing), False)


def warm_sync(cache: Any, n: object, namespace: object, timeout: object) -> WarmReport:
    """Cache.warm's body (see its docstring)."""
    return run_sync(_warm(cache, n, namespace, timeout, covered_sync))


async def warm_async(cache: Any, n: object, namespace: object, timeout: object) -> WarmReport:
    """AsyncCache.warm's body (see Cache.warm)."""
    return await run_async(_warm(cache, n, namespace, timeout, covered_async))
