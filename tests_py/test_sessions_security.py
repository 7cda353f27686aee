"""Session ids under attack, on a real redis-server: forged, truncated, oversized, non-ASCII,
tampered and transplanted records, and ids kept out of logs, reprs and exception messages."""

from __future__ import annotations

import logging
import os
import secrets
import threading
import traceback
from collections.abc import Iterator

import pytest
import redis

import stratacache
from stratacache.sessions import SessionStore
from stratacache.testing.redis_servers import RedisServer

KEY = os.urandom(32)


@pytest.fixture
def store(redis_clean_url: str) -> Iterator[SessionStore]:
    s = SessionStore(redis_clean_url, codec=stratacache.Codec(encryption_keys=KEY))
    yield s
    s.close()


def test_bad_ids_are_refused_cleanly(store: SessionStore) -> None:
    real = store.create("alice", 1).id
    bad = [
        secrets.token_urlsafe(32),  # well formed, never issued
        real[:-1],  # truncated
        real + "A",  # one too many
        real * 200,  # oversized
        "",
        "é" + real[1:],  # non-ASCII, right length
        "\x00" + real[1:],
        real[:-1] + "=",  # outside the alphabet
        real.encode(),  # bytes
        " " + real[1:],
    ]
    for forged in bad:
        assert store.get(forged) is None  # type: ignore[arg-type]
        assert store.update(forged, 2) is False  # type: ignore[arg-type]
        assert store.touch(forged) is False  # type: ignore[arg-type]
        assert store.revoke(forged) is False  # type: ignore[arg-type]
    stats = store.stats()
    assert stats.refused_malformed == 4 * (len(bad) - 1)  # all but the well-formed forgery
    assert store.get(real) is not None
    with pytest.raises(TypeError, match="session_id must be a str, not int") as info:
        store.get(12345)  # type: ignore[arg-type]
    assert "12345" not in str(info.value)


def test_tampered_and_transplanted_records_are_refused(
    store: SessionStore, redis_clean_url: str
) -> None:
    a = store.create("alice", "alice's")
    b = store.create("mallory", "mallory's")
    raw = redis.Redis.from_url(redis_clean_url)
    keys = {k for k in raw.keys("sc:sess:*") if raw.type(k) == b"hash"}
    assert len(keys) == 2
    blobs = {k: raw.hget(k, "b") for k in keys}
    ka, kb = sorted(keys)
    raw.hset(ka, "b", blobs[kb])  # one session's record under the other's key
    raw.hset(kb, "b", blobs[kb][:-1] + bytes([blobs[kb][-1] ^ 1]))  # one bit flipped
    assert store.get(a.id) is None
    assert store.get(b.id) is None
    assert store.stats().refused_corrupt == 2
    raw.close()


def test_ids_never_appear_in_logs_reprs_or_errors(
    caplog: pytest.LogCaptureFixture, fresh_redis_server: RedisServer
) -> None:
    caplog.set_level(logging.DEBUG)
    store = SessionStore(
        fresh_redis_server.url,
        codec=stratacache.Codec(encryption_keys=KEY),
        max_per_user=1,
        bind_ip=True,
    )
    s = store.create("alice", {"x": 1}, ip="10.0.0.1")
    later = store.create("alice", {"x": 2}, ip="10.0.0.1")  # evicts s
    texts = [repr(s), str(s), repr(later), f"{later}", repr(store), repr(store.list("alice"))]
    store.get(s.id, ip="10.0.0.1")
    store.get(later.id, ip="10.9.9.9")
    fresh_redis_server.kill()
    errors = []
    for call in (store.get, store.revoke, store.touch):
        try:
            call(later.id)
        except Exception as exc:  # noqa: BLE001 - the message and traceback are inspected
            errors.append("".join(traceback.format_exception(exc)))
    assert len(errors) == 3  # Redis is down: each call raised
    store.close()
    for sid in (s.id, later.id):
        assert sid not in caplog.text
        for text in texts + errors:
            assert sid not in text


def test_concurrent_revoke_and_update_race_cleanly(store: SessionStore) -> None:
    sessions = [store.create("alice", 0) for _ in range(100)]
    results: list[object] = []
    failures: list[BaseException] = []

    def updater() -> None:
        try:
            for s in sessions:
                results.append(store.update(s.id, 1))
                results.append(store.get(s.id))
        except BaseException as exc:  # noqa: BLE001 - any exception fails the test
            failures.append(exc)

    def revoker() -> None:
        try:
            for s in reversed(sessions):
                store.revoke(s.id)
        except BaseException as exc:  # noqa: BLE001
            failures.append(exc)

    threads = [threading.Thread(target=updater), threading.Thread(target=revoker)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert failures == []
    assert all(r in (True, False, None) or r.user_id == "alice" for r in results)  # type: ignore[union-attr]
    assert all(store.get(s.id) is None for s in sessions)  # revoked stays revoked
    assert store.list("alice") == []
