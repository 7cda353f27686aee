"""The Warmer's shared part: strategies, their schedules, argument checks and results, with no
I/O, so that the thread of `Warmer(Cache)` and the task of `Warmer(AsyncCache)` only run them.

A strategy is a key source (explicit keys or a function giving them, the predicted hot set,
the most recently read keys, or a cached function's hot calls), a way to fill L1 (the lower
tiers, or a loader giving values for keys), and a schedule. When several are due, they run
one after the other, highest priority first; each run reads its keys in batches, at most
`concurrency` batches at a time, and stops starting batches at its timeout.
"""

from __future__ import annotations

import inspect
import math
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ._extras import require
from ._options import check_namespace, check_positive, check_ttl, require_type
from .errors import ConfigError

__all__ = ["Schedule", "Strategy", "StrategyStats", "check_common", "due_order", "make_schedule"]

#: Keys per batch when a strategy gives no batch_size.
DEFAULT_BATCH = 200
#: Seconds a run may take when a strategy gives no timeout.
DEFAULT_TIMEOUT = 60.0


@dataclass(frozen=True)
class StrategyStats:
    """What one strategy of a `Warmer` did so far.

    Attributes:
        name: the strategy's name.
        kind: "keys", "predicted", "recent" or "calls".
        priority: higher runs first when several are due.
        runs: runs finished (with or without an error).
        keys: keys warmed over all runs (values now in L1).
        bytes: their weight (the estimate of `stratacache._weigh`).
        seconds: wall time of all runs.
        errors: runs that raised (the exception is logged and kept in `last_error`).
        timeouts: runs stopped by their timeout before every batch was read.
        last_run: when the last run started (time.time()), None before the first.
        next_run: when the next run is due (time.time()); None before the warmer is
            started (or run_once called), or if it will not run again.
        last_error: the last exception's repr, None if none.
    """

    name: str
    kind: str
    priority: int
    runs: int
    keys: int
    bytes: int
    seconds: float
    errors: int
    timeouts: int
    last_run: float | None
    next_run: float | None
    last_error: str | None


@dataclass(frozen=True)
class Schedule:
    """When a strategy runs: at start (`on_start`), then every `every` seconds, or at the
    times of the cron expression `cron` (local time, through croniter)."""

    on_start: bool
    every: float | None
    cron: str | None

    def first(self, now: float) -> float | None:
        """The first due time (time.monotonic()) for a warmer started at `now`."""
        return now if self.on_start else self.after(now)

    def after(self, now: float) -> float | None:
        """The due time following a run that ended at `now` (time.monotonic()); None: never."""
        if self.every is not None:
            return now + self.every
        if self.cron is not None:
            return now + (cron_next(self.cron, time.time()) - time.time())
        return None


def _croniter() -> Any:
    return require("croniter", "cron", "a Warmer cron schedule").croniter


def cron_next(expression: str, after: float) -> float:
    """The first time (time.time()) after `after` that the cron expression names, local time."""
    start = datetime.fromtimestamp(after).astimezone()
    return float(_croniter()(expression, start).get_next(float))


def make_schedule(on_start: object, every: object, cron: object) -> Schedule:
    """The schedule of a strategy's arguments.

    Raises:
        TypeError: an argument has the wrong type.
        ConfigError: every <= 0, every and cron both given, an invalid cron expression, or
            no schedule at all (on_start False without every or cron).
        MissingExtraError: cron given without croniter installed (the `cron` extra).
    """
    require_type(on_start, bool, "on_start", "a bool")
    if every is not None and cron is not None:
        msg = "give every= or cron=, not both"
        raise ConfigError(msg)
    period = None if every is None else check_positive(every, "every")
    if cron is not None:
        require_type(cron, str, "cron", "a cron expression (str)")
        if not _croniter().is_valid(cron):
            msg = f"cron: {cron!r} is not a valid cron expression"
            raise ConfigError(msg)
    if not on_start and period is None and cron is None:
        msg = "a strategy with on_start=False needs every= or cron=, or it never runs"
        raise ConfigError(msg)
    return Schedule(bool(on_start), period, cron)  # type: ignore[arg-type]


def _count(value: object, name: str) -> int:
    require_type(value, int, name, "an int")
    if value < 1:  # type: ignore[operator]
        msg = f"{name} must be at least 1, got {value!r}"
        raise ConfigError(msg)
    return value  # type: ignore[return-value]


def check_common(cache: Any, names: set[str], kind: str, options: dict[str, Any]) -> dict[str, Any]:
    """Checks the arguments every strategy takes; returns them normalised.

    Raises:
        TypeError: an argument has the wrong type.
        ConfigError: a value out of range or a name already used.
    """
    name = kind if options["name"] is None else options["name"]
    require_type(name, str, "name", "a str")
    if not name or name in names:
        msg = f"name: a strategy named {name!r} exists already" if name else "name is empty"
        raise ConfigError(msg)
    require_type(options["priority"], int, "priority", "an int")
    timeout = options["timeout"]
    if not (isinstance(timeout, (int, float)) and not isinstance(timeout, bool)):
        msg = f"timeout must be a number of seconds, not {type(timeout).__name__}"
        raise TypeError(msg)
    if not 0 < timeout < math.inf:
        msg = f"timeout must be > 0 and finite, got {timeout!r}"
        raise ConfigError(msg)
    ns = options["namespace"]
    return {
        "name": name,
        "priority": options["priority"],
        "batch_size": _count(options["batch_size"], "batch_size"),
        "concurrency": _count(options["concurrency"], "concurrency"),
        "timeout": float(timeout),
        "namespace": cache.namespace if ns is None else check_namespace(ns),
        "schedule": make_schedule(options["on_start"], options["every"], options["cron"]),
    }


