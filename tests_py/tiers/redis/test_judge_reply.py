"""`TierState.judge_reply`, the one-frame read of a GET reply: every reply it does not judge
itself (a lease, tags, a json codec, a codec subclass) reaches the same verdict as before, and
what it judges itself is counted as `decode` and `finish_read` count it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import redis

import stratacache
from stratacache.tiers.redis import plan as _plan
from stratacache.tiers.redis.state import MISS

from ...conftest import call

pytestmark = pytest.mark.usefixtures("redis_clean_url")


def keys(cache: Any) -> tuple[bytes, str]:
    """The Redis key of "k" in `cache`'s namespace, as bytes and as the codec's str."""
    rkey = cache._tier.rkey(cache.namespace, "k")
    return rkey, rkey.decode()


def raw(url: str) -> redis.Redis:
    return redis.Redis.from_url(url)


async def test_a_plain_hit_is_counted_once(tiered: Callable[..., Any], redis_url: str) -> None:
    cache = tiered(redis_url, l1=False)
    await call(cache.set("k", {"a": [1, 2]}))
    assert await call(cache.get("k")) == {"a": [1, 2]}
    stats = cache._stats().l2
    assert (stats.hits, stats.misses, stats.corrupt) == (1, 0, 0)


async def test_a_hit_is_kept_in_l1_for_what_is_left_of_its_ttl(
    tiered: Callable[..., Any], redis_url: str, settle: Callable[..., None]
) -> None:
    writer, reader = tiered(redis_url, l1=False), tiered(redis_url)
    await call(writer.set("k", "v", ttl=30))
    settle(redis_url, reader)  # the write's invalidation, applied first, moves no generation
    assert await call(reader.get("k")) == "v"
    raw(redis_url).delete(keys(reader)[0])  # no invalidation: only L1 can answer now
    assert await call(reader.get("k")) == "v"
    assert reader._stats().l2.hits == 1


async def test_an_expired_value_is_a_miss_and_a_stale_one_is_served_when_allowed(
    tiered: Callable[..., Any], redis_url: str
) -> None:
    cache = tiered(redis_url, l1=False, stale_ttl=60)
    rkey, key = keys(cache)
    old = _plan.now_ms() - 10_000  # written 10 s ago with a 1 s TTL: 9 s into its stale window
    envelope = stratacache.Codec().encode_entry(key, "v", created_at_ms=old, ttl_ms=1000)
    raw(redis_url).set(rkey, envelope)
    assert await call(cache.get("k", "gone")) == "gone"
    st = cache._tier
    assert st.counters.misses == 1
    assert st.judge_reply(cache.namespace, "k", key, envelope, 0, allow_stale=True) == ("v", True)
    assert st.counters.stale_hits == 1


@pytest.mark.parametrize(
    "payload",
    [b"", b"\x00", b"not an envelope", b"\x92\x01\x02" * 5, b"\xff" * 40],
)
async def test_bytes_that_are_no_envelope_are_a_corrupt_miss(
    tiered: Callable[..., Any], redis_url: str, payload: bytes
) -> None:
    cache = tiered(redis_url, l1=False)
    raw(redis_url).set(keys(cache)[0], payload)
    assert await call(cache.get("k", "default")) == "default"
    stats = cache._stats().l2
    assert (stats.hits, stats.corrupt) == (0, 1)


async def test_a_tagged_value_is_judged_by_its_tags_versions(
    tiered: Callable[..., Any], redis_url: str
) -> None:
    writer, reader = tiered(redis_url, l1=False), tiered(redis_url, l1=False)
    await call(writer.set("k", "v", tags=["t"]))
    assert await call(reader.get("k")) == "v"
    raw(redis_url).incr(b"sc:tag:t")  # another process's bump
    assert await call(reader.get("k", "old")) == "old"
    assert reader._stats().l2.tag_misses == 1


async def test_a_json_codec_reads_through_its_own_decoder(
    tiered: Callable[..., Any], redis_url: str
) -> None:
    cache = tiered(redis_url, l1=False, codec=stratacache.Codec(serializer="json"))
    await call(cache.set("k", {"a": 1}))
    assert await call(cache.get("k")) == {"a": 1}
    assert cache._stats().l2.hits == 1


async def test_a_codec_subclass_overriding_try_decode_entry_is_asked(
    tiered: Callable[..., Any], redis_url: str
) -> None:
    asked: list[str] = []

    class Watched(stratacache.Codec):
        def try_decode_entry(self, key: str, data: bytes) -> Any:
            asked.append(key)
            return super().try_decode_entry(key, data)

    cache = tiered(redis_url, l1=False, codec=Watched())
    await call(cache.set("k", "v"))
    assert await call(cache.get("k")) == "v"
    assert asked == [keys(cache)[1]]


async def test_a_lease_is_a_plain_miss(tiered: Callable[..., Any], redis_url: str) -> None:
    cache = tiered(redis_url, l1=False)
    raw(redis_url).set(keys(cache)[0], _plan.LEASE_PREFIX + b"token")
    assert await call(cache.get("k", "none")) == "none"
    stats = cache._stats().l2
    assert (stats.misses, stats.corrupt) == (1, 0)


async def test_a_reply_in_the_recovery_grace_takes_the_full_path(
    tiered: Callable[..., Any], redis_url: str
) -> None:
    cache = tiered(redis_url, l1=False)
    st, key = cache._tier, keys(cache)[1]
    before = _plan.now_ms() - 1000  # created before the trouble
    envelope = stratacache.Codec().encode_entry(key, "v", created_at_ms=before)
    st.trouble()  # an outage just now: envelopes from before it are distrusted for a grace
    assert st.judge_reply(cache.namespace, "k", key, envelope, 0, allow_stale=False) == (
        MISS,
        False,
    )
    assert st.counters.grace_misses == 1


@pytest.mark.parametrize("early_refresh", [None, 1.0])
@pytest.mark.parametrize("age_ms", [0, 500, 1500, 5000])  # clear of the 1 s boundary
async def test_the_verdict_on_a_ttl_is_plan_judges(
    tiered: Callable[..., Any], redis_url: str, early_refresh: float | None, age_ms: int
) -> None:
    cache = tiered(redis_url, l1=False, stale_ttl=2, early_refresh=early_refresh)
    st, key = cache._tier, keys(cache)[1]
    created = _plan.now_ms() - age_ms
    envelope = stratacache.Codec().encode_entry(key, "v", created_at_ms=created, ttl_ms=1000)
    value, refresh = st.judge_reply(cache.namespace, "k", key, envelope, 0, allow_stale=True)
    verdict = _plan.judge(
        created, 1000, 0, at_ms=_plan.now_ms(), stale_ttl=2, early_refresh=early_refresh
    )
    if verdict.fresh_left > 0:
        expected = ("v", verdict.refresh)
    elif verdict.usable:  # stale: served, and refreshed
        expected = ("v", True)
    else:
        expected = (MISS, False)
    assert (value, refresh) == expected
