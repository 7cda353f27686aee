"""The read path decodes with Codec.try_decode_entry: bad bytes are a counted miss (their
reason logged), while a registered decoder's own bug raises instead of becoming a miss."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import redis

import stratacache
from stratacache._log import RateLimited
from stratacache.tiers.redis import state

from ..conftest import call

pytestmark = pytest.mark.usefixtures("redis_clean_url")


@dataclass(frozen=True)
class Point:
    x: int
    y: int


def codec(decode: Callable[[list[int]], Point]) -> stratacache.Codec:
    made = stratacache.Codec(signing_key=bytes(range(32)))
    made.register_type(Point, 40, lambda p: [p.x, p.y], decode)
    return made


def broken(fields: list[int]) -> Point:
    return Point(*fields, 0)  # type: ignore[call-arg]  # the bug: one argument too many


async def test_a_decoder_bug_raises_from_get_and_is_not_a_miss(
    tiered: Callable[..., Any], redis_url: str
) -> None:
    writer = tiered(redis_url, codec=codec(lambda f: Point(*f)))
    reader = tiered(redis_url, codec=codec(broken), l1=False)
    await call(writer.set("p", Point(1, 2)))
    with pytest.raises(TypeError):
        await call(reader.get("p"))
    assert reader._stats().l2.corrupt == 0


async def test_bad_bytes_are_a_miss_counted_and_logged_with_their_reason(
    tiered: Callable[..., Any],
    redis_url: str,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A limiter of its own, so an earlier test's line does not hold this one back.
    fresh = RateLimited(state._corrupt_envelope._message)
    monkeypatch.setattr(state, "_corrupt_envelope", fresh)
    reader = tiered(redis_url, codec=codec(lambda f: Point(*f)), l1=False)
    other = tiered(redis_url, codec=stratacache.Codec(signing_key=bytes(range(1, 33))))
    await call(other.set("signed elsewhere", 1))
    redis.Redis.from_url(redis_url).set(b"sc:\x1fjunk", b"not an envelope")
    with caplog.at_level(logging.WARNING, logger="stratacache"):
        assert await call(reader.get("signed elsewhere", "miss")) == "miss"
        assert await call(reader.get("junk", "miss")) == "miss"
    assert reader._stats().l2.corrupt == 2
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "(tampered)" in logged
