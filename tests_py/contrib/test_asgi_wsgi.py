"""The RFC 9111 behaviour of both middlewares over real HTTP: uvicorn or wsgiref on loopback,
httpx as the client, an L1 cache or L1 + a real redis-server (the `serve` fixture)."""

from __future__ import annotations

from typing import Any

import pytest

httpx = pytest.importorskip("httpx")


def get(served: Any, query: str, method: str = "GET", **headers: str) -> Any:
    return httpx.request(method, f"{served.url}/r?{query}", headers=headers, timeout=10)


def test_second_get_is_a_hit_with_age_and_etag(serve: Any) -> None:
    s = serve()
    first = get(s, "a=1")
    second = get(s, "a=1")
    assert first.headers["x-cache"] == "miss"
    assert second.headers["x-cache"] == "hit"
    assert second.text == first.text == "call 1 lang=- seg=-"
    assert s.calls.n == 1
    assert int(second.headers["age"]) >= 0
    assert second.headers["etag"] == first.headers["etag"]
    assert first.headers["etag"].startswith('"')  # strong, made from the body
    assert get(s, "a=2").text == "call 2 lang=- seg=-"  # another URL, another entry


def test_the_apps_age_counts_against_freshness(serve: Any) -> None:
    s = serve()
    get(s, "age=30&cc=max-age=100")
    hit = get(s, "age=30&cc=max-age=100")
    assert hit.headers["x-cache"] == "hit"
    assert int(hit.headers["age"]) >= 30
    get(s, "age=30&cc=max-age=20")  # already stale when it arrives
    assert get(s, "age=30&cc=max-age=20").headers["x-cache"] == "miss"


def test_head_is_answered_from_the_get_entry(serve: Any) -> None:
    s = serve()
    full = get(s, "h=1")
    head = get(s, "h=1", method="HEAD")
    assert head.headers["x-cache"] == "hit"
    assert head.content == b""
    assert head.headers["content-length"] == str(len(full.content))
    assert s.calls.n == 1


def test_head_miss_fills_the_entry_for_get(serve: Any) -> None:
    s = serve()
    head = get(s, "h=2", method="HEAD")
    assert head.headers["x-cache"] == "miss"
    assert head.content == b""
    assert get(s, "h=2").headers["x-cache"] == "hit"
    assert s.calls.n == 1


def test_post_is_never_cached(serve: Any) -> None:
    s = serve()
    get(s, "p=1", method="POST")
    second = get(s, "p=1", method="POST")
    assert second.headers["x-cache"] == "miss"
    assert s.calls.n == 2


@pytest.mark.parametrize("cc", ["no-store", "private", "no-cache", "max-age=0"])
def test_response_cache_control_prevents_storing(serve: Any, cc: str) -> None:
    s = serve()
    get(s, f"cc={cc}")
    assert get(s, f"cc={cc}").headers["x-cache"] == "miss"
    assert s.calls.n == 2


def test_s_maxage_beats_the_default_ttl_and_max_age(serve: Any) -> None:
    s = serve(ttl=None)  # only explicit freshness is stored
    get(s, "cc=max-age=0,s-maxage=100")
    assert get(s, "cc=max-age=0,s-maxage=100").headers["x-cache"] == "hit"
    get(s, "plain=1")
    assert get(s, "plain=1").headers["x-cache"] == "miss"  # no ttl, no explicit freshness


def test_request_no_cache_refetches_and_refreshes(serve: Any) -> None:
    s = serve()
    get(s, "n=1")
    fresh = get(s, "n=1", **{"cache-control": "no-cache"})
    assert fresh.headers["x-cache"] == "miss"
    assert fresh.text.startswith("call 2")
    assert get(s, "n=1").text.startswith("call 2")  # the refetched response was stored


def test_request_no_store_is_not_stored(serve: Any) -> None:
    s = serve()
    get(s, "ns=1", **{"cache-control": "no-store"})
    assert get(s, "ns=1").headers["x-cache"] == "miss"


def test_request_max_age_limits_the_age_served(serve: Any) -> None:
    s = serve()
    get(s, "m=1")
    assert get(s, "m=1", **{"cache-control": "max-age=3600"}).headers["x-cache"] == "hit"
    assert get(s, "m=1", **{"cache-control": "min-fresh=3600"}).headers["x-cache"] == "miss"


def test_only_if_cached_miss_is_504(serve: Any) -> None:
    s = serve()
    assert get(s, "o=1", **{"cache-control": "only-if-cached"}).status_code == 504
    assert s.calls.n == 0


def test_configured_vary_gives_variants(serve: Any) -> None:
    s = serve(vary=("accept-language",))
    en = get(s, "v=1", **{"accept-language": "en"})
    de = get(s, "v=1", **{"accept-language": "de"})
    assert en.text != de.text
    assert get(s, "v=1", **{"accept-language": "de"}).text == de.text
    assert get(s, "v=1", **{"accept-language": "en"}).text == en.text
    assert "accept-language" in en.headers["vary"].lower()
    assert s.calls.n == 2


