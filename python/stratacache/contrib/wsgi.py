"""HTTP response caching for WSGI apps (PEP 3333), with the ASGI middleware's semantics.

``app = CacheMiddleware(app, cache=Cache(redis=...), ttl=60)``; the RFC 9111 rules are the
ones of `stratacache.contrib._http`. WSGI is synchronous, so the cache is a sync `Cache`
(with or without a Redis tier); entries are plain dicts, shared by every worker on one Redis.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from types import TracebackType
from typing import Any

from .._flight import Flight
from .._options import TTL, require_type
from ..caches import Cache
from . import _http

__all__ = ["CacheMiddleware"]

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None] | None
StartResponse = Callable[..., Callable[[bytes], object]]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

_CONDITIONAL = ("HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE", "HTTP_IF_MATCH", "HTTP_IF_RANGE")
_STATUS_304 = "304 Not Modified"


class CacheMiddleware:
    """A WSGI middleware answering GET and HEAD from a stratacache `Cache` (RFC 9111, shared).

    Args: the same as `stratacache.contrib.asgi.CacheMiddleware` but `routes`; `cache` is a
        sync `Cache`.

    Raises:
        TypeError: cache is not a `Cache` (an AsyncCache cannot serve a sync server), or
            another argument's type is wrong.
        InvalidTTLError: ttl is negative, NaN, or finite and above 1e15 seconds.
        ValueError: max_body_bytes is negative.
    """

    def __init__(
        self,
        app: WSGIApp,
        cache: Cache,
        *,
        ttl: TTL = 60.0,
        vary: Sequence[str] = (),
        max_body_bytes: int = 1 << 20,
        segment: _http.Segment | None = None,
        cache_set_cookie: bool = False,
    ) -> None:
        require_type(cache, Cache, "cache", "a stratacache Cache (WSGI is sync)")
        self.app = app
        self.cache = cache
        self._flight = Flight()
        self.rules = _http.Rules(
            ttl=ttl,
            vary=vary,
            max_body_bytes=max_body_bytes,
            segment=segment,
            cache_set_cookie=cache_set_cookie,
        )

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        headers = _request_headers(environ)
        plan = self.rules.plan(environ.get("REQUEST_METHOD", "GET"), _url(environ), headers)
        if plan is None:
            return self.app(environ, _tag_miss(start_response))
        if plan.lookup:
            found = self._find(plan)
            if found is not None:
                return _respond(start_response, *found)
        if plan.only_if_cached:
            return _respond(
                start_response, 504, [("content-length", "0"), ("x-cache", "miss")], b""
            )
        if plan.lookup and plan.store:
            return self._collapsed(plan, environ, start_response)
        return self._forward(plan, environ, start_response)

    def _collapsed(
        self, plan: _http.Plan, environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        """Concurrent misses on one key (a threaded server's) ask the app once: the first
        forwards; the others then read what it stored, or forward themselves when it stored
        nothing (not storable, another variant, or the leader failed)."""
        led: list[Iterable[bytes] | Exception] = []

        def lead() -> None:
            try:
                led.append(self._forward(plan, environ, start_response))
            except Exception as exc:  # noqa: BLE001  (re-raised below, for this request only)
                led.append(exc)

        self._flight.run(plan.key, lead)
        if led:
            if isinstance(led[0], Exception):
                raise led[0]
            return led[0]
        found = self._find(plan)
        if found is not None:
            return _respond(start_response, *found)
        return self._forward(plan, environ, start_response)

    def _find(self, plan: _http.Plan) -> tuple[int, _http.Headers, bytes] | None:
        entry = self.cache.get(plan.key)
        names = _http.variant_names(entry)
        if names is not None:
            entry = self.cache.get(_http.variant_key(plan.key, names, plan.headers))
        return _http.serve(entry, plan, time.time())

    def _forward(
        self, plan: _http.Plan, environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        """Asks the app (as a GET, without validators), then stores and answers, or passes
        the response through when it is not storable, too large or streamed."""
        inner = {k: v for k, v in environ.items() if k not in _CONDITIONAL}
        inner["REQUEST_METHOD"] = "GET"
        seen: dict[str, Any] = {}
        written: list[bytes] = []

        def capture(
            status: str, headers: list[tuple[str, str]], exc_info: ExcInfo = None
        ) -> Callable[[bytes], object]:
            seen.update(status=status, headers=headers, exc_info=exc_info)
            return written.append

        result = self.app(inner, capture)
        chunks = iter(result)
        # Without a Content-Length, only a list or tuple is known to be the whole body; any
        # other iterable may be a stream whose next chunk comes much later (server-sent events).
        sized = isinstance(result, (list, tuple))
        held, lifetime = self._buffer(plan, chunks, seen, written, sized)
        if lifetime is None:  # not storable: send what is held, then the rest as it comes
            start_response(seen["status"], [*seen["headers"], ("X-Cache", "miss")])
            return _PassThrough(held, chunks, result, plan.head)
        _close(result)
        status = int(seen["status"].split(" ", 1)[0])
        ours = [(k.lower(), v) for k, v in seen["headers"]]
        body = b"".join(held)
        sent, records = _http.build_records(
            plan, self.rules, (status, ours, body), lifetime=lifetime, now=time.time()
        )
        for key, value, ttl in records:
            self.cache.set(key, value, ttl)
        if _http.not_modified(plan.headers, sent):
            kept = [(k, v) for k, v in sent if k in {"etag", "cache-control", "vary", "date"}]
            return _respond(start_response, 304, [*kept, ("x-cache", "miss")], b"")
        out = b"" if plan.head else body
        return _respond(start_response, status, [*sent, ("x-cache", "miss")], out)

    def _buffer(
        self,
        plan: _http.Plan,
        chunks: Iterator[bytes],
        seen: dict[str, Any],
        written: list[bytes],
        sized: bool,
    ) -> tuple[list[bytes], float | None]:
        """Reads the body while it may still be stored; returns what it read and the lifetime
        (None when the response passes through: not storable, too large, or streamed)."""
        held: list[bytes] = []
        first = next(chunks, None)  # start_response is called by the first item at the latest
        if first is not None:
            held.append(first)
        held[:0] = written
        if "status" not in seen:
            msg = "the WSGI app returned its body without calling start_response"
            raise RuntimeError(msg)
        status = int(str(seen["status"]).split(" ", 1)[0])
        headers = [(k.lower(), v) for k, v in seen["headers"]]
        lifetime = self.rules.lifetime(status, headers, None) if plan.store else None
        length = _http.header(headers, "content-length")
        limit = self.rules.max_body_bytes
        if lifetime is None or (length is None and not sized):
            return held, None
        if length is not None and (not length.isdigit() or int(length) > limit):
            return held, None
        size = sum(map(len, held))
        if size > limit:
            return held, None
        for chunk in chunks:
            held.append(chunk)
            size += len(chunk)
            if size > limit or (length is None and chunk):  # too large, or streamed
                return held, None
        return held, lifetime


class _PassThrough:
    """The held chunks then the app's remaining ones; closes the app's iterable (PEP 3333)."""

    def __init__(
        self, held: list[bytes], rest: Iterator[bytes], result: Iterable[bytes], head: bool
    ):
        self._held, self._rest, self._result, self._head = held, rest, result, head

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._held:
            yield b"" if self._head else chunk
        for chunk in self._rest:
            yield b"" if self._head else chunk

    def close(self) -> None:
        _close(self._result)


def _close(result: Iterable[bytes]) -> None:
    close = getattr(result, "close", None)
    if callable(close):
        close()


def _request_headers(environ: dict[str, Any]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            headers[key[5:].replace("_", "-").lower()] = str(value)
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            headers[key.replace("_", "-").lower()] = str(environ[key])
    return headers


def _url(environ: dict[str, Any]) -> str:
    host = environ.get("HTTP_HOST") or f"{environ.get('SERVER_NAME')}:{environ.get('SERVER_PORT')}"
    path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
    query = environ.get("QUERY_STRING", "")
    return f"{environ.get('wsgi.url_scheme', 'http')}://{host.lower()}{path}?{query}"


def _tag_miss(start_response: StartResponse) -> StartResponse:
    def tagged(status: str, headers: list[tuple[str, str]], exc_info: ExcInfo = None) -> Any:
        return start_response(status, [*headers, ("X-Cache", "miss")], exc_info)

    return tagged


def _respond(
    start_response: StartResponse, status: int, headers: _http.Headers, body: bytes
) -> list[bytes]:
    line = _STATUS_304 if status == 304 else f"{status} {_http.reason(status)}"
    start_response(line, [(_title(k), v) for k, v in headers])
    return [body]


def _title(name: str) -> str:
    """A header name in its usual case (wsgiref forbids nothing, but clients expect it)."""
    return "-".join(part.capitalize() for part in name.split("-"))
