"""HTTP caching rules of a shared cache (RFC 9111), with no I/O: the ASGI and WSGI layers ask.

A request is planned (`Rules.plan`): whether it may be answered from the cache, under which
key, and with which limits its Cache-Control sets. A response is judged (`Rules.lifetime`):
whether it may be stored and for how long. A stored entry (`build_records`) is a dict of
plain types (status, headers, body, when stored) so any tier's codec carries it, and
`serve` turns it back into a response with `Age`, `X-Cache: hit` and, when the request's
validators match, a 304. Responses with a `Vary` are stored as variants: the plain key then
holds the list of header names, and each variant lives under the key plus those headers'
values. Header names are lower-case str; values are str (latin-1, as HTTP/1.1 sends them).
"""

from __future__ import annotations

import hashlib
import http
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

from .._options import TTL, check_ttl, require_callable, require_type

__all__ = [
    "HEURISTIC_STATUSES",
    "Headers",
    "Plan",
    "Rules",
    "build_records",
    "parse_cache_control",
    "reason",
    "serve",
    "variant_key",
]

Headers = list[tuple[str, str]]
#: A function of the request headers (lower-case names) giving the user segment a shared
#: response may be keyed by, or None when the request must not share a cached response.
Segment = Callable[[Mapping[str, str]], "str | None"]

#: Statuses RFC 9110 §15.1 calls heuristically cacheable (206 left out: no range handling).
HEURISTIC_STATUSES = frozenset({200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501})
#: Final statuses never stored: partial content and the cache's own answers.
_NEVER_STORED = frozenset({206, 304})
#: Connection-specific headers a cache must not replay (RFC 9110 §7.6.1), and the ones the
#: cache itself computes on each answer.
_NOT_STORED_HEADERS = frozenset(
    {"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding",
     "upgrade", "age", "x-cache"}
)  # fmt: skip
#: Headers a 304 carries over from the stored response (RFC 9110 §15.4.5).
_NOT_MODIFIED_HEADERS = frozenset(
    {"cache-control", "content-location", "date", "etag", "expires", "vary", "last-modified"}
)
_VARY_RECORD = "vary"
_MAX_DELTA = 2**31


def parse_cache_control(value: str | None) -> dict[str, str | None]:
    """Cache-Control directives by lower-case name; a directive without `=` maps to None.

    Quoted arguments lose their quotes; a repeated directive keeps its first value.
    """
    out: dict[str, str | None] = {}
    for part in _split_list(value or ""):
        name, eq, arg = part.partition("=")
        name = name.strip().lower()
        if name and name not in out:
            out[name] = arg.strip().strip('"') if eq else None
    return out


def _split_list(value: str) -> list[str]:
    """Splits a comma-separated header on commas outside quoted strings."""
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for ch in value:
        if ch == '"':
            quoted = not quoted
        if ch == "," and not quoted:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    parts.append("".join(current).strip())
    return [p for p in parts if p]


def _seconds(arg: str | None) -> int | None:
    """A delta-seconds argument; None when absent or malformed. Capped at 2**31, as RFC 9111
    §1.2.2 asks (and to stay within the TTLs a cache accepts)."""
    if arg is None or not arg.isascii() or not arg.isdigit():
        return None
    return min(int(arg[:12]) if len(arg) > 12 else int(arg), _MAX_DELTA)


def reason(status: int) -> str:
    """The reason phrase of a status, for a WSGI status line."""
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def header(headers: Iterable[tuple[str, str]], name: str) -> str | None:
    """The values of header `name` (lower-case), joined by commas; None when absent."""
    values = [v for k, v in headers if k == name]
    return ", ".join(values) if values else None


@dataclass(frozen=True)
class Plan:
    """What the cache may do for one GET or HEAD request.

    Attributes:
        key: the primary cache key (URL, configured vary headers, segment).
        head: the request is a HEAD (answered without a body).
        lookup: a cached response may answer it (no no-cache, no max-age=0).
        store: its response may be stored (no request no-store).
        max_age: the oldest cached response the request accepts, in seconds.
        min_fresh: the freshness a cached response must still have, in seconds.
        only_if_cached: answer 504 rather than ask the application.
        headers: the request headers, lower-case names, repeated ones joined.
    """

    key: str
    head: bool
    lookup: bool
    store: bool
    max_age: int | None
    min_fresh: int
    only_if_cached: bool
    headers: Mapping[str, str]


@dataclass(frozen=True)
class RoutePolicy:
    """Per-route settings a route decorator attaches: its TTL and extra Vary headers."""

    ttl: float | None
    vary: tuple[str, ...]


