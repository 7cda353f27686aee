"""Codec round trips of every supported type, and entry metadata."""

from __future__ import annotations

import datetime as dt
import math
import uuid
import zoneinfo
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

import stratacache
from stratacache import Codec, CodecEntry

KEY = "app:v1:item:1"
Same = Callable[[Any, Any], bool]

UTC = dt.timezone.utc
NY = zoneinfo.ZoneInfo("America/New_York")

VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    127,
    -33,
    2**31,
    2**63 - 1,
    2**63,
    2**64 - 1,
    2**64,
    -(2**63),
    -(2**63) - 1,
    10**40,
    -(10**40),
    1.5,
    1.0,
    -0.0,
    math.inf,
    -math.inf,
    "",
    "héllo wörld ✓",
    "x" * 5000,
    b"",
    b"\x00\xff",
    bytearray(b"mutable"),
    [],
    [1, "a", None],
    (),
    (1,),
    (1, (2, (3,))),
    {},
    {"a": 1, "b": [1, 2]},
    {1: "int key", (1, 2): "tuple key", None: "none key", 1.5: "float key", b"b": "bytes"},
    set(),
    {1, 2, 3},
    frozenset({"a", "b"}),
    {frozenset({1}), (1, 2)},
    dt.datetime(2024, 1, 2, 3, 4, 5, 6),
    dt.datetime(1, 1, 1),
    dt.datetime(9999, 12, 31, 23, 59, 59, 999999),
    dt.datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
    dt.datetime(2024, 1, 2, tzinfo=dt.timezone(dt.timedelta(hours=-5, minutes=-30))),
    dt.datetime(2024, 1, 2, tzinfo=dt.timezone(dt.timedelta(hours=9), "JST")),
    dt.datetime(2024, 1, 2, tzinfo=dt.timezone(dt.timedelta(microseconds=-1))),
    dt.datetime(2024, 11, 3, 1, 30, fold=1, tzinfo=NY),
    dt.datetime(2024, 7, 1, 12, tzinfo=zoneinfo.ZoneInfo("Europe/Paris")),
    dt.date(2020, 2, 29),
    dt.date(1, 1, 1),
    dt.time(),
    dt.time(23, 59, 59, 999999, fold=1),
    dt.time(1, 2, 3, 4, tzinfo=dt.timezone(dt.timedelta(hours=2))),
    dt.timedelta(),
    dt.timedelta(days=-3, seconds=5, microseconds=7),
    dt.timedelta(days=999999999, hours=23),
    dt.timedelta.min,
    Decimal("1.10"),
    Decimal("-0"),
    Decimal("NaN"),
    Decimal("-sNaN"),
    Decimal("Infinity"),
    Decimal("1e-999999"),
    uuid.UUID(int=0),
    uuid.UUID("12345678-1234-5678-1234-567812345678"),
]


@pytest.fixture(params=["lz4", "zstd", None])
def codec(request: pytest.FixtureRequest) -> Codec:
    return Codec(compression=request.param, compress_threshold=64)


@pytest.mark.parametrize("value", VALUES, ids=lambda v: type(v).__name__)
def test_every_type_round_trips_exactly(codec: Codec, value: Any, same_value: Same) -> None:
    back = codec.decode(KEY, codec.encode(KEY, value))
    assert same_value(back, value), (back, value)


def test_nan_round_trips() -> None:
    codec = Codec()
    assert math.isnan(codec.decode(KEY, codec.encode(KEY, math.nan)))


def test_nested_value_with_every_type_round_trips(codec: Codec, same_value: Same) -> None:
    value = {"all": VALUES, "nested": {"t": tuple(VALUES[:20]), "deep": [[[[{"x": (1,)}]]]]}}
    back = codec.decode(KEY, codec.encode(KEY, value))
    assert same_value(back, value)


def test_zoneinfo_keeps_its_zone_and_utc_stays_the_singleton() -> None:
    codec = Codec()
    aware = dt.datetime(2024, 3, 10, 2, 30, tzinfo=NY)
    back = codec.decode(KEY, codec.encode(KEY, aware))
    assert back.tzinfo is NY
    assert codec.decode(KEY, codec.encode(KEY, dt.datetime(2024, 1, 1, tzinfo=UTC))).tzinfo is UTC


