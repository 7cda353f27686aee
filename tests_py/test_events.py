"""The event broker in one process (L1 only): delivery, filters, bounded queues, handlers that
are slow, raise or are coroutines, close(), evictions, invalidate_on, and bad input."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest

import stratacache
from stratacache import ConfigError
from stratacache.events import Event, Subscription

from .conftest import call
from .tiers.conftest import until


async def test_writes_and_invalidations_reach_a_subscriber_in_order(cache_cls: type[Any]) -> None:
    cache = cache_cls(namespace="shop")
    seen: list[Event] = []
    with cache.events.subscribe(seen.append):
        await call(cache.set("a", 1))
        await call(cache.set_many({"b": 2, "c": 3}))
        assert await call(cache.add("d", 4))
        assert not await call(cache.add("d", 5))  # not stored: no event
        await call(cache.incr("a"))
        await call(cache.delete("b"))
        await call(cache.invalidate_pattern("c*"))
        await call(cache.clear())
        assert await until(lambda: len(seen) == 7)
    got = [(e.kind, e.name, e.namespace, e.keys, e.pattern) for e in seen]
    assert got == [
        ("set", "set", "shop", ("a",), None),
        ("set", "set", "shop", ("b", "c"), None),
        ("set", "set", "shop", ("d",), None),
        ("set", "set", "shop", ("a",), None),
        ("delete", "delete", "shop", ("b",), None),
        ("invalidate", "pattern", "shop", (), "c*"),
        ("invalidate", "clear", None, (), None),
    ]
    assert all(e.local and e.origin == seen[0].origin for e in seen)
    assert len({e.id for e in seen}) == 7
    await call(cache.close())


async def test_app_events_carry_the_payload_object(cache_cls: type[Any]) -> None:
    cache = cache_cls()
    seen: list[Event] = []
    payload = {"id": 7, "price": [1, 2]}
    cache.events.subscribe(seen.append)
    await call(cache.events.emit("product.updated", payload))
    assert await until(lambda: len(seen) == 1)
    assert seen[0].kind == "app"
    assert seen[0].name == "product.updated"
    assert seen[0].payload is payload
    await call(cache.close())


async def test_filters_by_kind_namespace_and_name(cache_cls: type[Any]) -> None:
    cache = cache_cls(namespace="a")
    kinds: list[Event] = []
    spaces: list[Event] = []
    names: list[Event] = []
    cache.events.subscribe(kinds.append, kinds=["delete", "app"])
    cache.events.subscribe(spaces.append, namespaces={"b"})
    cache.events.subscribe(names.append, names=["order.paid"])
    await call(cache.set("k", 1))
    await call(cache.delete("k"))
    await call(cache.clear("b"))  # namespace b
    await call(cache.clear())  # every namespace: matches any namespace filter
    await call(cache.events.emit("order.paid", 1))
    await call(cache.events.emit("order.shipped", 2))
    assert await until(lambda: len(kinds) == 3 and len(spaces) == 2 and len(names) == 1)
    assert [e.kind for e in kinds] == ["delete", "app", "app"]
    assert [(e.name, e.namespace) for e in spaces] == [("clear", "b"), ("clear", None)]
    assert names[0].payload == 1
    await call(cache.close())


async def test_a_slow_handler_drops_and_counts_without_slowing_set(cache_cls: type[Any]) -> None:
    cache = cache_cls()
    release = threading.Event()
    fast: list[Event] = []

    def slow(event: Event) -> None:
        release.wait(10)  # held until the writes are done: 1000 calls would take 10,000 s

    sub = cache.events.subscribe(slow, kinds=["set"], queue_size=10)
    cache.events.subscribe(fast.append, kinds=["set"])
    started = time.perf_counter()
    for i in range(1000):
        await call(cache.set(f"k{i}", i))
    spent = time.perf_counter() - started
    # Bound, not a benchmark: a set that waited on the handler would wait 10 s at least.
    assert spent < 5.0
    assert sub.dropped >= 1000 - 10 - 1  # at most one taken by the worker, ten queued
    assert sub.dropped + sub.pending + 1 >= 1000
    assert await until(lambda: len(fast) == 1000)  # another subscriber loses nothing
    release.set()
    assert await until(lambda: sub.pending == 0)
    stats = cache.stats()
    assert stats.events is not None
    assert stats.events.dropped == sub.dropped
    assert stats.events.subscribers == 2
    await call(cache.close())


async def test_a_raising_handler_is_counted_and_keeps_receiving(cache_cls: type[Any]) -> None:
    cache = cache_cls()
    calls: list[Event] = []

    def bad(event: Event) -> None:
        calls.append(event)
        msg = "handler bug"
        raise RuntimeError(msg)

    others: list[Event] = []
    sub = cache.events.subscribe(bad)
    cache.events.subscribe(others.append)
    for i in range(3):
        await call(cache.events.emit("tick", i))
    assert await until(lambda: sub.delivered == 3 and len(others) == 3)
    assert sub.errors == 3
    assert [e.payload for e in calls] == [0, 1, 2]
    assert cache.stats().events.errors == 3
    await call(cache.close())


async def test_coroutine_handler_runs_on_the_async_cache_loop() -> None:
    cache = stratacache.AsyncCache()
    threads: list[int] = []
    done = asyncio.Event()

    async def handler(event: Event) -> None:
        await asyncio.sleep(0)
        threads.append(threading.get_ident())
        if len(threads) == 2:
            done.set()

    cache.events.subscribe(handler)
    await cache.set("k", 1)
    await cache.events.emit("x")
    await asyncio.wait_for(done.wait(), 5)
    assert threads == [threading.get_ident()] * 2
    await cache.close()


async def test_coroutine_handler_of_a_sync_cache_runs_on_a_thread_with_its_own_loop() -> None:
    cache = stratacache.Cache()
    seen: list[tuple[int, bool]] = []

    async def handler(event: Event) -> None:
        await asyncio.sleep(0)
        seen.append((threading.get_ident(), asyncio.get_running_loop().is_running()))

    cache.events.subscribe(handler)
    cache.events.emit("x")
    cache.set("k", 1)
    assert await until(lambda: len(seen) == 2)
    assert seen[0][0] != threading.get_ident()
    assert all(running for _, running in seen)
    cache.close()


async def test_close_stops_delivery_and_unhooks_the_write_path(cache_cls: type[Any]) -> None:
    cache = cache_cls()
    plain_driver = cache._driver
    plain_set = cache.__dict__.get("set")
    seen: list[Event] = []
    sub = cache.events.subscribe(seen.append, kinds=["set"])
    assert cache._driver is not plain_driver  # hooked while set events are wanted
    await call(cache.set("a", 1))
    assert await until(lambda: len(seen) == 1)
    sub.close()
    sub.close()  # idempotent
    assert sub.closed
    await call(cache.set("b", 2))
    await asyncio.sleep(0.05)
    assert len(seen) == 1
    assert cache._driver is plain_driver
    assert cache.__dict__.get("set") is plain_set
    assert cache.stats().events.subscribers == 0
    assert cache.stats().events.delivered == 1
    await call(cache.close())


async def test_app_only_subscribers_leave_the_write_path_alone(cache_cls: type[Any]) -> None:
    cache = cache_cls()
    plain_driver = cache._driver
    with cache.events.subscribe(lambda e: None, kinds=["app", "tier_down"]):
        assert cache._driver is plain_driver
    await call(cache.close())


def test_closing_the_cache_ends_its_subscriptions() -> None:
    cache = stratacache.Cache()
    sub = cache.events.subscribe(lambda e: None)
    cache.close()
    assert sub.closed
    with pytest.raises(ConfigError, match="closed"):
        cache.events.emit("x")
    with pytest.raises(ConfigError, match="closed"):
        cache.events.subscribe(print)


async def test_evictions_are_reported_as_counts_per_interval(cache_cls: type[Any]) -> None:
    cache = cache_cls(max_entries=10, namespace="n")
    cache.events.eviction_interval = 0.02
    seen: list[Event] = []
    cache.events.subscribe(seen.append, kinds=["evict"])
    await asyncio.sleep(0.05)  # the first sample is the baseline
    for i in range(100):
        await call(cache.set(f"k{i}", i))
    assert await until(lambda: sum(e.payload["size"] for e in seen) >= 90)
    assert all(e.namespace == "n" and e.kind == "evict" for e in seen)
    await call(cache.close())


async def test_invalidate_on_deletes_the_mapped_keys_before_subscribers_hear(
    cache_cls: type[Any],
) -> None:
    cache = cache_cls()
    await call(cache.set("product:7", "old"))
    await call(cache.set("product:8", "kept"))
    cache.invalidate_on("product.updated", keys=lambda p: [f"product:{p['id']}"])
    present: list[bool] = []

    def handler(event: Event) -> None:
        present.append("product:7" in cache)

    cache.events.subscribe(handler, kinds=["app"])
    await call(cache.events.emit("product.updated", {"id": 7}))
    assert await until(lambda: present == [False])
    assert await call(cache.get("product:7")) is None
    assert await call(cache.get("product:8")) == "kept"
    await call(cache.close())


async def test_invalidate_on_function_errors_reach_emit(cache_cls: type[Any]) -> None:
    cache = cache_cls()
    seen: list[Event] = []
    cache.events.subscribe(seen.append, kinds=["app"])
    cache.invalidate_on("a", keys=lambda p: "one-key")
    cache.invalidate_on("b", keys=lambda p: [1])
    cache.invalidate_on("c", keys=lambda p: p["missing"])
    with pytest.raises(TypeError, match="single str"):
        await call(cache.events.emit("a", {}))
    with pytest.raises(TypeError, match="int, not a str"):
        await call(cache.events.emit("b", {}))
    with pytest.raises(KeyError):
        await call(cache.events.emit("c", {}))
    await asyncio.sleep(0.02)
    assert seen == []  # nothing was emitted
    await call(cache.close())


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"handler": 42}, TypeError, "callable"),
        ({"kinds": ["sett"]}, ConfigError, "unknown event kind 'sett'"),
        ({"kinds": "set"}, TypeError, "single str"),
        ({"kinds": []}, ConfigError, "empty"),
        ({"kinds": [1]}, TypeError, "hold str"),
        ({"namespaces": ["a\x1fb"]}, ConfigError, "U\\+001F"),
        ({"names": ["has space"]}, ConfigError, "invalid"),
        ({"queue_size": 0}, ConfigError, "queue_size"),
        ({"queue_size": None}, TypeError, "queue_size must be an int"),
    ],
)
def test_subscribe_refuses_bad_input(kwargs: dict[str, Any], error: type, match: str) -> None:
    cache = stratacache.Cache()
    handler = kwargs.pop("handler", print)
    with pytest.raises(error, match=match):
        cache.events.subscribe(handler, **kwargs)
    assert cache.stats().events.subscribers == 0
    cache.close()


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("", ValueError),
        ("a b", ValueError),
        ("x" * 201, ValueError),
        (3, TypeError),
        ("a\nb", ValueError),
        ("\ud800", ValueError),
    ],
)
async def test_emit_refuses_bad_names(cache_cls: type[Any], name: Any, error: type) -> None:
    cache = cache_cls()
    with pytest.raises(error, match="event name"):
        await call(cache.events.emit(name))
    with pytest.raises(error, match="event name"):
        cache.invalidate_on(name, keys=list)
    await call(cache.close())


def test_invalidate_on_and_events_refuse_bad_input() -> None:
    cache = stratacache.Cache()
    with pytest.raises(ConfigError, match="keys=, tags="):
        cache.invalidate_on("x")
    with pytest.raises(TypeError, match="keys must be a function"):
        cache.invalidate_on("x", keys=["k"])  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="needs redis"):
        stratacache.Cache(events=True)
    with pytest.raises(TypeError, match="events must be a bool"):
        stratacache.Cache(events="yes")  # type: ignore[arg-type]
    cache.close()


def test_subscription_repr_and_context_manager() -> None:
    cache = stratacache.Cache()
    with cache.events.subscribe(print, kinds=["app"]) as sub:
        assert isinstance(sub, Subscription)
        assert "pending=0" in repr(sub)
    assert "closed" in repr(sub)
    cache.close()
