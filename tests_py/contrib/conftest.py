"""Fixtures of the HTTP caching tests (test_asgi*.py, test_wsgi*.py).

One test application, as a Starlette (ASGI) app and as a plain WSGI app, served for real.

The app answers ``/r`` as its query asks (status, Cache-Control, Vary, Set-Cookie, ETag, body
size, streaming), and its body names the call number, so a test tells a cached answer from a
fresh one by the body as well as by ``X-Cache``. `served` runs it behind the middleware on a
loopback port, over the ASGI and WSGI servers and over an L1 cache or L1 + a real Redis.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import pytest

import stratacache
from stratacache.contrib import asgi, wsgi
from stratacache.testing import http_servers, redis_servers


class Calls:
    """Counts the application's calls (shared by both apps of one test)."""

    def __init__(self) -> None:
        self._next = itertools.count(1)
        self.n = 0

    def take(self) -> int:
        self.n = next(self._next)
        return self.n


def answer(calls: Calls, query: dict[str, str], headers: dict[str, str]) -> dict[str, Any]:
    """What /r answers: status, headers (lower-case) and body, or a list of chunks."""
    n = calls.take()
    body = f"call {n} lang={headers.get('accept-language', '-')} seg={headers.get('x-seg', '-')}"
    size = int(query.get("size", "0"))
    raw = body.encode() + b"." * max(0, size - len(body))
    out: list[tuple[str, str]] = [("content-type", "text/plain")]
    for name, key in (("cache-control", "cc"), ("vary", "vary"), ("etag", "etag"), ("age", "age")):
        if key in query:
            out.append((name, query[key]))
    if "cookie" in query:
        out.append(("set-cookie", "sid=" + str(n)))
    status = int(query.get("status", "200"))
    if "stream" in query:
        return {"status": status, "headers": out, "chunks": [raw[:10], raw[10:], b"!"]}
    return {"status": status, "headers": [*out, ("content-length", str(len(raw)))], "body": raw}


def starlette_app(calls: Calls) -> Any:
    """The test app on Starlette (imported here: the Django tests share this directory)."""
    applications = pytest.importorskip("starlette.applications")
    from starlette.requests import Request  # noqa: PLC0415
    from starlette.responses import Response, StreamingResponse  # noqa: PLC0415
    from starlette.routing import Route  # noqa: PLC0415

    async def generic(request: Request) -> Response:
        if "sleep" in request.query_params:  # a slow endpoint, for concurrent misses
            await asyncio.sleep(float(request.query_params["sleep"]))
        a = answer(calls, dict(request.query_params), dict(request.headers))
        headers = {k: v for k, v in a["headers"] if k != "content-length"}
        if "chunks" in a:
            chunks: list[bytes] = a["chunks"]

            async def stream() -> Any:
                for c in chunks:
                    yield c

            return StreamingResponse(stream(), status_code=a["status"], headers=headers)
        return Response(a["body"], status_code=a["status"], headers=headers)

    @asgi.cache_route(ttl=30, vary=("x-seg",))
    async def marked(request: Request) -> Response:
        return await generic(request)

    methods = ["GET", "HEAD", "POST"]
    routes = [Route("/r", generic, methods=methods), Route("/marked", marked, methods=methods)]
    return applications.Starlette(routes=routes)


def wsgi_app(calls: Calls) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        headers = {
            k[5:].replace("_", "-").lower(): str(v)
            for k, v in environ.items()
            if k.startswith("HTTP_")
        }
        a = answer(calls, query, headers)
        status = f"{a['status']} X"
        start_response(status, a["headers"])
        return iter(a["chunks"]) if "chunks" in a else [a["body"]]

    return app


@dataclass
class Served:
    """A running app behind the middleware."""

    url: str
    calls: Calls
    kind: str  # "asgi" or "wsgi"


SERVED = ["asgi-async-l1", "asgi-sync-l1", "wsgi-l1", "asgi-async-redis", "wsgi-redis"]


@pytest.fixture(params=SERVED)
def served_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def make_cache(kind: str, redis_url: str | None) -> Any:
    cls = stratacache.AsyncCache if "async" in kind else stratacache.Cache
    return cls(max_entries=1000, redis=redis_url) if redis_url else cls(max_entries=1000)


@pytest.fixture
def serve(served_kind: str, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A factory: serve(**middleware options) -> Served, over the parametrised server and tier."""
    redis_url = None
    if served_kind.endswith("redis"):
        server: redis_servers.RedisServer = request.getfixturevalue("redis_server")
        server.flushall()
        redis_url = server.url
    with contextlib.ExitStack() as stack:

        def start(**options: Any) -> Served:
            calls = Calls()
            cache = make_cache(served_kind, redis_url)
            options.setdefault("ttl", 60)
            if served_kind.startswith("wsgi"):
                app = wsgi.CacheMiddleware(wsgi_app(calls), cache, **options)
                url = stack.enter_context(http_servers.wsgi_server(app))
                stack.callback(cache.close)
                return Served(url, calls, "wsgi")
            mw = asgi.CacheMiddleware(starlette_app(calls), cache, **options)
            url = stack.enter_context(http_servers.asgi_server(mw, on_shutdown=closer(cache)))
            return Served(url, calls, "asgi")

        yield start


def closer(cache: Any) -> Any:
    """A coroutine function closing `cache` in the server's loop (sync caches close at once)."""

    async def close() -> None:
        result = cache.close()
        if result is not None:
            await result

    return close