def test_large_values_compress_and_round_trip(codec: Codec) -> None:
    value = [{"sku": i, "name": f"item {i}", "tags": ("a", "b")} for i in range(20_000)]
    data = codec.encode(KEY, value)
    assert codec.decode(KEY, data) == value


def test_compression_is_used_only_when_it_pays() -> None:
    text = "abc" * 10_000
    lz4 = Codec(compression="lz4").encode(KEY, text)
    plain = Codec(compression=None).encode(KEY, text)
    assert len(lz4) < len(plain) / 10
    random_bytes = bytes(range(256)) * 4
    small = Codec(compression="zstd", compress_threshold=2048).encode(KEY, random_bytes)
    assert len(small) > len(random_bytes)


def test_encode_entry_carries_metadata() -> None:
    codec = Codec()
    data = codec.encode_entry(
        KEY,
        {"v": 1},
        ttl_ms=30_000,
        compute_us=1234,
        tags={"user:1": 3, "catalog": 2**64 - 1},
        created_at_ms=1_750_000_000_000,
    )
    entry = codec.decode_entry(KEY, data)
    assert isinstance(entry, CodecEntry)
    assert entry.value == {"v": 1}
    assert entry.created_at_ms == 1_750_000_000_000
    assert entry.ttl_ms == 30_000
    assert entry.compute_us == 1234
    assert entry.tags == {"user:1": 3, "catalog": 2**64 - 1}
    assert entry.serializer == "msgpack"
    with pytest.raises(AttributeError):
        entry.value = 2  # type: ignore[misc]


def test_created_at_defaults_to_now_and_encode_has_empty_metadata() -> None:
    codec = Codec()
    before = int(dt.datetime.now(UTC).timestamp() * 1000)
    entry = codec.decode_entry(KEY, codec.encode(KEY, "v"))
    after = int(dt.datetime.now(UTC).timestamp() * 1000)
    assert before - 1 <= entry.created_at_ms <= after + 1
    assert (entry.ttl_ms, entry.compute_us, entry.tags) == (0, 0, {})
    assert codec.decode(KEY, codec.encode_entry(KEY, "v", ttl_ms=5)) == "v"


@pytest.mark.parametrize("serializer", ["msgpack", "json"])
def test_negative_created_at_and_every_serializer_in_entries(serializer: str) -> None:
    codec = Codec(serializer=serializer)  # type: ignore[arg-type]
    entry = codec.decode_entry(KEY, codec.encode_entry(KEY, [1, "a"], created_at_ms=-5))
    assert entry.value == [1, "a"]
    assert entry.created_at_ms == -5
    assert entry.serializer == serializer


def test_a_codec_reads_envelopes_of_other_serializers() -> None:
    data = Codec(serializer="json").encode(KEY, {"a": [1, 2.5]})
    assert Codec(serializer="msgpack").decode(KEY, data) == {"a": [1, 2.5]}


def test_exports() -> None:
    for name in ("Codec", "CodecEntry", "UnknownVersionError", "SerializationError"):
        assert name in stratacache.__all__
        assert getattr(stratacache, name) is not None
    assert issubclass(stratacache.UnknownVersionError, stratacache.CodecError)
    assert issubclass(stratacache.SerializationError, TypeError)


def test_map_keys_shared_across_values_never_mix_up() -> None:
    # Decoded dict keys are kept in one process-wide table of 512 slots: many more distinct
    # keys than slots (colliding ones take a slot over), keys that differ in one byte, in
    # length or in case, and non-ASCII keys (never kept) all come back exactly.
    codec = Codec(compression=None)
    keys = [f"k{i}" for i in range(3000)] + ["K0", "k", "", "k0 ", "ключ", "κλειδί", "é"]
    for _ in range(2):
        for i in range(0, len(keys), 7):
            value = {k: n for n, k in enumerate(keys[i : i + 7])}
            assert codec.decode("key", codec.encode("key", value)) == value
    shared = {"id": 1, "name": "x"}  # the same shape in every value: the same str objects
    first = codec.decode("key", codec.encode("key", shared))
    again = codec.decode("key", codec.encode("key", shared))
    assert [id(k) for k in first] == [id(k) for k in again]
