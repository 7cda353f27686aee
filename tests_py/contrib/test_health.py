"""stratacache.contrib.health over real HTTP (wsgiref and uvicorn on loopback ports), and
`stratacache health URL` against it."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest
import uvicorn

import stratacache
from stratacache import RedisOptions
from stratacache.contrib.health import health_asgi_app, health_wsgi_app
from stratacache.testing._process import free_port
from stratacache.testing.redis_servers import RedisServer

FAST = RedisOptions(socket_timeout=0.05, connect_timeout=0.05, retries=0)


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """No access log on stderr."""


def serve_wsgi(app: Any) -> tuple[str, Any, threading.Thread]:
    server = make_server("127.0.0.1", 0, app, handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return f"http://127.0.0.1:{server.server_port}/healthz", server, thread


@pytest.fixture
def wsgi_url(fresh_redis_server: RedisServer) -> Iterator[tuple[str, RedisServer]]:
    cache = stratacache.Cache(redis=fresh_redis_server.url, redis_options=FAST)
    url, server, thread = serve_wsgi(health_wsgi_app(cache))
    try:
        yield url, fresh_redis_server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        cache.close()


def fetch(url: str, method: str = "GET") -> tuple[int, bytes]:
    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return int(r.status), r.read()
    except urllib.error.HTTPError as e:
        return int(e.code), e.read()


def cli_health(url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stratacache", "health", url, "--timeout", "5"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_wsgi_endpoint_answers_200_then_503_when_redis_is_paused(
    wsgi_url: tuple[str, RedisServer],
) -> None:
    url, redis_server = wsgi_url
    status, body = fetch(url)
    assert status == 200
    report = json.loads(body)
    assert report["healthy"] is True
    assert report["tiers"]["redis"]["breaker"] == "closed"
    ok = cli_health(url)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ok.stdout.startswith("healthy")
    redis_server.pause()
    try:
        status, body = fetch(url)
        assert status == 503
        assert json.loads(body)["tiers"]["redis"]["status"] == "down"
        bad = cli_health(url)
        assert bad.returncode == 1
        assert bad.stdout.startswith("UNHEALTHY (HTTP 503)")
        assert "redis  down" in bad.stdout
    finally:
        redis_server.resume()


def test_wsgi_endpoint_refuses_other_methods_and_heads_have_no_body(
    wsgi_url: tuple[str, RedisServer],
) -> None:
    url, _ = wsgi_url
    assert fetch(url, "POST")[0] == 405
    status, body = fetch(url, "HEAD")
    assert (status, body) == (200, b"")


def test_cli_health_exits_1_when_nothing_answers() -> None:
    result = cli_health(f"http://127.0.0.1:{free_port()}/healthz")
    assert result.returncode == 1
    assert "did not answer" in result.stderr


def test_wsgi_app_wants_a_sync_cache() -> None:
    with pytest.raises(TypeError, match="Cache"):
        health_wsgi_app(stratacache.AsyncCache())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Cache or AsyncCache"):
        health_asgi_app(None)  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_asgi_endpoint_under_uvicorn(kind: str, redis_url: str) -> None:
    cache: Any = stratacache.Cache(redis=redis_url) if kind == "sync" else stratacache.AsyncCache()
    port = free_port()
    config = uvicorn.Config(
        health_asgi_app(cache), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        assert server.started
        status, body = fetch(f"http://127.0.0.1:{port}/")
        assert status == 200
        report = json.loads(body)
        assert report["healthy"] is True
        assert ("redis" in report["tiers"]) == (kind == "sync")
        assert fetch(f"http://127.0.0.1:{port}/", "DELETE")[0] == 405
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        if kind == "sync":
            cache.close()
