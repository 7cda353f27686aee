"""The circuit breaker's state machine on a fake clock: no server, no sleeping."""

from __future__ import annotations

import logging

import pytest

from stratacache import BreakerConfig
from stratacache.tiers.redis.breaker import NO_TRIAL, REFUSED, CircuitBreaker


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def opened(clock: Clock, **config: object) -> CircuitBreaker:
    """A breaker that has just opened (threshold 2, recovery 1 s unless told otherwise)."""
    config.setdefault("failure_threshold", 2)
    config.setdefault("recovery_time", 1.0)
    breaker = CircuitBreaker(BreakerConfig(**config), clock=clock)  # type: ignore[arg-type]
    for _ in range(int(config["failure_threshold"])):  # type: ignore[call-overload]
        breaker.release(breaker.allow())
        breaker.failure()
    assert breaker.state == "open"
    return breaker


def test_closed_lets_calls_through_without_reserving_anything() -> None:
    breaker = CircuitBreaker(clock=Clock())
    assert breaker.allow() == NO_TRIAL
    breaker.release(NO_TRIAL)
    assert breaker.state == "closed"


def test_consecutive_failures_open_then_recovery_time_allows_one_trial() -> None:
    clock = Clock()
    breaker = opened(clock)
    assert breaker.allow() == REFUSED
    clock.now += 1.0
    assert breaker.state == "half-open"
    permit = breaker.allow()
    assert permit > 0
    assert breaker.allow() == REFUSED  # the one trial slot is taken
    breaker.success()
    breaker.release(permit)
    assert breaker.state == "closed"
    assert breaker.opened == 1


def test_a_trial_that_ends_without_an_outcome_gives_its_slot_back() -> None:
    # issue 11 item 7: a cancelled trial call used to keep the slot, refusing every call after.
    clock = Clock()
    breaker = opened(clock)
    clock.now += 1.0
    permit = breaker.allow()
    assert permit > 0
    breaker.release(permit)  # cancelled: neither success nor failure
    again = breaker.allow()
    assert again > 0
    breaker.success()
    breaker.release(again)
    assert breaker.state == "closed"


def test_every_slot_comes_back_with_several_trial_calls() -> None:
    clock = Clock()
    breaker = opened(clock, half_open_calls=3)
    clock.now += 1.0
    permits = [breaker.allow() for _ in range(3)]
    assert all(p > 0 for p in permits)
    assert breaker.allow() == REFUSED
    for p in permits:
        breaker.release(p)
    assert [breaker.allow() > 0 for _ in range(4)] == [True, True, True, False]


def test_a_late_release_never_frees_a_slot_of_a_later_half_open_period() -> None:
    clock = Clock()
    breaker = opened(clock)
    clock.now += 1.0
    stale = breaker.allow()
    other = breaker.allow()
    assert other == REFUSED
    breaker.failure()  # the trial failed (reported by the same call, say): open again
    clock.now += 1.0
    current = breaker.allow()
    assert current > 0
    assert current != stale
    breaker.release(stale)  # from the earlier period: must not free the current slot
    assert breaker.allow() == REFUSED
    breaker.release(current)
    assert breaker.allow() > 0


def test_release_after_an_outcome_does_nothing() -> None:
    clock = Clock()
    breaker = opened(clock)
    clock.now += 1.0
    permit = breaker.allow()
    breaker.failure()
    breaker.release(permit)
    assert breaker.state == "open"
    assert breaker.allow() == REFUSED


def test_opening_and_closing_are_logged_once_each(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    with caplog.at_level(logging.WARNING, logger="stratacache"):
        breaker = opened(clock, failure_threshold=3)
        breaker.failure()  # already open: no second line
        clock.now += 1.0
        breaker.release(breaker.allow())
        breaker.success()
        breaker.success()  # already closed: nothing
    messages = [r.getMessage() for r in caplog.records if r.name == "stratacache"]
    assert len(messages) == 2
    assert "opened" in messages[0]
    assert "closed" in messages[1]
    assert all(r.levelno == logging.WARNING for r in caplog.records)


def test_closed_follows_the_state() -> None:
    clock = Clock()
    breaker = opened(clock)
    assert breaker.closed is False
    clock.now += 1.0  # half-open
    assert breaker.allow() not in (REFUSED, NO_TRIAL)
    assert breaker.closed is False
    breaker.success()
    assert (breaker.state, breaker.closed) == ("closed", True)
