"""What only the ASGI middleware does: per-route marks, Cache vs AsyncCache, sharing by Redis."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import stratacache
from stratacache.contrib import asgi
from stratacache.testing import http_servers

from .conftest import Calls, closer, starlette_app

httpx = pytest.importorskip("httpx")


def fetch(url: str, **headers: str) -> Any:
    return httpx.get(url, headers=headers, timeout=10)


def test_marked_routes_only_with_their_ttl_and_vary() -> None:
    calls = Calls()
    cache = stratacache.AsyncCache(max_entries=100)
    app = asgi.CacheMiddleware(starlette_app(calls), cache, ttl=None, routes="marked")
    with http_servers.asgi_server(app) as url:
        fetch(url + "/r")
        assert fetch(url + "/r").headers["x-cache"] == "miss"  # not marked
        gold = fetch(url + "/marked", **{"x-seg": "gold"})
        assert "x-seg" in gold.headers["vary"]
        assert fetch(url + "/marked", **{"x-seg": "gold"}).text == gold.text  # the route's ttl
        assert fetch(url + "/marked", **{"x-seg": "free"}).text != gold.text  # the route's vary
    assert calls.n == 4


@pytest.mark.parametrize("cls", [stratacache.Cache, stratacache.AsyncCache])
def test_workers_share_entries_through_redis(redis_clean_url: str, cls: type[Any]) -> None:
    """Two servers, each with its own cache over one Redis, as two workers would be; a sync
    Cache with a tier is called from a worker thread, an AsyncCache is awaited."""
    calls = Calls()
    first, second = cls(redis=redis_clean_url), cls(redis=redis_clean_url)
    a = asgi.CacheMiddleware(starlette_app(calls), first)
    b = asgi.CacheMiddleware(starlette_app(calls), second)
    with (
        http_servers.asgi_server(a, on_shutdown=closer(first)) as url_a,
        http_servers.asgi_server(b, on_shutdown=closer(second)) as url_b,
    ):
        # workers behind one address see one Host; the ports differ only in this test
        miss = fetch(url_a + "/r?shared=1", host="shop.test")
        hit = fetch(url_b + "/r?shared=1", host="shop.test")
    assert miss.headers["x-cache"] == "miss"
    assert hit.headers["x-cache"] == "hit"
    assert hit.text == miss.text
    assert calls.n == 1


def test_fastapi_endpoint_keeps_its_signature_and_model() -> None:
    fastapi = pytest.importorskip("fastapi")
    calls = Calls()
    api = fastapi.FastAPI()

    @api.get("/items/{item_id}")
    @asgi.cache_route(ttl=30)
    async def item(item_id: int, q: str = "-") -> dict[str, Any]:
        return {"id": item_id, "q": q, "call": calls.take()}

    @api.get("/other")
    async def other() -> dict[str, int]:
        return {"call": calls.take()}

    app = asgi.CacheMiddleware(api, stratacache.AsyncCache(), ttl=None, routes="marked")
    with http_servers.asgi_server(app) as url:
        first = fetch(url + "/items/3?q=x")
        second = fetch(url + "/items/3?q=x")
        fetch(url + "/other")
        assert fetch(url + "/other").headers["x-cache"] == "miss"
        assert fetch(url + "/items/oops").status_code == 422  # FastAPI still validates
    assert first.json() == {"id": 3, "q": "x", "call": 1}
    assert second.json() == first.json()
    assert second.headers["x-cache"] == "hit"


async def test_concurrent_misses_ask_the_app_once() -> None:
    calls = Calls()
    app = asgi.CacheMiddleware(starlette_app(calls), stratacache.AsyncCache())
    with http_servers.asgi_server(app) as url:
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            answers = await asyncio.gather(*(client.get("/r?sleep=0.2") for _ in range(8)))
            uncollapsed = await asyncio.gather(
                *(client.get("/r?sleep=0.2&cc=no-store") for _ in range(3))
            )
    assert calls.n == 1 + 3  # one for the eight; not-storable responses are not shared
    assert {a.text for a in answers} == {"call 1 lang=- seg=-"}
    assert sorted(a.headers["x-cache"] for a in answers) == ["hit"] * 7 + ["miss"]
    assert len({a.text for a in uncollapsed}) == 3


async def test_a_stream_does_not_hold_back_concurrent_requests() -> None:
    """The first request streams until a second one reaches the app: had the second waited
    for the first to finish, both would time out."""
    from starlette.applications import Starlette  # noqa: PLC0415
    from starlette.responses import StreamingResponse  # noqa: PLC0415
    from starlette.routing import Route  # noqa: PLC0415

    second = asyncio.Event()
    seen: list[int] = []

    async def hold(request: Any) -> StreamingResponse:
        seen.append(len(seen))
        first = len(seen) == 1
        if not first:
            second.set()

        async def body() -> Any:
            yield b"start "
            if first:
                await asyncio.wait_for(second.wait(), timeout=5)
            yield b"end"

        return StreamingResponse(body())

    app = asgi.CacheMiddleware(Starlette(routes=[Route("/hold", hold)]), stratacache.AsyncCache())
    with http_servers.asgi_server(app) as url:
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            answers = await asyncio.gather(client.get("/hold"), client.get("/hold"))
    assert [a.text for a in answers] == ["start end"] * 2
    assert seen == [0, 1]


def test_arguments_are_checked() -> None:
    app = starlette_app(Calls())
    with pytest.raises(TypeError, match="cache"):
        asgi.CacheMiddleware(app, {})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="routes"):
        asgi.CacheMiddleware(app, stratacache.Cache(), routes="some")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="ttl"):
        asgi.cache_route(ttl=-1)
    with pytest.raises(TypeError, match="vary"):
        asgi.cache_route(vary="accept")
