"""Health endpoints over `cache.health()`: an ASGI app and a WSGI app, no extra needed.

    app.mount("/healthz", health_asgi_app(cache))        # Starlette / FastAPI
    health_wsgi_app(cache)                               # any WSGI server or framework

GET (or HEAD) answers 200 with the JSON of `Health.as_dict()` while the cache is healthy, and
503 with the same body when a tier is down; other methods get 405. `stratacache health URL`
checks such an endpoint from a shell.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from .._options import require_type
from ..caches import AsyncCache, Cache
from ..health import Health

__all__ = ["health_asgi_app", "health_wsgi_app", "response_for"]

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


def response_for(health: Health) -> tuple[int, bytes]:
    """(HTTP status, JSON body) for a health report."""
    body = json.dumps(health.as_dict(), sort_keys=True).encode()
    return (200 if health.healthy else 503), body


def health_asgi_app(cache: Cache | AsyncCache) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """An ASGI app reporting `cache.health()`; a sync Cache's check runs on a worker thread.

    Raises:
        TypeError: cache is not a Cache or AsyncCache.
    """
    require_type(cache, (Cache, AsyncCache), "cache", "a stratacache Cache or AsyncCache")

    async def check() -> Health:
        if isinstance(cache, AsyncCache):
            return await cache.health()
        return await asyncio.to_thread(cache.health)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        if scope["method"] not in ("GET", "HEAD"):
            await _send(send, 405, b'{"error": "method not allowed"}', scope["method"])
            return
        status, body = response_for(await check())
        await _send(send, status, body, scope["method"])

    return app


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _send(send: Send, status: int, body: bytes, method: str) -> None:
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if method == "HEAD" else body})


def health_wsgi_app(cache: Cache) -> Callable[[dict[str, Any], Any], Iterable[bytes]]:
    """A WSGI app reporting `cache.health()` (a sync Cache: an AsyncCache's clients belong to
    its event loop, which a WSGI worker does not run).

    Raises:
        TypeError: cache is not a Cache.
    """
    require_type(cache, Cache, "cache", "a stratacache Cache (an AsyncCache needs ASGI)")
    reasons = {200: "200 OK", 405: "405 Method Not Allowed", 503: "503 Service Unavailable"}

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        if method not in ("GET", "HEAD"):
            status, body = 405, b'{"error": "method not allowed"}'
        else:
            status, body = response_for(cache.health())
        headers = [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-store"),
        ]
        start_response(reasons[status], headers)
        return [b"" if method == "HEAD" else body]

    return app
