"""The Django session engine over stratacache's SessionStore, through Django's middleware."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

import stratacache

pytest.importorskip("django")

import django
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import path

KEY = os.urandom(32)


def count(request: HttpRequest) -> HttpResponse:
    request.session["n"] = request.session.get("n", 0) + 1
    return HttpResponse(str(request.session["n"]))


def login(request: HttpRequest) -> HttpResponse:
    # What django.contrib.auth.login does to the session: a new key, then the user id.
    request.session.cycle_key()
    request.session["_auth_user_id"] = request.GET["user"]
    return HttpResponse("ok")


def logout(request: HttpRequest) -> HttpResponse:
    request.session.flush()
    return HttpResponse("bye")


urlpatterns = [path("count", count), path("login", login), path("logout", logout)]


@pytest.fixture
def client(redis_clean_url: str) -> Iterator[Any]:
    from stratacache.contrib.django import sessions  # noqa: PLC0415

    options = {"cache_or_url": redis_clean_url, "codec": stratacache.Codec(encryption_keys=KEY)}
    if not settings.configured:
        settings.configure(
            SECRET_KEY="sessions-test",
            ROOT_URLCONF=__name__,
            MIDDLEWARE=["django.contrib.sessions.middleware.SessionMiddleware"],
            SESSION_ENGINE="stratacache.contrib.django.sessions",
            INSTALLED_APPS=["django.contrib.sessions"],
            ALLOWED_HOSTS=["testserver"],
            DATABASES={},
        )
        django.setup()
    settings.STRATACACHE_SESSIONS = options
    sessions.close_store()
    from django.test import Client  # noqa: PLC0415

    yield Client()
    sessions.close_store()


def store() -> Any:
    from stratacache.contrib.django import sessions  # noqa: PLC0415

    return sessions._shared_store()


def test_a_session_lives_across_requests(client: Any) -> None:
    assert [client.get("/count").content for _ in range(3)] == [b"1", b"2", b"3"]
    sid = client.cookies[settings.SESSION_COOKIE_NAME].value
    session = store().get(sid)
    assert session.data == {"n": 3}
    assert session.user_id == "anonymous"


def test_login_moves_the_session_to_its_user(client: Any) -> None:
    client.get("/count")
    before = client.cookies[settings.SESSION_COOKIE_NAME].value
    client.get("/login?user=42")
    after = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert after != before
    assert store().get(before) is None
    assert [s.data for s in store().list("42")] == [{"n": 1, "_auth_user_id": "42"}]
    assert client.get("/count").content == b"2"
    assert store().revoke_user("42") == 1
    assert client.get("/count").content == b"1"  # revoked: a fresh session


def test_logout_revokes(client: Any) -> None:
    client.get("/login?user=7")
    sid = client.cookies[settings.SESSION_COOKIE_NAME].value
    client.get("/logout")
    assert store().get(sid) is None
    assert store().list("7") == []


def test_the_engine_needs_its_settings(client: Any) -> None:
    from stratacache.contrib.django import sessions  # noqa: PLC0415

    sessions.close_store()
    del settings.STRATACACHE_SESSIONS
    with pytest.raises(stratacache.ConfigError, match="STRATACACHE_SESSIONS"):
        sessions.SessionStore()
    settings.STRATACACHE_SESSIONS = "redis://"
    with pytest.raises(TypeError, match="must be a dict"):
        sessions.SessionStore()
