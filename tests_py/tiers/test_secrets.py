"""No secret and no cached value in any repr, exception message or log line (issue 11 item 15).

A canary password and a canary value go through every error path we can reach; the text of
each exception (its whole chain: a traceback prints every link) and every log record must not
contain them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from redis.exceptions import NoPermissionError, ResponseError

import stratacache
from stratacache import ConfigError, RedisOptions, TierUnavailableError
from stratacache.testing.redis_servers import RedisServer
from stratacache.tiers.redis.common import describe

from ..conftest import call

SECRET = "Canary7Secret"  # not a lowercase word: describe() keeps only those when quoted
VALUE = "Canary9Value-payload"
FAST = RedisOptions(socket_timeout=0.2, connect_timeout=0.2, retries=0)


def texts(exc: BaseException) -> Iterator[str]:
    """str and repr of `exc` and of every exception a traceback would print with it."""
    seen: set[int] = set()
    link: BaseException | None = exc
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        yield str(link)
        yield repr(link)
        yield from (str(a) for a in link.args)
        # What a traceback prints: the cause, else the context unless `from None` hid it.
        link = link.__cause__ or (None if link.__suppress_context__ else link.__context__)


def assert_clean(exc: BaseException, *canaries: str) -> None:
    for text in texts(exc):
        for canary in canaries or (SECRET,):
            assert canary not in text, text


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every record of the stratacache logger (all levels) and WARNING+ of the others."""
    caplog.set_level(logging.WARNING)
    caplog.set_level(logging.DEBUG, logger="stratacache")
    yield caplog
    for record in caplog.records:
        text = record.getMessage() + repr(record.args) + str(record.exc_text or "")
        assert SECRET not in text, text
        assert VALUE not in text, text


@pytest.fixture
def user(fresh_redis_server: RedisServer) -> str:
    """A user whose password is the canary, with every permission a cache needs."""
    fresh_redis_server.command("ACL", "SETUSER", "canary", "on", f">{SECRET}", "~*", "&*", "+@all")
    return fresh_redis_server.url.replace("redis://", f"redis://canary:{SECRET}@")


def test_options_repr_hides_the_sentinel_password() -> None:
    options = RedisOptions(sentinel_password=SECRET)
    assert SECRET not in repr(options)
    assert SECRET not in str(options)
    assert options.sentinel_password == SECRET


@pytest.mark.parametrize(
    "url",
    [
        f"redis://user:{SECRET}",  # no host: the netloc is the credentials
        f"redis://user:{SECRET}@host:notaport",
        f"redis://user:{SECRET}@host:99999",
        f"redis://user:{SECRET}@host:1/notadb",
        f"redis://user:pa/{SECRET}@host:1",  # reserved characters, not percent-encoded
        f"redis://user:pa?{SECRET}@host:1",
        f"redis://user:pa#{SECRET}@host:1",
        f"redis://user:{SECRET}/@host:1",
        f"ftp://user:{SECRET}@host:1",
        f"redis+sentinel://user:{SECRET}@h:1",
        f"redis+sentinel://user:{SECRET}@h:x/mymaster",
        f"redis+cluster://user:{SECRET}@h:1/0",
        f"redis://user:{SECRET}@h:1?unknown=1",
        f"redis://h:1?sentinel_password={SECRET}&socket_timeout=x",
        f"redis://h:1?socket_timeout={SECRET}",
        f"redis://h:1?retries={SECRET}",
        f"redis://h:1?fail_open={SECRET}",
        f"redis://h:1?coherence={SECRET}",
        f"redis://h:1?ssl_cert_reqs={SECRET}",
    ],
)
def test_url_errors_never_echo_a_secret(cache_cls: type[Any], url: str) -> None:
    with pytest.raises((ConfigError, TypeError)) as info:
        cache_cls(redis=url)
    assert_clean(info.value)


def test_a_wrong_password_at_construction(
    cache_cls: type[Any], fresh_redis_server: RedisServer, logs: Any
) -> None:
    fresh_redis_server.command("ACL", "SETUSER", "canary", "on", ">other", "~*", "&*", "+@all")
    url = fresh_redis_server.url.replace("redis://", f"redis://canary:{SECRET}@")
    with pytest.raises(stratacache.RedisAuthError) as info:
        cache_cls(redis=url)
    assert_clean(info.value)


async def test_runtime_refusals_quote_neither_password_nor_value(
    tiered: Any, fresh_redis_server: RedisServer, user: str, logs: Any
) -> None:
    # The write goes out as a pipeline (SET + PUBLISH): redis-py's error quoted the command.
    closed = tiered(user, redis_options=FAST.replace(fail_open=False), l1=False)
    open_ = tiered(user, redis_options=FAST, l1=False)
    for cache in (closed, open_):  # connect checks done (an AsyncCache runs it off the loop)
        assert await call(cache.get("warm")) is None
    fresh_redis_server.command("ACL", "SETUSER", "canary", "-set", "-get", "-mget")
    with pytest.raises(TierUnavailableError) as info:
        await call(closed.set("k", VALUE))
    assert_clean(info.value, SECRET, VALUE)
    with pytest.raises(TierUnavailableError) as info:
        await call(closed.get("k"))
    assert_clean(info.value, SECRET, VALUE)
    await call(open_.set("k", VALUE))  # fail-open: skipped, logged
    assert await call(open_.get("k")) is None
    fresh_redis_server.command("ACL", "SETUSER", "canary", "resetpass", ">another")
    fresh_redis_server.command("CLIENT", "KILL", "USER", "canary")
    with pytest.raises(TierUnavailableError) as info:
        await call(closed.set("k", VALUE))
    assert_clean(info.value, SECRET, VALUE)
    await call(open_.set("k", VALUE))


async def test_an_outage_and_the_breaker_say_nothing_secret(
    tiered: Any, fresh_redis_server: RedisServer, user: str, logs: Any
) -> None:
    options = FAST.replace(fail_open=False, breaker=stratacache.BreakerConfig(failure_threshold=1))
    cache = tiered(user, redis_options=options, l1=False)
    await call(cache.set("k", VALUE))
    fresh_redis_server.kill()
    for _ in range(3):  # a transport failure, then the open circuit
        with pytest.raises(TierUnavailableError) as info:
            await call(cache.set("k", VALUE))
        assert_clean(info.value, SECRET, VALUE)
    assert repr(cache._parts.target).count(SECRET) == 0


def test_describe_drops_pipeline_commands_and_echoed_arguments() -> None:
    annotated = NoPermissionError(
        f"Command # 1 (SET sc:\x1fk {VALUE} PX 60000) of pipeline caused error: "
        "User canary has no permissions to run the 'set' command"
    )
    assert describe(annotated) == (
        "NoPermissionError: User canary has no permissions to run the 'set' command"
    )
    echoed = ResponseError(f"ERR unknown command '{SECRET}', with args beginning with: 'x' ")
    assert describe(echoed) == "ResponseError: ERR unknown command '...'"
    assert describe(ResponseError()) == "ResponseError"