def check_loader(cache: Any, loader: object, ttl: object) -> tuple[Any, float | None]:
    """(loader, ttl) of a key strategy.

    Raises:
        TypeError: loader is not callable, or is a coroutine function for a sync Cache.
        ConfigError: no loader on a cache without a lower tier (nothing to fill L1 from).
        InvalidTTLError: ttl is invalid.
    """
    if loader is not None and not callable(loader):
        msg = f"loader must be a callable keys -> mapping of values, not {type(loader).__name__}"
        raise TypeError(msg)
    if inspect.iscoroutinefunction(loader) and not cache._asyncio:
        msg = "loader is a coroutine function: a Cache's Warmer needs a sync one"
        raise TypeError(msg)
    if loader is None and cache._driver.load is None:
        msg = "this cache has no lower tier (Redis or disk) to warm from: give loader="
        raise ConfigError(msg)
    if loader is None and ttl is not None:
        msg = "ttl= applies to loaded values only: give loader= too"
        raise ConfigError(msg)
    return loader, check_ttl(ttl)


@dataclass
class Strategy:
    """One strategy and its running totals; `source` and `fill` are the Warmer's to interpret."""

    kind: str
    name: str
    priority: int
    batch_size: int
    concurrency: int
    timeout: float
    namespace: str
    schedule: Schedule
    source: Any = None
    n: int | None = None
    loader: Any = None
    ttl: float | None = None
    order: int = 0
    due: float | None = None
    runs: int = 0
    keys: int = 0
    bytes: int = 0
    seconds: float = 0.0
    errors: int = 0
    timeouts: int = 0
    last_run: float | None = None
    last_error: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def ran(self, start: float, keys: int, size: int, out: bool, error: str | None) -> None:
        """Adds one run that started at `start` (time.monotonic()) and schedules the next."""
        now = time.monotonic()
        with self.lock:
            self.runs += 1
            self.keys += keys
            self.bytes += size
            self.seconds += now - start
            self.timeouts += out
            self.last_run = time.time() - (now - start)
            if error is not None:
                self.errors += 1
                self.last_error = error
            self.due = self.schedule.after(now)

    def stats(self) -> StrategyStats:
        with self.lock:
            due = self.due
            nxt = None if due is None else time.time() + max(0.0, due - time.monotonic())
            return StrategyStats(
                self.name, self.kind, self.priority, self.runs, self.keys, self.bytes,
                self.seconds, self.errors, self.timeouts, self.last_run, nxt, self.last_error,
            )  # fmt: skip


def due_order(strategies: Iterable[Strategy], now: float, force: bool) -> list[Strategy]:
    """The strategies due at `now` (all with `force`), highest priority first, then in the
    order they were added."""
    due = [s for s in strategies if force or (s.due is not None and s.due <= now)]
    return sorted(due, key=lambda s: (-s.priority, s.order))


def next_due(strategies: Iterable[Strategy]) -> float | None:
    """The earliest due time (time.monotonic()), None if none will run again."""
    times = [s.due for s in strategies if s.due is not None]
    return min(times) if times else None


def batches(keys: Iterable[Any], size: int, n: int | None) -> Iterator[list[Any]]:
    """`keys` in lists of `size`, at most `n` in all (None: all), read lazily."""
    batch: list[Any] = []
    left = math.inf if n is None else n
    for key in keys:
        if left <= 0:
            break
        batch.append(key)
        left -= 1
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def checked_keys(keys: Iterable[object], name: str) -> Iterator[str]:
    """`keys`, each checked to be a str (TypeError naming the strategy otherwise)."""
    for key in keys:
        if not isinstance(key, str):
            msg = f"strategy {name!r}: keys must be str, got {type(key).__name__}"
            raise TypeError(msg)
        yield key


def key_source(keys: object, schedule: Schedule) -> Callable[[], Any]:
    """A function giving a run's keys, for keys= given as an iterable or a function.

    Raises:
        TypeError: keys is neither an iterable of str nor a callable, or is asynchronous.
        ConfigError: a one-shot iterator (a generator) on a repeating schedule.
    """
    if inspect.isasyncgenfunction(keys) or inspect.iscoroutinefunction(keys):
        msg = "keys must be a sync iterable or a sync function giving one (they are read lazily)"
        raise TypeError(msg)
    if callable(keys):
        return keys
    if isinstance(keys, str) or not isinstance(keys, Iterable):
        msg = f"keys must be an iterable of str or a function giving one, not {type(keys).__name__}"
        raise TypeError(msg)
    if isinstance(keys, Iterator) and (schedule.every is not None or schedule.cron is not None):
        msg = "keys is a one-shot iterator: give a function returning the keys to repeat runs"
        raise ConfigError(msg)
    return lambda: keys
