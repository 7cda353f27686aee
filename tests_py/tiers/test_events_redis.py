"""The event broker across processes on real redis-server: a child process emitting, events
of caches standing for other processes, events=True, forged frames, signed codecs,
invalidate_on, the breaker's tier events, and Cluster pub/sub."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import redis

import stratacache
from stratacache import Codec, RedisOptions
from stratacache.events import Event, _wire
from stratacache.testing.redis_servers import RedisClusterGroup, RedisServer

from ..conftest import call
from .conftest import until

CHILD = str(Path(__file__).with_name("events_child.py"))
KEY = bytes(range(32))


def run_child(*args: str, timeout: float = 30) -> list[Any]:
    out = subprocess.run(
        [sys.executable, CHILD, *args], capture_output=True, text=True, timeout=timeout, check=True
    )
    return [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]


def collect(cache: Any, **filters: Any) -> list[Event]:
    seen: list[Event] = []
    cache.events.subscribe(seen.append, **filters)
    return seen


async def listening(*caches: Any) -> None:
    """Waits for the caches' subscriptions (an AsyncCache made in a loop does not wait)."""
    for cache in caches:
        assert await until(lambda c=cache: c._stats().l2.coherent)


async def test_events_emitted_by_a_child_process_arrive_decoded(
    tiered: Callable[..., Any], redis_clean_url: str
) -> None:
    cache = tiered(redis_clean_url)
    seen = collect(cache, kinds=["app"])
    await listening(cache)
    [report] = run_child("emit", redis_clean_url, "order.paid", "20")
    assert report["stats"]["published"] == 20
    assert await until(lambda: len(seen) == 20)
    assert [e.payload["i"] for e in seen] == list(range(20))  # in order
    assert all(e.name == "order.paid" and not e.local for e in seen)
    assert len({e.origin for e in seen}) == 1
    assert seen[0].origin != cache.events.origin
    assert cache.stats().events.received == 20


async def test_cache_events_go_out_only_with_events_true(
    tiered: Callable[..., Any], redis_clean_url: str
) -> None:
    quiet, loud, other = (
        tiered(redis_clean_url),
        tiered(redis_clean_url, events=True),
        tiered(redis_clean_url),
    )
    seen = collect(other)
    await listening(other)
    await call(quiet.set("q", 1))
    await call(loud.set("l", 2, tags=["t"]))
    await call(loud.delete("l"))
    await call(loud.invalidate_tags("t"))
    assert loud.events.flush()  # its events are on the channel before the marker
    await call(quiet.events.emit("marker"))
    assert await until(lambda: any(e.name == "marker" for e in seen))
    assert await until(lambda: len(seen) == 4)
    got = [(e.kind, e.name, e.keys, e.tags, e.local) for e in seen]
    assert ("set", "set", ("l",), ("t",), False) in got
    assert ("delete", "delete", ("l",), (), False) in got
    assert ("invalidate", "tags", (), ("t",), False) in got
    assert not any(e.keys == ("q",) for e in seen)
    assert loud.stats().events.published >= 3


async def test_forged_frames_are_dropped_and_counted(
    tiered: Callable[..., Any], redis_clean_url: str
) -> None:
    signed = Codec(signing_key=KEY)
    cache = tiered(redis_clean_url, codec=signed)
    seen = collect(cache)
    await listening(cache)
    channel, key = cache._tier.channel, _wire.frame_key(cache._tier.prefix)
    body = ["someone", 1, "app", "x", "", [], [], None, "evil", 0]
    forged = [
        _wire.MAGIC + b"junk",
        _wire.MAGIC,
        _wire.MAGIC + Codec().encode_entry(key, body),  # unsigned
        _wire.MAGIC + Codec(signing_key=bytes(32)).encode_entry(key, body),  # another key
        _wire.MAGIC + signed.encode_entry("another-key", body),  # bound to another key
        _wire.MAGIC + signed.encode_entry(key, ["short"]),  # signed, wrong shape
        _wire.MAGIC + signed.encode_entry(key, [*body[:2], "nokind", *body[3:]]),
        _wire.MAGIC + Codec().encode_entry(key, [0] * 2_000_000)[:200],  # truncated, huge
    ]
    client = redis.Redis.from_url(redis_clean_url)
    try:
        for frame in forged:
            client.publish(channel, frame)
    finally:
        client.close()
    await call(tiered(redis_clean_url, codec=signed).events.emit("genuine", 1))
    assert await until(lambda: len(seen) == 1)
    assert seen[0].name == "genuine"
    assert cache.stats().events.malformed == len(forged)
    assert cache.stats().l2.invalidations_malformed == 0  # frames are not taken for messages
    assert await call(cache.get("anything")) is None  # the subscriber thread survived


