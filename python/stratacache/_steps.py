"""Bodies written once for a sync and an async caller: a generator yields the I/O calls it
needs as ``(function, args)`` and receives each call's result; `run_sync` calls them, and
`run_async` awaits them. The body holds every decision, the drivers only the I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any, TypeVar

__all__ = ["Steps", "run_async", "run_sync"]

T = TypeVar("T")
#: A body that yields (function, args) calls and returns a T.
Steps = Generator[tuple[Callable[..., Any], tuple[Any, ...]], Any, T]


def run_sync(steps: Steps[T]) -> T:
    """Runs `steps`, calling each function it yields; returns its result."""
    try:
        fn, args = next(steps)
        while True:
            fn, args = steps.send(fn(*args))
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]


async def run_async(steps: Steps[T]) -> T:
    """Runs `steps`, awaiting each coroutine function it yields; returns its result."""
    try:
        fn, args = next(steps)
        while True:
            fn, args = steps.send(await fn(*args))
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]
