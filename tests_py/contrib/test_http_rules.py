"""The RFC 9111 rules of contrib/_http.py on their own: no server, no cache."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from stratacache import InvalidTTLError
from stratacache.contrib import _http

URL = "http://example.test/a?x=1"


def plan(rules: _http.Rules, method: str = "GET", **headers: str) -> _http.Plan:
    found = rules.plan(method, URL, headers)
    assert found is not None
    return found


def test_parse_cache_control() -> None:
    cc = _http.parse_cache_control('Max-Age=5, no-cache="set-cookie, x", private, max-age=9')
    assert cc == {"max-age": "5", "no-cache": "set-cookie, x", "private": None}
    assert _http.parse_cache_control(None) == {}


@pytest.mark.parametrize(
    ("status", "headers", "expected"),
    [
        (200, [], 60.0),
        (404, [], 60.0),
        (500, [], None),
        (500, [("cache-control", "max-age=5")], 5.0),
        (200, [("cache-control", "max-age=5, s-maxage=7")], 7.0),
        (200, [("cache-control", "max-age=bogus")], None),  # malformed = stale
        (200, [("cache-control", "no-store")], None),
        (200, [("cache-control", "private")], None),
        (200, [("cache-control", "no-cache")], None),
        (200, [("set-cookie", "a=1")], None),
        (200, [("vary", "accept, *")], None),
        (206, [("cache-control", "max-age=5")], None),
        (304, [], None),
        (302, [("cache-control", "public")], 60.0),
        (200, [("cache-control", "max-age=20"), ("age", "30")], None),  # stale on arrival
        (200, [("age", "59")], 60.0),
        (200, [("cache-control", "s-maxage=" + "9" * 40)], 2.0**31),
        (200, [("cache-control", "max-age=\u0661")], None),  # an Arabic-Indic digit is no digit
    ],
)
def test_lifetime(status: int, headers: _http.Headers, expected: float | None) -> None:
    assert _http.Rules(ttl=60).lifetime(status, headers) == expected


def test_expires_minus_date_is_the_lifetime() -> None:
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    headers = [
        ("date", format_datetime(now, usegmt=True)),
        ("expires", format_datetime(now + timedelta(seconds=90), usegmt=True)),
    ]
    assert _http.Rules(ttl=None).lifetime(200, headers) == 90.0
    assert _http.Rules(ttl=None).lifetime(200, [("expires", "garbage")]) is None


def test_no_default_ttl_stores_only_explicit_freshness() -> None:
    rules = _http.Rules(ttl=None)
    assert rules.lifetime(200, []) is None
    route = _http.RoutePolicy(ttl=12, vary=())
    assert rules.lifetime(200, [], route) == 12


def test_plan_methods_and_private_requests() -> None:
    rules = _http.Rules(ttl=60)
    assert rules.plan("POST", URL, {}) is None
    assert rules.plan("GET", URL, {"authorization": "x"}) is None
    assert rules.plan("GET", URL, {"cookie": "a=1"}) is None
    assert plan(rules, "HEAD").head


def test_segment_keys_private_requests() -> None:
    rules = _http.Rules(ttl=60, segment=lambda h: h.get("x-tier"))
    gold = plan(rules, authorization="a", **{"x-tier": "gold"})
    free = plan(rules, authorization="b", **{"x-tier": "free"})
    assert gold.key != free.key
    assert rules.plan("GET", URL, {"authorization": "c"}) is None
    assert plan(rules, authorization="d", **{"x-tier": "gold"}).key == gold.key


def test_request_directives() -> None:
    rules = _http.Rules(ttl=60)
    assert not plan(rules, **{"cache-control": "no-cache"}).lookup
    assert not plan(rules, **{"cache-control": "max-age=0"}).lookup
    assert not plan(rules, pragma="no-cache").lookup
    assert plan(rules, pragma="no-cache", **{"cache-control": "max-age=5"}).lookup
    assert not plan(rules, **{"cache-control": "no-store"}).store
    p = plan(rules, **{"cache-control": "max-age=5, min-fresh=3, only-if-cached"})
    assert (p.max_age, p.min_fresh, p.only_if_cached) == (5, 3, True)


def test_configured_vary_is_in_the_key() -> None:
    rules = _http.Rules(ttl=60, vary=("Accept-Language",))
    en = plan(rules, **{"accept-language": "en"})
    assert en.key != plan(rules, **{"accept-language": "de"}).key
    assert en.key != plan(rules).key  # absent differs from any value
    assert en.key == plan(rules, **{"accept-language": "en"}).key


def stored(rules: _http.Rules, p: _http.Plan, headers: _http.Headers, now: float = 1000.0):  # type: ignore[no-untyped-def]
    lifetime = rules.lifetime(200, headers)
    assert lifetime is not None
    return _http.build_records(p, rules, (200, headers, b"body"), lifetime=lifetime, now=now)


def test_records_without_vary_are_one_entry_with_an_etag() -> None:
    rules = _http.Rules(ttl=60)
    p = plan(rules)
    sent, records = stored(rules, p, [("connection", "close"), ("age", "10")])
    assert [k for k, _, _ in records] == [p.key]
    assert records[0][2] == 50  # the app's Age counts against the lifetime
    assert _http.header(sent, "etag") == _http.strong_etag(b"body")
    assert _http.header(sent, "connection") is None
    assert _http.header(sent, "content-length") == "4"


def test_records_with_vary_are_a_record_and_a_variant() -> None:
    rules = _http.Rules(ttl=60)
    p = plan(rules, accept="text/html")
    _, records = stored(rules, p, [("vary", "Accept")])
    (key, record, _), (vkey, entry, _) = records
    assert key == p.key
    assert _http.variant_names(record) == ["accept"]
    assert vkey == _http.variant_key(p.key, ["accept"], {"accept": "text/html"})
    assert _http.serve(entry, p, 1001.0) is not None


def test_serve_age_and_freshness_limits() -> None:
    rules = _http.Rules(ttl=60)
    p = plan(rules)
    _, [(_, entry, _)] = stored(rules, p, [])
    status, headers, body = _http.serve(entry, p, 1010.0) or (0, [], b"")
    assert (status, body) == (200, b"body")
    assert _http.header(headers, "age") == "10"
    assert _http.header(headers, "x-cache") == "hit"
    assert _http.serve(entry, p, 1060.0) is None  # stale
    assert _http.serve(entry, plan(rules, **{"cache-control": "max-age=5"}), 1010.0) is None
    assert _http.serve(entry, plan(rules, **{"cache-control": "min-fresh=55"}), 1010.0) is None
    head = _http.serve(entry, plan(rules, "HEAD"), 1010.0)
    assert head is not None
    assert head[2] == b""


def test_serve_answers_validators_with_304() -> None:
    rules = _http.Rules(ttl=60)
    lm = "Wed, 01 Jan 2025 00:00:00 GMT"
    _, [(_, entry, _)] = stored(rules, plan(rules), [("etag", '"x"'), ("last-modified", lm)])
    for headers in (
        {"if-none-match": '"y", W/"x"'},
        {"if-none-match": "*"},
        {"if-modified-since": "Thu, 02 Jan 2025 00:00:00 GMT"},
    ):
        found = _http.serve(entry, plan(rules, **headers), 1001.0)
        assert found is not None
        assert found[0] == 304
        assert found[2] == b""
    assert _http.serve(entry, plan(rules, **{"if-none-match": '"y"'}), 1001.0)[0] == 200  # type: ignore[index]
    early = {"if-modified-since": "Tue, 31 Dec 2024 00:00:00 GMT"}
    assert _http.serve(entry, plan(rules, **early), 1001.0)[0] == 200  # type: ignore[index]


@pytest.mark.parametrize("entry", [None, b"bytes", {"s": 200}, {"vary": ["a"]}, {"s": "x", "h": 1}])
def test_entries_of_the_wrong_shape_are_misses(entry: object) -> None:
    assert _http.serve(entry, plan(_http.Rules(ttl=60)), 0.0) is None


def test_arguments_are_checked() -> None:
    with pytest.raises(TypeError, match="ttl"):
        _http.Rules(ttl="60")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="ttl"):
        _http.Rules(ttl=-1)
    with pytest.raises(InvalidTTLError):
        _http.Rules(ttl=1e300)
    assert _http.Rules(ttl=timedelta(minutes=2)).ttl == 120.0
    with pytest.raises(ValueError, match="max_body_bytes"):
        _http.Rules(ttl=1, max_body_bytes=-1)
    with pytest.raises(TypeError, match="vary"):
        _http.Rules(ttl=1, vary="accept")
    with pytest.raises(ValueError, match="vary"):
        _http.Rules(ttl=1, vary=[" "])
    with pytest.raises(TypeError, match="segment"):
        _http.Rules(ttl=1, segment="x")  # type: ignore[arg-type]