class Rules:
    """The configuration of one middleware and the decisions made from it.

    Args:
        ttl: seconds (or a timedelta) a response without explicit freshness (max-age,
            s-maxage, Expires) is kept, if its status is heuristically cacheable; None or 0 =
            only responses with explicit freshness are stored.
        vary: request headers every response varies on (e.g. ``("accept-language",)``),
            besides the response's own Vary; they are added to the response's Vary.
        max_body_bytes: bodies larger than this pass through unstored.
        segment: opt-in sharing for requests with Authorization or Cookie: a function of
            the request headers naming the segment the response is shared within (None =
            not shared). Without it such requests are never answered from, or stored in,
            the cache.
        cache_set_cookie: store responses that set cookies (and replay the cookie);
            off by default, as RFC 9111 advises a shared cache.

    Raises:
        TypeError: an argument has the wrong type.
        InvalidTTLError: ttl is negative, NaN, or finite and above 1e15 seconds.
        ValueError: max_body_bytes is negative, or a vary name is empty.
    """

    def __init__(
        self,
        *,
        ttl: TTL,
        vary: Sequence[str] = (),
        max_body_bytes: int = 1 << 20,
        segment: Segment | None = None,
        cache_set_cookie: bool = False,
    ) -> None:
        checked = check_ttl(ttl)
        require_type(max_body_bytes, int, "max_body_bytes", "an int")
        if max_body_bytes < 0:
            msg = f"max_body_bytes must be >= 0, got {max_body_bytes}"
            raise ValueError(msg)
        require_callable(segment, "segment", "a function of the request headers, or None")
        self.ttl = checked or None
        self.vary = check_vary(vary)
        self.max_body_bytes = max_body_bytes
        self.segment = segment
        self.cache_set_cookie = bool(cache_set_cookie)

    def plan(self, method: str, url: str, headers: Mapping[str, str]) -> Plan | None:
        """The plan for a request, or None when the cache must stay out of it entirely.

        Args:
            method: the request method (only GET and HEAD are cached).
            url: scheme, host, path and query, as the key's base.
            headers: the request headers, lower-case names, repeated ones joined.
        """
        if method not in ("GET", "HEAD"):
            return None
        seg = ""
        if "authorization" in headers or "cookie" in headers:
            if self.segment is None:
                return None
            found = self.segment(headers)
            if found is None:
                return None
            seg = "segment=" + str(found)  # never the anonymous requests' empty part
        cc = parse_cache_control(headers.get("cache-control"))
        no_cache = "no-cache" in cc or (
            "cache-control" not in headers and "no-cache" in headers.get("pragma", "")
        )
        max_age = _seconds(cc.get("max-age")) if "max-age" in cc else None
        parts = [url, seg, *(_normal(headers.get(name)) for name in self.vary)]
        return Plan(
            key="\x1f".join(parts),
            head=method == "HEAD",
            lookup=not no_cache and max_age != 0,
            store="no-store" not in cc,
            max_age=max_age,
            min_fresh=_seconds(cc.get("min-fresh")) or 0,
            only_if_cached="only-if-cached" in cc,
            headers=headers,
        )

    def lifetime(
        self, status: int, headers: Headers, route: RoutePolicy | None = None
    ) -> float | None:
        """Seconds a response stays fresh in this shared cache, or None if it is not stored
        (a response whose `Age` has already used up its lifetime included)."""
        lifetime = self._lifetime(status, headers, route)
        if lifetime is None or lifetime <= (_seconds(header(headers, "age")) or 0):
            return None
        return lifetime

    def _lifetime(self, status: int, headers: Headers, route: RoutePolicy | None) -> float | None:
        if status < 200 or status in _NEVER_STORED:
            return None
        if header(headers, "set-cookie") is not None and not self.cache_set_cookie:
            return None
        if "*" in _vary_names(headers):
            return None
        cc = parse_cache_control(header(headers, "cache-control"))
        if {"no-store", "private", "no-cache"} & cc.keys():
            return None
        explicit = _explicit_lifetime(cc, headers)
        if explicit is not None:
            return float(explicit) if explicit > 0 else None
        ttl = route.ttl if route is not None and route.ttl is not None else self.ttl
        if status in HEURISTIC_STATUSES or "public" in cc:
            return ttl if ttl else None
        return None

    def response_vary(self, headers: Headers, route: RoutePolicy | None) -> list[str]:
        """The Vary names a stored response is keyed by beyond the configured ones."""
        names = _vary_names(headers)
        extra = route.vary if route is not None else ()
        return sorted({n for n in (*names, *extra) if n not in self.vary})


def check_vary(vary: Sequence[str]) -> tuple[str, ...]:
    """Validated, lower-cased vary header names."""
    if isinstance(vary, str) or not all(isinstance(v, str) for v in vary):
        msg = "vary must be a sequence of header names (str)"
        raise TypeError(msg)
    names = tuple(v.strip().lower() for v in vary)
    if not all(names):
        msg = "vary holds an empty header name"
        raise ValueError(msg)
    return names


