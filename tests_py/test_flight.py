"""Single-flight registry: one loader call per key, for threads and asyncio tasks alike."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from stratacache._flight import Flight

TIMEOUT = 10.0


def wait_until(predicate: Callable[[], bool]) -> None:
    """Polls `predicate` in a thread; fails instead of hanging."""
    deadline = time.monotonic() + TIMEOUT
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


async def async_wait_until(predicate: Callable[[], bool]) -> None:
    """Polls `predicate` in a task; fails instead of hanging."""
    deadline = time.monotonic() + TIMEOUT
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.001)


def run_threads(n: int, target: Callable[[], Any]) -> list[Any]:
    """Runs `target` in `n` threads released together; returns results or exceptions."""
    barrier = threading.Barrier(n, timeout=TIMEOUT)

    def one() -> Any:
        barrier.wait()
        try:
            return target()
        except Exception as e:  # noqa: BLE001 - returned for the test to inspect
            return e

    with ThreadPoolExecutor(n) as pool:
        futures = [pool.submit(one) for _ in range(n)]
        return [f.result(timeout=TIMEOUT) for f in futures]


def test_threads_share_one_loader_call() -> None:
    flight, calls, value = Flight(), [], object()
    n = 16

    def loader() -> object:
        calls.append(1)
        wait_until(lambda: flight.misses == n)  # every other thread is now waiting on us
        return value

    results = run_threads(n, lambda: flight.run("k", loader))
    assert len(calls) == 1
    assert all(r is value for r in results)
    assert flight.in_flight == 0


def test_exception_reaches_every_thread_unchanged_and_is_not_kept() -> None:
    flight, n = Flight(), 8
    error = ValueError("boom")

    def loader() -> object:
        wait_until(lambda: flight.misses == n)
        raise error

    results = run_threads(n, lambda: flight.run("k", loader))
    assert all(r is error for r in results)
    assert flight.in_flight == 0
    assert flight.run("k", lambda: 5) == 5  # the failure was not remembered


def test_different_keys_do_not_wait_for_each_other() -> None:
    flight = Flight()
    release = threading.Event()
    with ThreadPoolExecutor(1) as pool:
        slow = pool.submit(flight.run, "a", lambda: release.wait(TIMEOUT))
        wait_until(lambda: flight.in_flight == 1)
        assert flight.run("b", lambda: "b") == "b"
        release.set()
        assert slow.result(timeout=TIMEOUT) is True


def test_recursive_call_in_the_same_thread_raises() -> None:
    flight = Flight()

    def loader() -> object:
        return flight.run("k", loader)

    with pytest.raises(RuntimeError, match="recursive cache call"):
        flight.run("k", loader)
    assert flight.in_flight == 0


def test_interrupted_thread_leader_hands_over() -> None:
    flight, n = Flight(), 4
    calls: list[int] = []

    def loader() -> str:
        calls.append(1)
        if len(calls) == 1:
            wait_until(lambda: flight.misses == n)
            raise KeyboardInterrupt  # a BaseException: the leader's fate, not the key's
        wait_until(lambda: flight.misses == 2 * n - 1)  # the others came round again
        return "second"

    def one() -> Any:
        try:
            return flight.run("k", loader)
        except KeyboardInterrupt:
            return "interrupted"

    results = run_threads(n, one)
    assert sorted(results) == ["interrupted"] + ["second"] * (n - 1)
    assert len(calls) == 2
    assert flight.in_flight == 0


@pytest.mark.asyncio
async def test_tasks_share_one_loader_call() -> None:
    flight, calls, n = Flight(), [], 100

    async def loader() -> str:
        calls.append(1)
        await async_wait_until(lambda: flight.misses == n)
        return "v"

    results = await asyncio.wait_for(
        asyncio.gather(*(flight.run_async("k", loader) for _ in range(n))), TIMEOUT
    )
    assert results == ["v"] * n
    assert len(calls) == 1
    assert flight.in_flight == 0


@pytest.mark.asyncio
async def test_exception_reaches_every_task_unchanged() -> None:
    flight, n = Flight(), 20
    error = LookupError("nope")

    async def loader() -> str:
        await async_wait_until(lambda: flight.misses == n)
        raise error

    results = await asyncio.wait_for(
        asyncio.gather(*(flight.run_async("k", loader) for _ in range(n)), return_exceptions=True),
        TIMEOUT,
    )
    assert all(r is error for r in results)
    assert flight.in_flight == 0


@pytest.mark.asyncio
async def test_cancelled_leader_lets_a_follower_lead() -> None:
    flight, n = Flight(), 5
    calls: list[int] = []
    leader_started = asyncio.Event()

    async def loader() -> str:
        calls.append(1)
        if len(calls) == 1:
            leader_started.set()
            await asyncio.sleep(TIMEOUT * 10)  # cancelled long before this ends
        await async_wait_until(lambda: flight.misses == 2 * n + 1)  # all followers retried
        return "fresh"

    leader = asyncio.create_task(flight.run_async("k", loader))
    await asyncio.wait_for(leader_started.wait(), TIMEOUT)
    followers = [asyncio.create_task(flight.run_async("k", loader)) for _ in range(n)]
    await async_wait_until(lambda: flight.misses == n + 1)
    leader.cancel()
    results = await asyncio.wait_for(asyncio.gather(*followers), TIMEOUT)
    assert results == ["fresh"] * n
    assert len(calls) == 2
    assert leader.cancelled()
    assert flight.in_flight == 0


@pytest.mark.asyncio
async def test_cancelled_follower_does_not_disturb_the_others() -> None:
    flight = Flight()
    release = asyncio.Event()

    async def loader() -> str:
        await asyncio.wait_for(release.wait(), TIMEOUT)
        return "v"

    leader = asyncio.create_task(flight.run_async("k", loader))
    quitter = asyncio.create_task(flight.run_async("k", loader))
    stayer = asyncio.create_task(flight.run_async("k", loader))
    await async_wait_until(lambda: flight.misses == 3)
    quitter.cancel()
    await asyncio.sleep(0)
    release.set()
    assert await asyncio.wait_for(asyncio.gather(leader, stayer), TIMEOUT) == ["v", "v"]
    assert quitter.cancelled()
    assert flight.in_flight == 0


@pytest.mark.asyncio
async def test_recursive_call_from_the_same_task_or_a_child_task_raises() -> None:
    flight = Flight()

    async def same_task() -> object:
        return await flight.run_async("a", same_task)

    async def child_task() -> object:
        return await asyncio.create_task(flight.run_async("b", child_task))

    for key, loader in (("a", same_task), ("b", child_task)):
        with pytest.raises(RuntimeError, match="recursive cache call"):
            await asyncio.wait_for(flight.run_async(key, loader), TIMEOUT)
    assert flight.in_flight == 0


@pytest.mark.asyncio
async def test_task_waits_for_a_thread_leader() -> None:
    flight = Flight()
    release = threading.Event()
    loop = asyncio.get_running_loop()
    thread_result = loop.run_in_executor(
        None, flight.run, "k", lambda: release.wait(TIMEOUT) and "from thread"
    )
    await async_wait_until(lambda: flight.in_flight == 1)

    async def never() -> str:
        raise AssertionError

    follower = asyncio.create_task(flight.run_async("k", never))
    await async_wait_until(lambda: flight.misses == 2)
    release.set()
    assert await asyncio.wait_for(follower, TIMEOUT) == "from thread"
    assert await asyncio.wait_for(thread_result, TIMEOUT) == "from thread"
