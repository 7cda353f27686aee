"""What one run of a Warmer strategy reads and writes, written once as `_steps` bodies: the
key batches of its source (`prepare`), then each batch's fill (`fill`). The sync runner calls
the yielded functions; the async runner awaits them, so for an AsyncCache every yielded
function is a coroutine function (a sync loader or a sync cached function goes to a thread).
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator, Mapping
from typing import Any

from ._steps import Steps
from ._warm import DEFAULT_WARM_KEYS, _missing, credit, hot_list
from ._warm_calls import _plan
from ._warmer_plan import Strategy, batches, checked_keys

__all__ = ["fill", "prepare"]


def _call(fn: Any, *args: Any) -> Any:
    return fn(*args)


async def _await_call(fn: Any, *args: Any) -> Any:
    return await fn(*args)


async def _thread_call(fn: Any, *args: Any) -> Any:
    import asyncio  # noqa: PLC0415 - a sync-only program never loads asyncio

    return await asyncio.to_thread(fn, *args)


def _caller(fn: Any, is_async: bool) -> Any:
    """How a runner of this kind calls the user's function `fn`."""
    if not is_async:
        return _call
    return _await_call if inspect.iscoroutinefunction(fn) else _thread_call


def prepare(cache: Any, s: Strategy) -> Steps[tuple[Iterator[list[Any]], str]]:
    """(the run's batches, where its keys came from). Key batches hold str keys; a "calls"
    strategy's batches hold (key, (args, kwargs)) pairs of the calls L1 lacks."""
    if s.kind == "keys":
        keys = s.source()
        return batches(checked_keys(keys, s.name), s.batch_size, s.n), "keys"
    if s.kind == "recent":
        model = cache._predictor
        recent = [k for k, _ in model.recent_keys(s.n, s.namespace)]
        return batches(recent, s.batch_size, None), "recent"
    if s.kind == "predicted":
        n = DEFAULT_WARM_KEYS if s.n is None else s.n
        keys, source = yield from hot_list(cache, n, s.namespace)
        return batches(keys, s.batch_size, None), source
    todo, _, _ = _plan(s.source, s.n, s.concurrency)
    return batches(todo, s.batch_size, None), "model"


def fill(
    cache: Any, s: Strategy, batch: list[Any], is_async: bool
) -> Steps[tuple[dict[str, Any], int]]:
    """(the values now in L1 for this batch, how many keys were looked up below L1)."""
    if s.kind == "calls":
        site = s.source
        load = site.load_async if site.is_async else site.load
        call = _caller(load, is_async)
        out = {}
        for key, (args, kwargs) in batch:
            out[key] = yield call, (load, key, args, kwargs)
        return out, len(batch)
    missing = _missing(cache, s.namespace, batch)
    if not missing:
        return {}, 0
    if s.loader is None:
        found = yield cache._driver.read_many, (s.namespace, missing)
        credit(cache, s.namespace, found)
        return found, len(missing)
    values = yield _caller(s.loader, is_async), (s.loader, missing)
    if not isinstance(values, Mapping):
        msg = f"strategy {s.name!r}: loader must return a mapping, not {type(values).__name__}"
        raise TypeError(msg)
    items = {k: values[k] for k in missing if k in values}
    if items:
        yield cache._driver.write_many, (s.namespace, items, s.ttl)
        credit(cache, s.namespace, items)
    return items, len(missing)
