"""What only the WSGI middleware does: a sync cache only, write(), sharing by Redis."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

import stratacache
from stratacache.contrib import wsgi
from stratacache.testing import http_servers

from .conftest import Calls, wsgi_app

httpx = pytest.importorskip("httpx")


def test_async_cache_is_refused() -> None:
    with pytest.raises(TypeError, match="sync"):
        wsgi.CacheMiddleware(wsgi_app(Calls()), stratacache.AsyncCache())  # type: ignore[arg-type]


def test_body_sent_by_write_is_cached() -> None:
    calls = Calls()

    def legacy(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(f"call {calls.take()}".encode())
        return []

    app = wsgi.CacheMiddleware(legacy, stratacache.Cache(), ttl=60)
    with http_servers.wsgi_server(app) as url:
        first = httpx.get(url + "/w", timeout=10)
        second = httpx.get(url + "/w", timeout=10)
    assert first.text == second.text == "call 1"
    assert second.headers["x-cache"] == "hit"


def test_concurrent_misses_ask_the_app_once() -> None:
    calls = Calls()
    inner = wsgi_app(calls)

    def slow(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        time.sleep(0.2)
        return inner(environ, start_response)

    app = wsgi.CacheMiddleware(slow, stratacache.Cache(), ttl=60)
    with (
        http_servers.wsgi_server(app, threaded=True) as url,
        ThreadPoolExecutor(max_workers=6) as pool,
    ):
        answers = list(pool.map(lambda _: httpx.get(url + "/r?c=1", timeout=10), range(6)))
    assert calls.n == 1
    assert sorted(a.headers["x-cache"] for a in answers) == ["hit"] * 5 + ["miss"]
    assert {a.text for a in answers} == {"call 1 lang=- seg=-"}


def test_a_stream_does_not_hold_back_concurrent_requests() -> None:
    """The first request streams until a second one reaches the app: had the second waited
    for the first's body to be read, both would time out."""
    second = threading.Event()
    seen: list[int] = []

    def hold(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        seen.append(len(seen))
        first = len(seen) == 1
        if not first:
            second.set()
        start_response("200 OK", [("Content-Type", "text/plain")])

        def body() -> Iterable[bytes]:
            yield b"start "
            if first and not second.wait(timeout=5):
                msg = "the second request never reached the app"
                raise RuntimeError(msg)
            yield b"end"

        return body()

    app = wsgi.CacheMiddleware(hold, stratacache.Cache(), ttl=60)
    with (
        http_servers.wsgi_server(app, threaded=True) as url,
        ThreadPoolExecutor(max_workers=2) as pool,
    ):
        answers = list(pool.map(lambda _: httpx.get(url + "/hold", timeout=10), range(2)))
    assert [a.text for a in answers] == ["start end"] * 2
    assert seen == [0, 1]


def test_workers_share_entries_through_redis(redis_clean_url: str) -> None:
    calls = Calls()
    with (
        stratacache.Cache(redis=redis_clean_url) as first,
        stratacache.Cache(redis=redis_clean_url) as second,
        http_servers.wsgi_server(wsgi.CacheMiddleware(wsgi_app(calls), first)) as url_a,
        http_servers.wsgi_server(wsgi.CacheMiddleware(wsgi_app(calls), second)) as url_b,
    ):
        # workers behind one address see one Host; the ports differ only in this test
        miss = httpx.get(url_a + "/r?shared=1", headers={"host": "shop.test"}, timeout=10)
        hit = httpx.get(url_b + "/r?shared=1", headers={"host": "shop.test"}, timeout=10)
    assert (miss.headers["x-cache"], hit.headers["x-cache"]) == ("miss", "hit")
    assert hit.text == miss.text
    assert calls.n == 1
