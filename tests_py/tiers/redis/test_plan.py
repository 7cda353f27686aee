"""Pure decisions of the Redis tier (`_plan`, `_tiered.InvalidationLog`): no server needed."""

from __future__ import annotations

import json

import pytest

from stratacache.tiers.redis import plan as _plan
from stratacache.tiers.redis.state import InvalidationLog


@pytest.mark.parametrize(
    ("raw", "version"),
    [(None, 0), (b"0", 0), (b"17", 17), (b"-3", -3), (b"9" * 18, int("9" * 18))],
)
def test_versions_parse_what_incr_writes(raw: bytes | None, version: int) -> None:
    assert _plan.parse_version(raw) == version


@pytest.mark.parametrize("raw", [b"", b"abc", b"1.5", b" 7", b"7\n", b"1_000", b"9" * 19, b"+1"])
def test_foreign_versions_parse_as_none(raw: bytes) -> None:
    assert _plan.parse_version(raw) is None


def test_a_foreign_version_matches_no_entry() -> None:
    assert _plan.tags_current({"t": 0}, [None])
    assert _plan.tags_current({"t": 4}, [b"4"])
    assert not _plan.tags_current({"t": 0}, [b"garbage"])
    assert not _plan.tags_current({"t": 4}, [b"5"])


def test_a_fresh_version_is_above_any_counter() -> None:
    assert _plan.fresh_version() > 10**15
    assert _plan.parse_version(str(_plan.fresh_version()).encode()) is not None


def test_leases_outlive_the_lock_and_are_no_envelope() -> None:
    assert _plan.lease_ms(None) == 30_000
    assert _plan.lease_ms(60) == 120_000
    assert not _plan.LEASE_PREFIX.startswith(b"SC")


def test_the_log_keeps_what_was_skipped_in_order() -> None:
    log = InvalidationLog(limit=100)
    assert not log
    assert log.add("k", "users", ["a", "b"]) == (True, 0)
    assert log.add("t", "", ["team"]) == (False, 0)
    assert len(log) == 3
    pending = log.pending()
    assert [(e.op, e.namespace, e.items) for e in pending] == [
        ("k", "users", ("a", "b")),
        ("t", "", ("team",)),
    ]
    log.add("k", "users", ["c"])  # arrives while the first two replay
    assert log.done(pending) == 3
    assert [(e.op, e.items) for e in log.pending()] == [("k", ("c",))]


def test_an_overflow_collapses_into_namespace_flushes_and_one_tag_bump() -> None:
    log = InvalidationLog(limit=5)
    log.add("t", "", ["x", "y"])
    log.add("k", "users", ["a", "b"])
    was_empty, collapsed = log.add("p", "orders", ["o:*", "p:*"])
    assert (was_empty, collapsed) == (False, 4)
    ops = sorted((e.op, e.namespace, e.items) for e in log.pending())
    assert ops == [("n", "orders", ()), ("n", "users", ()), ("t", "", ("x", "y"))]
    # A flushed namespace covers later key deletes and patterns; tags still add up.
    assert log.add("k", "users", ["z"]) == (False, 0)
    log.add("t", "", ["w"])
    assert sorted(e.op for e in log.pending()) == ["n", "n", "t", "t"]


def test_too_many_tags_or_a_full_flush_collapse_into_everything() -> None:
    log = InvalidationLog(limit=3)
    log.add("t", "", ["a", "b", "c", "d"])
    assert [(e.op, e.namespace) for e in log.pending()] == [("a", "")]
    assert log.add("k", "users", ["k"]) == (False, 0)  # covered by the full flush
    assert len(log) == 1


@pytest.mark.parametrize(
    "message",
    [
        _plan.Message("0" * 32, "k", "", ("k",)),
        _plan.Message("o", "t", "ns", ("a", "b"), skipped=True),
        _plan.Message("o", "a", "", ()),
        _plan.Message("o", "p", "n\u00e9", ('q"uote\\', "tab\t", "\u2028", "\U0001f600", "\x00")),
    ],
)
def test_a_message_encodes_to_the_compact_json_every_version_decodes(
    message: _plan.Message,
) -> None:
    # Written out by hand for speed: byte for byte what json.dumps gives, and decoded back.
    data = [message.origin, message.op, message.namespace, list(message.items)]
    if message.skipped:
        data.append(1)
    want = json.dumps(data, ensure_ascii=True, separators=(",", ":")).encode()
    assert message.encode() == want
    assert _plan.Message.decode(message.encode()) == message


def test_judge_tells_fresh_stale_and_expired() -> None:
    forever = _plan.judge(0, 0, 0, at_ms=10**12, stale_ttl=5, early_refresh=None)
    assert forever is _plan.NO_EXPIRY
    assert (forever.fresh_left, forever.usable, forever.refresh) == (float("inf"), True, False)
    fresh = _plan.judge(1000, 2000, 0, at_ms=1500, stale_ttl=5, early_refresh=None)
    assert fresh == _plan.Freshness(1.5, usable=True, refresh=False, l1_ttl=1.5)
    stale = _plan.judge(1000, 2000, 0, at_ms=4000, stale_ttl=5, early_refresh=None)
    assert stale == _plan.Freshness(-1.0, usable=True, refresh=True, l1_ttl=None)
    gone = _plan.judge(1000, 2000, 0, at_ms=9000, stale_ttl=5, early_refresh=None)
    assert (gone.usable, gone.refresh, gone.l1_ttl) == (False, False, None)


@pytest.mark.parametrize(
    ("prefix", "namespace", "key"),
    [("sc:", "default", "k"), ("", "ns", "é\u2603"), ("p:", "n", "lone \udc80 surrogate")],
)
def test_the_state_keys_values_as_value_key_does(prefix: str, namespace: str, key: str) -> None:
    from stratacache.tiers.redis.state import TierState  # noqa: PLC0415

    state = object.__new__(TierState)  # rkey reads the prefix only
    state.prefix = prefix
    assert state.rkey(namespace, key) == _plan.value_key(prefix, namespace, key)