def _explicit_lifetime(cc: Mapping[str, str | None], headers: Headers) -> int | None:
    """s-maxage, then max-age, then Expires - Date (RFC 9111 §4.2.1); None when none given."""
    for name in ("s-maxage", "max-age"):
        if name in cc:
            return _seconds(cc[name]) or 0  # a malformed value makes the response stale
    expires = header(headers, "expires")
    if expires is None:
        return None
    try:
        end = parsedate_to_datetime(expires)
        date = header(headers, "date")
        start = parsedate_to_datetime(date) if date else None
    except (TypeError, ValueError):
        return 0
    if start is None or end.tzinfo is None or start.tzinfo is None:
        return 0
    return min(_MAX_DELTA, max(0, int((end - start).total_seconds())))


def _vary_names(headers: Headers) -> list[str]:
    return [n.lower() for n in _split_list(header(headers, "vary") or "")]


def _normal(value: str | None) -> str:
    """A header value with list whitespace normalised (RFC 9111 §4.1 allows it)."""
    if value is None:
        return "\x00"  # absent differs from empty
    return ",".join(p.strip() for p in value.split(","))


def variant_key(key: str, names: Sequence[str], headers: Mapping[str, str]) -> str:
    """The key of the variant of `key` selected by the request's values of `names`."""
    return key + "\x1e" + "\x1f".join(f"{n}={_normal(headers.get(n))}" for n in names)


def strong_etag(body: bytes) -> str:
    """A strong entity-tag made from the body's hash."""
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def build_records(
    plan: Plan,
    rules: Rules,
    response: tuple[int, Headers, bytes],
    *,
    lifetime: float,
    now: float,
    route: RoutePolicy | None = None,
) -> tuple[Headers, list[tuple[str, dict[str, Any], float]]]:
    """The headers to send on the miss and the (key, entry, ttl) records to store."""
    status, headers, body = response
    kept = [(k, v) for k, v in headers if k not in _NOT_STORED_HEADERS]
    if header(kept, "etag") is None:
        kept.append(("etag", strong_etag(body)))
    if header(kept, "content-length") is None:
        kept.append(("content-length", str(len(body))))
    names = rules.response_vary(headers, route)
    wanted = [*rules.vary, *names]
    if wanted:
        kept = [(k, v) for k, v in kept if k != "vary"]
        kept.append(("vary", ", ".join(wanted)))
    initial_age = _seconds(header(headers, "age")) or 0
    ttl = lifetime - initial_age
    entry = {"s": status, "h": [list(h) for h in kept], "b": body, "t": now, "a": initial_age}
    entry["f"] = lifetime
    if not names:
        return kept, [(plan.key, entry, ttl)]
    record = {_VARY_RECORD: names}
    return kept, [(plan.key, record, ttl), (variant_key(plan.key, names, plan.headers), entry, ttl)]


def variant_names(found: object) -> list[str] | None:
    """The Vary names when `found` (read under a primary key) is a variant record."""
    if isinstance(found, dict) and _VARY_RECORD in found:
        names = found[_VARY_RECORD]
        if isinstance(names, list) and all(isinstance(n, str) for n in names):
            return names
    return None


def serve(entry: object, plan: Plan, now: float) -> tuple[int, Headers, bytes] | None:
    """The response a stored entry gives this request, or None if it may not answer it.

    An entry of the wrong shape (another writer's key, a corrupt value) is a miss.
    """
    if not isinstance(entry, dict):
        return None
    try:
        status, raw, body = int(entry["s"]), entry["h"], bytes(entry["b"])
        stored, initial, lifetime = float(entry["t"]), float(entry["a"]), float(entry["f"])
        headers: Headers = [(str(k), str(v)) for k, v in raw]
    except (KeyError, TypeError, ValueError):
        return None
    age = max(0.0, now - stored) + initial
    if age >= lifetime or (plan.max_age is not None and age > plan.max_age):
        return None
    if lifetime - age < plan.min_fresh:
        return None
    extra = [("age", str(int(age))), ("x-cache", "hit")]
    if not_modified(plan.headers, headers):
        kept = [(k, v) for k, v in headers if k in _NOT_MODIFIED_HEADERS]
        return 304, kept + extra, b""
    return status, headers + extra, b"" if plan.head else body


def not_modified(request: Mapping[str, str], headers: Headers) -> bool:
    """Whether the request's If-None-Match (or, without it, If-Modified-Since) matches."""
    inm = request.get("if-none-match")
    if inm is not None:
        etag = header(headers, "etag")
        if etag is None:
            return False
        tags = {_weak(t) for t in _split_list(inm)}
        return "*" in tags or _weak(etag) in tags
    ims, modified = request.get("if-modified-since"), header(headers, "last-modified")
    if ims is None or modified is None:
        return False
    try:
        return parsedate_to_datetime(modified) <= parsedate_to_datetime(ims)
    except (TypeError, ValueError):
        return False


def _weak(tag: str) -> str:
    """An entity-tag for the weak comparison If-None-Match uses (RFC 9110 §13.1.2)."""
    return tag.removeprefix("W/")