def test_response_vary_gives_variants(serve: Any) -> None:
    s = serve()
    en = get(s, "vary=Accept-Language", **{"accept-language": "en"})
    de = get(s, "vary=Accept-Language", **{"accept-language": "de"})
    assert de.headers["x-cache"] == "miss"
    assert get(s, "vary=Accept-Language", **{"accept-language": "en"}).text == en.text
    assert get(s, "vary=Accept-Language", **{"accept-language": "de"}).text == de.text
    assert s.calls.n == 2


def test_vary_star_is_never_stored(serve: Any) -> None:
    s = serve()
    get(s, "vary=*")
    assert get(s, "vary=*").headers["x-cache"] == "miss"


def test_if_none_match_gets_304(serve: Any) -> None:
    s = serve()
    etag = get(s, "e=1").headers["etag"]
    again = get(s, "e=1", **{"if-none-match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    other = get(s, "e=1", **{"if-none-match": '"something-else"'})
    assert other.status_code == 200
    assert s.calls.n == 1


def test_app_etag_is_kept_and_matched_weakly(serve: Any) -> None:
    s = serve()
    first = get(s, 'etag="v7"')
    assert first.headers["etag"] == '"v7"'
    assert get(s, 'etag="v7"', **{"if-none-match": 'W/"v7"'}).status_code == 304


def test_if_none_match_on_a_miss_is_answered_too(serve: Any) -> None:
    s = serve()
    etag = get(s, 'etag="v9"').headers["etag"]
    # no-cache sends the request to the app, asked without the validator for a full body
    revalidated = get(s, 'etag="v9"', **{"if-none-match": etag, "cache-control": "no-cache"})
    assert revalidated.status_code == 304
    assert revalidated.headers["x-cache"] == "miss"
    assert s.calls.n == 2


def test_set_cookie_is_not_stored_unless_configured(serve: Any) -> None:
    s = serve()
    get(s, "cookie=1")
    assert get(s, "cookie=1").headers["x-cache"] == "miss"
    opted = serve(cache_set_cookie=True)
    get(opted, "cookie=1")
    assert get(opted, "cookie=1").headers["x-cache"] == "hit"


@pytest.mark.parametrize("header", ["authorization", "cookie"])
def test_private_requests_bypass_unless_segmented(serve: Any, header: str) -> None:
    s = serve()
    get(s, "auth=1", **{header: "secret-a"})
    assert get(s, "auth=1", **{header: "secret-b"}).text.startswith("call 2")
    assert get(s, "auth=1").headers["x-cache"] == "miss"  # nothing was stored for them


def test_segment_function_shares_within_a_segment(serve: Any) -> None:
    def segment(headers: Any) -> str | None:
        return headers.get("x-seg")  # None (no segment) = not shared

    s = serve(segment=segment)
    a1 = get(s, "s=1", authorization="u1", **{"x-seg": "gold"})
    a2 = get(s, "s=1", authorization="u2", **{"x-seg": "gold"})
    b = get(s, "s=1", authorization="u3", **{"x-seg": "free"})
    assert a2.headers["x-cache"] == "hit"
    assert a2.text == a1.text
    assert b.text != a1.text
    assert get(s, "s=1", authorization="u4").headers["x-cache"] == "miss"
    assert s.calls.n == 3


def test_large_bodies_pass_through(serve: Any) -> None:
    s = serve(max_body_bytes=1000)
    big = get(s, "size=5000")
    assert len(big.content) == 5000
    assert "etag" not in big.headers  # untouched
    assert get(s, "size=5000").headers["x-cache"] == "miss"
    get(s, "size=500")
    assert get(s, "size=500").headers["x-cache"] == "hit"


def test_streamed_bodies_pass_through(serve: Any) -> None:
    s = serve()
    first = get(s, "stream=1")
    assert first.text.endswith("!")
    assert first.text.startswith("call 1")
    assert get(s, "stream=1").text.startswith("call 2")


@pytest.mark.parametrize(("status", "stored"), [(404, True), (301, True), (500, False)])
def test_only_heuristically_cacheable_statuses_by_default(
    serve: Any, status: int, stored: bool
) -> None:
    s = serve()
    get(s, f"status={status}")
    again = get(s, f"status={status}")
    assert again.status_code == status
    assert (again.headers["x-cache"] == "hit") is stored


def test_500_with_explicit_max_age_is_stored(serve: Any) -> None:
    s = serve()
    get(s, "status=500&cc=max-age=60")
    assert get(s, "status=500&cc=max-age=60").headers["x-cache"] == "hit"
