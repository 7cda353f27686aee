"""HTTP response caching for ASGI apps (Starlette, FastAPI, any ASGI 3 app), as a shared cache.

``app = CacheMiddleware(app, cache=AsyncCache(redis=...), ttl=60)`` answers GET and HEAD
from the cache following RFC 9111 (the rules are in `stratacache.contrib._http`, shared with
the WSGI middleware); `cache_route` sets a route's own TTL and Vary, and with
``routes="marked"`` only decorated routes are cached.

Which cache: an `AsyncCache` is awaited. A sync `Cache` with no Redis tier is called directly,
since its calls only touch the in-process store and never block; a sync `Cache` with a Redis
tier would block the event loop on each round trip, so its calls run in a worker thread
(`asyncio.to_thread`). Entries are plain dicts (status, headers, body), so a Redis tier shares
them between workers and processes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any, Literal, TypeVar

from .._options import TTL, check_ttl, require_type
from ..caches import AsyncCache, Cache
from . import _http

__all__ = ["CacheMiddleware", "cache_route"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
F = TypeVar("F", bound=Callable[..., Any])

_ROUTE_ATTR = "__stratacache_http__"
_CONDITIONAL = frozenset({b"if-none-match", b"if-modified-since", b"if-match", b"if-range"})


def cache_route(*, ttl: TTL = None, vary: Sequence[str] = ()) -> Callable[[F], F]:
    """Marks a Starlette or FastAPI endpoint as cached by the `CacheMiddleware` around it.

    The endpoint is returned unchanged (FastAPI still sees its signature); the middleware
    reads the mark from ``scope["endpoint"]`` once routing has run.

    Args:
        ttl: seconds its responses are kept when they carry no explicit freshness;
            None = the middleware's ttl.
        vary: request headers its responses vary on, added to their Vary.

    Raises:
        TypeError: ttl is not a number, or vary is not a sequence of str.
        InvalidTTLError: ttl is negative, NaN, or finite and above 1e15 seconds.
        ValueError: a vary name is empty.
    """
    policy = _http.RoutePolicy(ttl=check_ttl(ttl), vary=_http.check_vary(vary))

    def mark(endpoint: F) -> F:
        setattr(endpoint, _ROUTE_ATTR, policy)
        return endpoint

    return mark


class _Store:
    """get/set on the cache from a coroutine, without blocking the loop (module docstring)."""

    def __init__(self, cache: Cache | AsyncCache) -> None:
        self.cache = cache
        self.threaded = isinstance(cache, Cache) and getattr(cache, "_tier", None) is not None

    async def get(self, key: str) -> Any:
        if isinstance(self.cache, AsyncCache):
            return await self.cache.get(key)
        if self.threaded:
            return await asyncio.to_thread(self.cache.get, key)
        return self.cache.get(key)

    async def set(self, key: str, value: Any, ttl: float) -> None:
        if isinstance(self.cache, AsyncCache):
            await self.cache.set(key, value, ttl)
        elif self.threaded:
            await asyncio.to_thread(self.cache.set, key, value, ttl)
        else:
            self.cache.set(key, value, ttl)


class CacheMiddleware:
    """An ASGI middleware answering GET and HEAD from a stratacache cache (RFC 9111, shared).

    Args:
        app: the ASGI application.
        cache: a `stratacache.AsyncCache` (or a `Cache`: see the module docstring).
        ttl: seconds a response without explicit freshness is kept, if its status is
            heuristically cacheable (200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501);
            None = only responses with max-age, s-maxage or Expires.
        vary: request headers every response varies on (e.g. ``("accept-language",)``).
        max_body_bytes: larger bodies, and streamed ones (several chunks, no
            Content-Length), pass through unstored.
        segment: opt-in sharing for requests carrying Authorization or Cookie: a function
            of the request headers (lower-case names) returning the segment key their
            responses are shared within, or None to not share. Without it they bypass.
        cache_set_cookie: store responses with Set-Cookie (off: they are never stored).
        routes: "all" caches every route the rules allow; "marked" only `cache_route` ones.

    Raises:
        TypeError: cache is not a Cache or AsyncCache, or another argument's type is wrong.
        InvalidTTLError: ttl is negative, NaN, or finite and above 1e15 seconds.
        ValueError: max_body_bytes is negative, or routes is neither value.
    """

    def __init__(
        self,
        app: ASGIApp,
        cache: Cache | AsyncCache,
        *,
        ttl: TTL = 60.0,
        vary: Sequence[str] = (),
        max_body_bytes: int = 1 << 20,
        segment: _http.Segment | None = None,
        cache_set_cookie: bool = False,
        routes: Literal["all", "marked"] = "all",
    ) -> None:
        require_type(cache, (Cache, AsyncCache), "cache", "a stratacache Cache or AsyncCache")
        if routes not in ("all", "marked"):
            msg = f"routes must be 'all' or 'marked', got {routes!r}"
            raise ValueError(msg)
        self.app = app
        self.rules = _http.Rules(
            ttl=ttl,
            vary=vary,
            max_body_bytes=max_body_bytes,
            segment=segment,
            cache_set_cookie=cache_set_cookie,
        )
        self.routes = routes
        self._store = _Store(cache)
        self._pending: dict[str, asyncio.Event] = {}  # keys being asked for, by this loop

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = _request_headers(scope)
        plan = self.rules.plan(scope["method"], _url(scope, headers), headers)
        if plan is None:
            await self.app(scope, receive, _tag_miss(send))
            return
        if plan.lookup:
            found = await self._find(plan)
            if found is not None:
                await _respond(send, *found)
                return
        if plan.only_if_cached:
            await _respond(send, 504, [("content-length", "0"), ("x-cache", "miss")], b"")
            return
        if plan.lookup and plan.store:
            await self._collapsed(plan, scope, receive, send)
        else:
            await self._forward(plan, scope, receive, send)

    async def _collapsed(
        self, plan: _http.Plan, scope: Scope, receive: Receive, send: Send
    ) -> None:
        """Concurrent misses on one key ask the app once (RFC 9111 §4 allows collapsing).

        The first forwards; the others wait only until it knows what it got (stored, or
        passing through, as a stream may for minutes), then read what it stored or forward
        themselves (not storable, another variant, or the first request failed).
        """
        waiting = self._pending.get(plan.key)
        if waiting is not None:
            await waiting.wait()
            found = await self._find(plan)
            if found is not None:
                await _respond(send, *found)
            else:
                await self._forward(plan, scope, receive, send)
            return
        event = self._pending[plan.key] = asyncio.Event()

        def release() -> None:
            if self._pending.get(plan.key) is event:
                del self._pending[plan.key]
            event.set()

        try:
            await self._forward(plan, scope, receive, send, release)
        finally:
            release()

    async def _find(self, plan: _http.Plan) -> tuple[int, _http.Headers, bytes] | None:
        entry = await self._store.get(plan.key)
        names = _http.variant_names(entry)
        if names is not None:
            entry = await self._store.get(_http.variant_key(plan.key, names, plan.headers))
        return _http.serve(entry, plan, time.time())

    async def _forward(
        self,
        plan: _http.Plan,
        scope: Scope,
        receive: Receive,
        send: Send,
        decided: Callable[[], None] = lambda: None,
    ) -> None:
        """Asks the app (as a GET, without validators, so the answer is storable), then
        stores and answers, or passes the response through when it is not storable;
        `decided` is called as soon as it is known which."""
        inner = dict(scope)
        inner["method"] = "GET"
        inner["headers"] = [(k, v) for k, v in scope["headers"] if k.lower() not in _CONDITIONAL]
        capture = _Capture(self, plan, inner, send, decided)
        await self.app(inner, receive, capture.send)
        if capture.done:
            await self._store_and_answer(capture, send)
        elif capture.mode != "pass" and capture.start:  # ended without a last body message
            held = b"".join(capture.chunks)
            await capture.pass_through({"type": "http.response.body", "body": held})

    async def _store_and_answer(self, capture: _Capture, send: Send) -> None:
        plan, body = capture.plan, b"".join(capture.chunks)
        response = (capture.status, capture.headers, body)
        assert capture.lifetime is not None
        now = time.time()
        sent, records = _http.build_records(
            plan, self.rules, response, lifetime=capture.lifetime, now=now, route=capture.route
        )
        for key, value, ttl in records:
            await self._store.set(key, value, ttl)
        capture.decided()
        if _http.not_modified(plan.headers, sent):
            kept = [(k, v) for k, v in sent if k in {"etag", "cache-control", "vary", "date"}]
            await _respond(send, 304, [*kept, ("x-cache", "miss")], b"")
            return
        out = b"" if plan.head else body
        await _respond(send, capture.status, [*sent, ("x-cache", "miss")], out)


class _Capture:
    """The send the app sees on a miss: holds the response until it is known to be storable."""

    def __init__(
        self,
        owner: CacheMiddleware,
        plan: _http.Plan,
        scope: Scope,
        send: Send,
        decided: Callable[[], None],
    ) -> None:
        self.owner, self.plan, self.scope, self.downstream = owner, plan, scope, send
        self.decided = decided
        self.mode: Literal["start", "buffer", "pass"] = "start"
        self.done = False
        self.status = 0
        self.headers: _http.Headers = []
        self.start: Message = {}
        self.chunks: list[bytes] = []
        self.size = 0
        self.lifetime: float | None = None
        self.route: _http.RoutePolicy | None = None

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            self._on_start(message)
        elif self.mode == "pass":
            await self._send_body(message)
        elif kind != "http.response.body" or self.mode != "buffer":
            await self.pass_through(message)
        else:
            await self._on_body(message)

    def _on_start(self, message: Message) -> None:
        self.start = message
        self.status = int(message["status"])
        self.headers = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in
                        message.get("headers", [])]  # fmt: skip
        self.route = getattr(self.scope.get("endpoint"), _ROUTE_ATTR, None)
        if self.owner.routes == "marked" and self.route is None:
            return
        lifetime = self.owner.rules.lifetime(self.status, self.headers, self.route)
        length = _http.header(self.headers, "content-length")
        too_big = length is not None and (
            not length.isdigit() or int(length) > self.owner.rules.max_body_bytes
        )
        if lifetime is not None and self.plan.store and not too_big:
            self.lifetime, self.mode = lifetime, "buffer"

    async def _on_body(self, message: Message) -> None:
        chunk, more = bytes(message.get("body", b"")), bool(message.get("more_body", False))
        self.chunks.append(chunk)
        self.size += len(chunk)
        streaming = more and _http.header(self.headers, "content-length") is None
        if self.size > self.owner.rules.max_body_bytes or (streaming and self.size):
            held = b"".join(self.chunks)
            self.chunks = []
            await self.pass_through({"type": "http.response.body", "body": held, "more_body": more})
        elif not more:
            self.done = True

    async def pass_through(self, message: Message) -> None:
        """Sends the held start (tagged as a miss), then `message`, and forwards the rest."""
        self.mode = "pass"
        self.decided()
        start = dict(self.start)
        start["headers"] = [*start.get("headers", []), (b"x-cache", b"miss")]
        await self.downstream(start)
        await self._send_body(message)

    async def _send_body(self, message: Message) -> None:
        if self.plan.head and message["type"] == "http.response.body":
            message = {**message, "body": b""}  # the app answered a GET for a HEAD
        await self.downstream(message)


def _request_headers(scope: Scope) -> dict[str, str]:
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope.get("headers", []):
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
        sep = "; " if name == "cookie" else ", "
        headers[name] = headers[name] + sep + value if name in headers else value
    return headers


def _url(scope: Scope, headers: dict[str, str]) -> str:
    host = headers.get("host")
    if host is None:
        server = scope.get("server") or ("", None)
        host = f"{server[0]}:{server[1]}" if server[1] is not None else str(server[0])
    query = scope.get("query_string", b"").decode("latin-1")
    return f"{scope.get('scheme', 'http')}://{host.lower()}{scope['path']}?{query}"


def _tag_miss(send: Send) -> Send:
    async def tagged(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), (b"x-cache", b"miss")]}
        await send(message)

    return tagged


async def _respond(send: Send, status: int, headers: _http.Headers, body: bytes) -> None:
    raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
