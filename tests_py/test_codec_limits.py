"""Decode amplification: a small envelope must not inflate into a huge object graph.

Each hostile envelope is written by a codec with the limits lifted (or by hand, for shapes an
honest encoder never writes) and read by a default one, which must refuse it before building
it: the Python memory the decode allocates stays small, whatever the shape.
"""

from __future__ import annotations

import datetime as dt
import tracemalloc
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
import redis

import stratacache
from stratacache import Codec, ConfigError
from stratacache.errors import CorruptDataError, DataTooLargeError

KEY = "app:v1:bomb"
UNBOUNDED: dict[str, Any] = {"max_items": 1 << 40, "max_decoded_bytes": 1 << 50}
#: Far below what any of the bombs builds when decoded (hundreds of MB to GB).
MEMORY_BOUND = 48 << 20


class Point:
    def __init__(self, x: int) -> None:
        self.x = x


def point_codec(**kwargs: Any) -> Codec:
    codec = Codec(compression="zstd", **kwargs)
    codec.register_type(Point, 40, lambda p: p.x, Point)
    return codec


def refuses(codec: Codec, data: bytes) -> None:
    """Asserts that decoding `data` hits a decode limit having allocated little Python memory."""
    tracemalloc.start()
    try:
        with pytest.raises(DataTooLargeError, match=r"max_items|max_decoded_bytes|max_depth"):
            codec.decode(KEY, data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < MEMORY_BOUND


def bomb(value: object, compression: str = "zstd") -> bytes:
    data = Codec(compression=compression, **UNBOUNDED).encode(KEY, value)  # type: ignore[arg-type]
    assert len(data) < 1 << 20
    return data


#: Containers declaring more elements than max_items (or one large str): refused from the
#: declared length, before any element is built.
SHAPES: dict[str, Callable[[], object]] = {
    "empty lists": lambda: [[]] * (1 << 24),
    "empty dicts": lambda: [{}] * (1 << 23),
    "nones": lambda: [None] * (1 << 25),
    "nested lists of max length": lambda: [[[0] * 4096] * 4096],
    "many map entries": lambda: dict.fromkeys(range(1 << 22)),
    "two-char strs": lambda: ["ab"] * (1 << 23),
    "one large str": lambda: "x" * (60 << 20),
}


@pytest.mark.parametrize("shape", SHAPES)
def test_a_compressed_bomb_is_refused_before_it_is_built(shape: str) -> None:
    limits = {"max_decoded_bytes": 32 << 20} if shape == "one large str" else {}
    refuses(Codec(**limits), bomb(SHAPES[shape]()))


#: Many short containers, each below any length bound: refused as the budget runs out, so some
#: are built first. The reader's max_value_bytes (4 MiB) is above each payload.
GRADUAL: dict[str, Callable[[], object]] = {
    "empty dicts": lambda: [[{}] * 2000] * 2000,
    "empty lists": lambda: [[[]] * 2000] * 2000,
    "two-char strs": lambda: [["ab"] * 1000] * 1300,
    "big ints": lambda: [[1 << 200] * 1000] * 140,
    "datetimes": lambda: [[dt.datetime(2026, 1, 1, tzinfo=dt.UTC)] * 1000] * 170,
    "decimals": lambda: [[Decimal(1)] * 1000] * 1300,
    "uuids": lambda: [[uuid.UUID(int=1)] * 1000] * 230,
    "empty sets": lambda: [[set()] * 1000] * 1300,
    "frozensets": lambda: [[frozenset((1,))] * 1000] * 1000,
    "tuples": lambda: [[(1, 2)] * 1000] * 650,
}


@pytest.mark.parametrize("shape", GRADUAL)
def test_many_small_containers_are_refused_as_the_budget_runs_out(shape: str) -> None:
    reader = Codec(max_value_bytes=4 << 20)
    data = bomb(GRADUAL[shape]())
    tracemalloc.start()
    try:
        with pytest.raises(DataTooLargeError, match=r"max_items|max_decoded_bytes"):
            reader.decode(KEY, data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 24 << 20


def test_lz4_bombs_are_refused_too() -> None:
    refuses(Codec(), bomb([[]] * (1 << 24), "lz4"))


def test_registered_types_count_what_they_hold() -> None:
    data = point_codec(**UNBOUNDED).encode(KEY, [Point(7)] * (1 << 23))
    assert len(data) < 100_000
    refuses(point_codec(), data)


def test_sealed_fields_count_what_they_hold() -> None:
    key = bytes(range(32))
    value = {"rows": [{"token": [None] * (1 << 23)}]}
    data = Codec(encryption_keys=key, encrypt_fields=["token"], **UNBOUNDED).encode(KEY, value)
    refuses(Codec(encryption_keys=key, encrypt_fields=["token"]), data)


def test_json_bombs_are_refused_before_json_parses_them() -> None:
    writer = Codec(serializer="json", compression="zstd", **UNBOUNDED)
    reader = Codec(serializer="json")
    refuses(reader, writer.encode(KEY, [[]] * (1 << 23)))
    refuses(reader, writer.encode(KEY, [{"k": "ab"}] * (1 << 22)))
    refuses(
        Codec(serializer="json", max_decoded_bytes=1 << 20), writer.encode(KEY, "x" * (4 << 20))
    )


def test_json_nesting_is_bounded_before_parsing() -> None:
    # Written by hand: no JSON writer nests this deep, and the codec's own refuses past max_depth.
    writer = Codec(serializer="json", compression="zstd", max_depth=1024)
    deep = writer._core.seal(KEY, 2, b"[" * 1000 + b"]" * 1000, None, 0, 0, None)
    refuses(Codec(serializer="json"), deep)


def _colliding_int_keys(n: int) -> bytes:
    """A msgpack map of `n` distinct big-int keys with one hash (hash(c + k * (2**61 - 1)))."""
    modulus = (1 << 61) - 1
    out = bytearray(b"\xdf" + n.to_bytes(4, "big"))
    for k in range(n):
        raw = (5 + (k + (1 << 40)) * modulus).to_bytes(13, "big", signed=True)
        out += b"\xc7" + bytes([len(raw), 1]) + raw + b"\xc0"
    return bytes(out)


def test_keys_crafted_to_share_one_hash_are_refused() -> None:
    codec = Codec(compression=None)
    payload = _colliding_int_keys(20_000)
    data = codec._core.seal(KEY, 1, payload, None, 0, 0, None)
    with pytest.raises(CorruptDataError, match="share a hash"):
        codec.decode(KEY, data)


def test_honest_int_keys_and_sets_still_decode() -> None:
    codec = Codec()
    value = {"ints": {i * 7919: i for i in range(50_000)}, "set": set(range(-5, 50_000))}
    assert codec.decode(KEY, codec.encode(KEY, value)) == value


@pytest.mark.parametrize(
    ("value", "items"),
    [
        ([1, "a", None], 4),
        ({"a": [1.5, True]}, 5),
        ((1, 2), 4),
        ({3}, 3),
        ([dt.date(2026, 1, 2), Decimal(1), b"x", bytearray(b"y"), 1 << 70], 6),
    ],
)
def test_encode_and_decode_count_alike(value: object, items: int) -> None:
    exact = Codec(max_items=items)
    data = exact.encode(KEY, value)
    assert exact.decode(KEY, data) == value
    tight = Codec(max_items=items - 1)
    with pytest.raises(DataTooLargeError, match=f"max_items={items - 1}"):
        tight.encode(KEY, value)
    with pytest.raises(DataTooLargeError, match=f"max_items={items - 1}"):
        tight.decode(KEY, data)


def test_encode_refuses_what_decode_would() -> None:
    with pytest.raises(DataTooLargeError, match="max_items"):
        Codec().encode(KEY, [None] * (1 << 23))
    with pytest.raises(DataTooLargeError, match="max_decoded_bytes"):
        Codec(max_decoded_bytes=1 << 20).encode(KEY, ["x" * 1024] * 2048)
    with pytest.raises(DataTooLargeError, match="max_items"):
        Codec(serializer="json", max_items=10).encode(KEY, list(range(10)))


def test_limits_are_derived_from_max_value_bytes() -> None:
    small = Codec(max_value_bytes=128 << 10)
    value = [0] * 65_535
    assert small.decode(KEY, small.encode(KEY, value)) == value
    with pytest.raises(DataTooLargeError, match="max_items=65536"):
        small.encode(KEY, [0] * 65_536)
    default = Codec()
    most = [0] * ((64 << 20) // 16 - 1)
    assert default.decode(KEY, default.encode(KEY, most)) == most
    with pytest.raises(DataTooLargeError, match="max_items=4194304"):
        default.encode(KEY, [*most, 0])


@pytest.mark.parametrize("name", ["max_items", "max_decoded_bytes"])
def test_limit_arguments_are_checked(name: str) -> None:
    with pytest.raises(ConfigError, match=name):
        Codec(**{name: 0})
    with pytest.raises(ConfigError, match=name):
        Codec(**{name: -1})
    with pytest.raises(TypeError, match=name):
        Codec(**{name: "10"})


def test_a_bomb_planted_in_redis_is_a_counted_miss(redis_clean_url: str) -> None:
    cache = stratacache.Cache(redis=redis_clean_url, default_ttl=60)
    try:
        redis.Redis.from_url(redis_clean_url).set(b"sc:\x1fk", bomb([[]] * (1 << 24)))
        tracemalloc.start()
        try:
            assert cache.get("k", "default") == "default"
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak < MEMORY_BOUND
        assert cache._stats().l2.corrupt == 1
    finally:
        cache.close()
