"""HTTP response caching: our ASGI middleware's hit against the uncached app and fastapi-cache2
-> bench/results/http.json (http_quick.json with --quick).

One FastAPI app, a product endpoint returning a 20-field dict (FastAPI validates and serializes
it on every uncached call), in three builds that differ only in the caching:

* ``stratacache CacheMiddleware`` (the reference): the app behind
  ``CacheMiddleware(app, AsyncCache(), routes="marked")`` with the endpoint under
  ``cache_route``; every request after the warm-up is a hit.
* ``uncached app``: the same app with no cache.
* ``fastapi-cache2 (InMemoryBackend)``: the endpoint under fastapi-cache2's ``@cache`` over its
  in-memory backend, its fastest documented mode; every request after the warm-up is a hit.

Cases, all over the same Zipf sequence of product ids (every id warmed first, so all are hits):

* ``asgi-hit``: the ASGI app called directly in one event loop (no sockets): the cost of a
  request inside the process, middleware and framework included.
* ``http-hit``: over loopback, uvicorn in a thread of this process and one httpx client per
  server; requests alternate between the servers one by one, and each server's median
  single-request time (client side) is compared. Server, client and network stack dominate.

Ratios are peer time / our time (> 1: ours faster).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import httpx
from _harness import Case, Options, parse_options, print_table, run_case, write_results, zipf_ids
from fastapi import FastAPI
from fastapi_cache import FastAPICache
from fastapi_cache.backends.inmemory import InMemoryBackend
from fastapi_cache.decorator import cache as fastapi_cache

import stratacache
from stratacache.contrib.asgi import CacheMiddleware, cache_route
from stratacache.testing.http_servers import asgi_server

N_KEYS = 500
OURS = "stratacache CacheMiddleware"
PLAIN = "uncached app"
PEER = "fastapi-cache2 (InMemoryBackend)"


def product(i: int) -> dict[str, Any]:
    return {"id": i, "name": f"product {i}", **{f"attr_{k}": k * i for k in range(18)}}


def build(kind: str) -> Any:
    """One FastAPI app; `kind` picks its caching."""
    api = FastAPI()

    async def endpoint(product_id: int) -> dict[str, Any]:
        return product(product_id)

    if kind == OURS:
        api.get("/products/{product_id}")(cache_route(ttl=600)(endpoint))
        return CacheMiddleware(api, stratacache.AsyncCache(max_entries=10_000), routes="marked")
    if kind == PEER:
        api.get("/products/{product_id}")(fastapi_cache(expire=600)(endpoint))
        return api
    api.get("/products/{product_id}")(endpoint)
    return api


def scope_of(path: str) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"bench.test"), (b"accept", b"*/*")],
        "server": ("bench.test", 80),
        "client": ("127.0.0.1", 40000),
    }


async def _receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


def asgi_runner(loop: asyncio.AbstractEventLoop, app: Any, paths: list[str]) -> Callable[[], int]:
    """A runner sending every path through `app` in `loop`; checks each answer is a 200."""
    statuses: list[int] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    async def body() -> int:
        statuses.clear()
        t0 = time.perf_counter_ns()
        for path in paths:
            await app(scope_of(path), _receive, send)
        elapsed = time.perf_counter_ns() - t0
        if statuses.count(200) != len(paths):
            msg = f"{len(paths) - statuses.count(200)} requests did not answer 200"
            raise RuntimeError(msg)
        return elapsed

    return lambda: loop.run_until_complete(body())


def http_rows(
    clients: dict[str, httpx.Client], paths: list[str], opts: Options, params: dict[str, Any]
) -> list[dict[str, Any]]:
    """The http-hit rows: requests alternate between the servers one by one (a block of a
    thousand per server let the machine's noise land on one server's block), and each
    server's median per-request time is compared."""
    samples: dict[str, list[int]] = {kind: [] for kind in clients}
    kinds = list(clients)
    for r in range(opts.rounds):
        for i, path in enumerate(paths):
            for j in range(len(kinds)):
                kind = kinds[(r + i + j) % len(kinds)]
                t0 = time.perf_counter_ns()
                clients[kind].get(path).raise_for_status()
                samples[kind].append(time.perf_counter_ns() - t0)
    medians = {kind: statistics.median(v) for kind, v in samples.items()}
    return [
        {
            "case": "http-hit",
            "impl": kind,
            "median_ns": round(medians[kind], 2),
            "ratio_vs_ours": round(medians[kind] / medians[OURS], 3),
            "n": len(paths) * opts.rounds,
            "params": {
                **params,
                "rounds": opts.rounds,
                "reference": OURS,
                "statistic": "median of single requests, interleaved one by one",
            },
        }
        for kind in kinds
    ]


def main() -> None:
    opts: Options = parse_options(__doc__ or "")
    n_asgi = opts.n // 10  # a request is ~100x an L1 get; keep a round near a second
    n_http = max(200, opts.n // 200)
    ids = zipf_ids(N_KEYS, n_asgi, seed=opts.seed).tolist()
    warm = [f"/products/{i}" for i in range(N_KEYS)]
    paths = [f"/products/{i}" for i in ids]
    FastAPICache.init(InMemoryBackend(), prefix="bench")
    apps = {kind: build(kind) for kind in (OURS, PLAIN, PEER)}
    params = {"keys": N_KEYS, "body_bytes": len(str(product(1))), "load_1m": os.getloadavg()[0]}
    rows: list[dict[str, Any]] = []

    loop = asyncio.new_event_loop()
    case = Case("asgi-hit", n_asgi, params=params)
    for kind, app in apps.items():
        asgi_runner(loop, app, warm)()  # every id cached before timing
        case.add(kind, asgi_runner(loop, app, paths), ours=kind == OURS)
    rows += run_case(case, opts)
    loop.close()

    with (
        asgi_server(apps[OURS]) as ours_url,
        asgi_server(apps[PLAIN]) as plain_url,
        asgi_server(apps[PEER]) as peer_url,
    ):
        clients = {
            kind: httpx.Client(base_url=url, timeout=30)
            for kind, url in ((OURS, ours_url), (PLAIN, plain_url), (PEER, peer_url))
        }
        for client in clients.values():
            for path in warm:
                client.get(path).raise_for_status()
        rows += http_rows(clients, paths[:n_http], opts, params)
        for client in clients.values():
            client.close()

    print_table(rows)
    path = write_results("http_quick" if opts.quick else "http", rows)
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
