"""The subscriber thread's reads (`tiers/redis/coherence.py`): many replies per wake-up.

It reads what the socket holds in one go and takes every complete reply from a hiredis
reader of its own; these tests send bursts that arrive together, and replies split across
reads, and count what was applied.
"""

from __future__ import annotations

import socket
import time

import redis

import stratacache
from stratacache.tiers.redis.plan import Message, channel

DEADLINE = 5.0


def _until(predicate: object, timeout: float = DEADLINE) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.005)
    return False


def test_a_burst_of_messages_is_applied_whole_and_our_own_are_skipped(
    redis_clean_url: str,
) -> None:
    cache = stratacache.Cache(redis=redis_clean_url, default_ttl=60)
    raw = redis.Redis.from_url(redis_clean_url)
    try:
        assert cache._subscriber.connected.wait(DEADLINE)
        for i in range(300):
            cache.set(f"k{i}", i)  # our own writes: one echo each, never counted
        assert all(cache.get(f"k{i}") == i for i in range(300))  # nothing dropped
        stats = cache._stats().l2
        received, malformed = stats.invalidations_received, stats.invalidations_malformed
        chan = channel("sc:")
        own = cache._tier.origin
        pipe = raw.pipeline(transaction=False)  # one write: the messages arrive together
        for i in range(300):
            origin = own if i % 3 == 0 else "another"
            pipe.publish(chan, Message(origin, "k", "", (f"k{i}",)).encode())
        pipe.publish(chan, b"not a message")
        pipe.execute()
        assert _until(lambda: cache._stats().l2.invalidations_malformed == malformed + 1)
        assert _until(lambda: cache._stats().l2.invalidations_received == received + 200)
        held = [i for i in range(300) if cache._store.contains(cache._prefix, f"k{i}")]
        assert held == list(range(0, 300, 3))  # only the others' messages dropped keys
    finally:
        raw.close()
        cache.close()


def test_a_message_split_across_reads_is_applied_once_complete(redis_clean_url: str) -> None:
    cache = stratacache.Cache(redis=redis_clean_url, default_ttl=60)
    try:
        assert cache._subscriber.connected.wait(DEADLINE)
        cache.set("long", 1)
        received = cache._stats().l2.invalidations_received
        # A key long enough that the message spans many TCP reads of the subscriber.
        key = "x" * 300_000
        cache.set(key, 2)
        message = Message("another", "k", "", (key, "long")).encode()
        host, port = redis_clean_url.removeprefix("redis://").split("/")[0].split(":")
        with socket.create_connection((host, int(port)), timeout=DEADLINE) as sock:
            chan = channel("sc:")
            sock.sendall(
                b"*3\r\n$7\r\nPUBLISH\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n"
                % (len(chan), chan, len(message), message)
            )
            assert sock.recv(16).startswith(b":1")
        assert _until(lambda: cache._stats().l2.invalidations_received == received + 1)
        assert not cache._store.contains(cache._prefix, "long")
        assert not cache._store.contains(cache._prefix, key)
    finally:
        cache.close()


def _publishes(server: redis.Redis) -> int:
    stats = server.info("commandstats")
    return int(stats.get("cmdstat_publish", {}).get("calls", 0))


def test_a_process_alone_stops_publishing_and_starts_again_for_a_newcomer(
    redis_clean_url: str,
) -> None:
    # Nobody else listens: sets send no PUBLISH (our own subscriber would only read it back).
    # A cache that subscribes later is told of every write made after it came up.
    raw = redis.Redis.from_url(redis_clean_url)
    a = stratacache.Cache(redis=redis_clean_url, default_ttl=60)
    b = None
    try:
        assert a._subscriber.connected.wait(DEADLINE)
        a.set("k", 0)  # heard by our own subscriber alone: the next sets ask first
        before = _publishes(raw)
        for i in range(20):
            a.set("k", i)
        assert _publishes(raw) == before
        b = stratacache.Cache(redis=redis_clean_url, default_ttl=60)
        assert b._subscriber.connected.wait(DEADLINE)
        assert b.get("k") == 19  # now in b's L1
        for i in range(20, 25):
            a.set("k", i)
            assert _until(lambda i=i: b.get("k") == i)  # type: ignore[misc]
        assert _publishes(raw) >= before + 5
    finally:
        a.close()
        if b is not None:
            b.close()
        raw.close()


def test_a_writer_whose_subscription_is_down_still_tells_the_others(
    redis_clean_url: str,
) -> None:
    # Our presence channel counts our own subscription apart: with it gone, the one listener
    # on the channel is another process, and it is told.
    a = stratacache.Cache(redis=redis_clean_url, default_ttl=60)
    b = stratacache.Cache(redis=redis_clean_url, default_ttl=60)
    try:
        assert a._subscriber.connected.wait(DEADLINE)
        assert b._subscriber.connected.wait(DEADLINE)
        a._subscriber.stop()
        a.set("k", 0)  # heard by b alone: one subscriber, so a asks before the next sets
        assert b.get("k") == 0
        for i in range(1, 6):
            a.set("k", i)
            assert _until(lambda i=i: b.get("k") == i)  # type: ignore[misc]
    finally:
        a.close()
        b.close()
