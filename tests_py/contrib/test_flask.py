"""stratacache.contrib.flask: Flask-Caching's API over stratacache, in a real Flask app."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

import stratacache

flask = pytest.importorskip("flask")
pytest.importorskip("flask_caching")

from werkzeug.serving import make_server

from stratacache.contrib.flask import Cache, StrataBackend


class Counter:
    def __init__(self) -> None:
        self.n = 0
        self.lock = threading.Lock()

    def __call__(self) -> int:
        with self.lock:
            self.n += 1
            return self.n


def make_app(config: dict[str, Any]) -> tuple[Any, Cache, Counter]:
    """An app with a cached view, a view reading the query, and a memoized function."""
    app = flask.Flask("stratacache-test")
    app.config.update(config)
    cache = Cache(app)
    calls = Counter()

    @app.get("/page/<int:n>")
    @cache.cached(timeout=60)
    def page(n: int) -> str:
        return f"page {n} call {calls()}"

    @app.get("/search")
    @cache.cached(timeout=60, query_string=True)
    def search() -> str:
        return f"q={flask.request.args.get('q')} call {calls()}"

    @app.get("/fresh")
    @cache.cached(timeout=60, unless=lambda: flask.request.args.get("nocache") == "1")
    def fresh() -> str:
        return f"call {calls()}"

    @app.get("/prefixed")
    @cache.cached(timeout=60, key_prefix="custom/%s")
    def prefixed() -> str:
        return f"call {calls()}"

    @cache.memoize(timeout=60)
    def double(x: int) -> int:
        calls()
        return 2 * x

    app.config["double"] = double
    return app, cache, calls


@pytest.fixture(params=["l1", "redis"])
def config(request: pytest.FixtureRequest) -> dict[str, Any]:
    if request.param == "l1":
        return {}
    return {"STRATACACHE_URL": request.getfixturevalue("redis_clean_url")}


@pytest.fixture
def app(config: dict[str, Any]) -> Iterator[tuple[Any, Cache, Counter]]:
    made = make_app(config)
    yield made
    with made[0].app_context():
        made[1].backend.cache.close()


def test_cached_views(app: tuple[Any, Cache, Counter]) -> None:
    flask_app, cache, calls = app
    client = flask_app.test_client()
    first = client.get("/page/1").text
    assert client.get("/page/1").text == first
    assert client.get("/page/2").text != first
    assert client.get("/search?q=a").text != client.get("/search?q=b").text
    assert client.get("/search?q=a").text.startswith("q=a")
    before = calls.n
    client.get("/search?q=a")
    assert calls.n == before
    assert client.get("/fresh?nocache=1").text != client.get("/fresh?nocache=1").text
    cached = client.get("/fresh").text
    assert client.get("/fresh").text == cached
    assert client.get("/prefixed").text == client.get("/prefixed").text
    with flask_app.app_context():
        assert cache.get("custom//prefixed") is not None
        cache.clear()
    assert client.get("/page/1").text != first


def test_memoize_and_delete_memoized(app: tuple[Any, Cache, Counter]) -> None:
    flask_app, cache, calls = app
    double = flask_app.config["double"]
    with flask_app.app_context():
        assert double(2) == 4
        assert double(2) == 4
        assert double(3) == 6
        assert calls.n == 2
        cache.delete_memoized(double, 2)
        assert double(2) == 4
        assert double(3) == 6
        assert calls.n == 3
        cache.delete_memoized(double)
        double(3)
        assert calls.n == 4


def test_storage_semantics(app: tuple[Any, Cache, Counter]) -> None:
    flask_app, cache, _ = app
    with flask_app.app_context():
        backend = cache.backend
        value = [1]
        cache.set("k", value, timeout=0)  # 0: never expires, as in cachelib
        value.append(2)
        assert cache.get("k") == [1]  # pickled: a copy
        assert backend.cache.ttl("k") == float("inf")
        assert cache.add("k", "other") is False
        assert cache.has("k")
        assert backend.inc("n") == 1
        assert backend.inc("n", 5) == 6
        assert backend.dec("n", 2) == 4
        cache.set_many({"a": 1, "b": "two"})
        assert cache.get_many("a", "b", "c") == [1, "two", None]
        assert cache.get_dict("a", "c") == {"a": 1, "c": None}
        cache.delete_many("a", "b")
        assert cache.get("a") is None
        cache.set("gone", 1, timeout=-1)
        assert cache.get("gone") is None


def test_config_is_checked() -> None:
    with pytest.raises(TypeError, match="STRATACACHE_URL"):
        Cache(flask.Flask("a"), config={"STRATACACHE_URL": 6379})
    with pytest.raises(TypeError, match="STRATACACHE_OPTIONS"):
        Cache(flask.Flask("b"), config={"STRATACACHE_OPTIONS": [1]})
    with pytest.raises(TypeError, match="STRATACACHE_PICKLE"):
        Cache(flask.Flask("c"), config={"STRATACACHE_PICKLE": "no"})
    with pytest.raises(TypeError):
        Cache(flask.Flask("d"), config={"STRATACACHE_OPTIONS": {"max_entriez": 5}})
    with pytest.raises(TypeError, match=r"stratacache\.Cache"):
        Cache(flask.Flask("e"), cache="redis://")
    with pytest.raises(TypeError, match=r"stratacache\.Cache"):
        StrataBackend({})
    own = stratacache.Cache(max_entries=10)
    app = flask.Flask("f")
    cache = Cache(app, cache=own)
    with app.app_context():
        cache.set("k", 1)
    assert own.get("k") == 1


def test_two_processes_share_redis(redis_clean_url: str) -> None:
    """Two apps, each its own Cache (L1, connections): what one memoizes the other reads,
    and delete_memoized in one reaches the other's L1."""
    a, cache_a, calls_a = make_app({"STRATACACHE_URL": redis_clean_url})
    b, cache_b, calls_b = make_app({"STRATACACHE_URL": redis_clean_url})
    try:
        with a.app_context():
            assert a.config["double"](21) == 42
        with b.app_context():
            assert b.config["double"](21) == 42
        assert (calls_a.n, calls_b.n) == (1, 0)
        with a.app_context():
            cache_a.delete_memoized(a.config["double"], 21)
        deadline = time.monotonic() + 5
        with b.app_context():
            while calls_b.n == 0 and time.monotonic() < deadline:
                b.config["double"](21)
                time.sleep(0.02)
        assert calls_b.n == 1
    finally:
        for app, cache in ((a, cache_a), (b, cache_b)):
            with app.app_context():
                cache.backend.cache.close()


@contextlib.contextmanager
def serve(app: Any) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        body: bytes = response.read()
    return body.decode()


def test_over_real_http(app: tuple[Any, Cache, Counter]) -> None:
    flask_app, _, calls = app
    with serve(flask_app) as base:
        bodies = [fetch(f"{base}/page/7") for _ in range(5)]
        other = fetch(f"{base}/page/8")
    assert len(set(bodies)) == 1
    assert other != bodies[0]
    assert calls.n == 2


def test_missing_flask_caching_raises_missing_extra_error() -> None:
    code = (
        "import sys; sys.modules['flask_caching'] = None\n"
        "import stratacache\n"
        "try:\n"
        "    import stratacache.contrib.flask\n"
        "except stratacache.MissingExtraError as e:\n"
        "    print(e)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert "stratacache[flask]" in out.stdout