async def test_a_cache_with_another_signing_key_refuses_the_events(
    tiered: Callable[..., Any], redis_clean_url: str
) -> None:
    a = tiered(redis_clean_url, codec=Codec(signing_key=KEY))
    b = tiered(redis_clean_url, codec=Codec(signing_key=KEY))
    stranger = tiered(redis_clean_url, codec=Codec(signing_key=bytes(32)))
    in_b, in_stranger = collect(b), collect(stranger)
    await listening(b, stranger)
    await call(a.events.emit("secret.rotated", {"v": 2}))
    assert await until(lambda: len(in_b) == 1)
    assert in_b[0].payload == {"v": 2}
    assert await until(lambda: stranger.stats().events.malformed == 1)
    assert in_stranger == []


async def test_invalidate_on_in_a_child_process_drops_our_copies(
    tiered: Callable[..., Any], redis_clean_url: str
) -> None:
    cache = tiered(redis_clean_url)
    assert await until(lambda: cache._stats().l2.coherent)  # else L1 keeps little
    await call(cache.set("product:7", "old price"))
    await call(cache.set("listing", "with 7", tags=["product-7"]))
    await call(cache.set("product:8", "kept"))
    assert "product:7" in cache  # in our L1
    seen = collect(cache, kinds=["app"])
    run_child("invalidate", redis_clean_url, "7")
    assert await until(lambda: len(seen) == 1)  # published after the invalidations
    assert await until(lambda: "product:7" not in cache)
    assert await call(cache.get("product:7")) is None
    assert await call(cache.get("listing")) is None
    assert await call(cache.get("product:8")) == "kept"
    assert seen[0].payload == {"id": 7}


async def test_async_handler_receives_remote_events(redis_clean_url: str) -> None:
    a = stratacache.AsyncCache(redis=redis_clean_url)
    b = stratacache.AsyncCache(redis=redis_clean_url)
    got: list[Any] = []

    async def handler(event: Event) -> None:
        got.append(event.payload)

    b.events.subscribe(handler, names=["ping"])
    await listening(b)
    await a.events.emit("ping", [1, 2, 3])
    assert await until(lambda: got == [[1, 2, 3]])
    await a.close()
    await b.close()


async def test_breaker_opening_and_closing_are_tier_events(
    cache_cls: type[Any], fresh_redis_server: RedisServer
) -> None:
    breaker = stratacache.BreakerConfig(failure_threshold=1, recovery_time=0.2)
    options = RedisOptions(breaker=breaker, retries=0, socket_timeout=0.1, connect_timeout=0.1)
    cache = cache_cls(redis=fresh_redis_server.url, redis_options=options)
    seen = collect(cache, kinds=["tier_down", "tier_up"])
    fresh_redis_server.kill()
    await call(cache.get("k"))
    assert await until(lambda: [e.kind for e in seen] == ["tier_down"])
    fresh_redis_server.restart()

    async def up() -> bool:
        await call(cache.get("k"))
        return [e.kind for e in seen] == ["tier_down", "tier_up"]

    assert await until(up)
    assert seen[0].payload == {"tier": "redis"}
    await call(cache.close())


async def test_cluster_pubsub_carries_events(
    tiered: Callable[..., Any], redis_cluster_clean: RedisClusterGroup
) -> None:
    a = tiered(redis_cluster_clean.url, events=True)
    b = tiered(redis_cluster_clean.url)
    seen = collect(b)
    await listening(b)
    await call(a.set("user:1", 1))
    await call(a.events.emit("user.renamed", {"id": 1}))
    assert await until(lambda: len(seen) == 2)
    assert [(e.kind, e.keys) for e in seen] == [("set", ("user:1",)), ("app", ())]


def test_emit_with_a_payload_the_codec_refuses_raises(redis_clean_url: str) -> None:
    with stratacache.Cache(redis=redis_clean_url) as cache:
        seen = collect(cache)
        with pytest.raises(stratacache.SerializationError):
            cache.events.emit("x", object())
        assert cache.events.flush()
        assert cache.stats().events.published == 0
        assert seen == []


def test_frames_and_coherence_messages_never_decode_as_each_other() -> None:
    from stratacache.tiers.redis.plan import Message  # noqa: PLC0415

    old = Message("origin", "k", "ns", ("a", "b")).encode()
    assert Message.decode(old) == Message("origin", "k", "ns", ("a", "b"))  # unchanged
    sent = Event("app", "x", "", payload={"p": 1}, origin="o", seq=1, time=5.0)
    frame = _wire.encode(Codec(), "sc:events", sent)
    assert frame.startswith(_wire.MAGIC)
    assert Message.decode(frame) is None
    assert _wire.decode(Codec(), "sc:events", _wire.MAGIC + old) is None
    assert _wire.decode(Codec(), "sc:events", frame) == sent._replace(local=False)
    assert _wire.decode(Codec(), "sc:other", frame) is not None  # unsigned: no binding
    signed = Codec(signing_key=KEY)
    assert _wire.decode(signed, "sc:other", _wire.encode(signed, "sc:events", sent)) is None
