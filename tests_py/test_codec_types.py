"""Registered types and enums, the JSON subset, and what the msgpack walk refuses."""

from __future__ import annotations

import collections
import dataclasses
import enum
import math
from typing import Any

import pytest

from stratacache import Codec, ConfigError, CorruptDataError, SerializationError

KEY = "k"


@dataclasses.dataclass(frozen=True)
class Point:
    x: int
    y: int


class Color(enum.Enum):
    RED = "r"
    GREEN = "g"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


def point_codec() -> Codec:
    codec = Codec()
    codec.register_type(Point, 40, lambda p: (p.x, p.y), lambda t: Point(*t))
    return codec


def test_registered_type_round_trips_nested() -> None:
    codec = point_codec()
    value = {"p": Point(1, 2), "ps": [Point(3, 4), (Point(5, 6),)], Point(0, 0): "as key"}
    assert codec.decode(KEY, codec.encode(KEY, value)) == value


def test_a_registered_encoder_may_return_registered_types() -> None:
    @dataclasses.dataclass
    class Segment:
        a: Point
        b: Point

    codec = point_codec()
    codec.register_type(Segment, 41, lambda s: [s.a, s.b], lambda v: Segment(*v))
    assert codec.decode(KEY, codec.encode(KEY, Segment(Point(1, 2), Point(3, 4)))) == Segment(
        Point(1, 2), Point(3, 4)
    )


def test_an_unknown_code_on_read_is_corrupt() -> None:
    data = point_codec().encode(KEY, Point(1, 2))
    with pytest.raises(CorruptDataError, match="extension type 40"):
        Codec().decode(KEY, data)


def test_a_failing_decoder_is_corrupt_data_with_the_cause() -> None:
    codec = Codec()
    codec.register_type(Point, 40, lambda p: p.x, lambda v: Point(*v))
    data = codec.encode(KEY, Point(1, 2))
    with pytest.raises(CorruptDataError) as info:
        codec.decode(KEY, data)
    assert isinstance(info.value.__cause__, TypeError)


def test_an_encoder_exception_propagates_unchanged() -> None:
    class Boom(Exception):
        pass

    def explode(_: Point) -> object:
        raise Boom

    codec = Codec()
    codec.register_type(Point, 40, explode, Point)
    with pytest.raises(Boom):
        codec.encode(KEY, [Point(1, 2)])


@pytest.mark.parametrize("by", ["name", "value"])
def test_enums_decode_to_the_same_member(by: str) -> None:
    codec = Codec()
    codec.register_enum(Color, 50, by=by)  # type: ignore[arg-type]
    codec.register_enum(Level, 51, by=by)  # type: ignore[arg-type]
    value = {"c": Color.GREEN, "levels": [Level.HIGH, Level.LOW], Color.RED: 1}
    back = codec.decode(KEY, codec.encode(KEY, value))
    assert back == value
    assert back["c"] is Color.GREEN
    assert back["levels"][0] is Level.HIGH


def test_registration_is_validated() -> None:
    codec = point_codec()
    with pytest.raises(ConfigError, match="already registered"):
        codec.register_type(Point, 41, repr, repr)
    with pytest.raises(ConfigError, match="taken"):
        codec.register_type(Color, 40, repr, repr)
    for code in (0, 12, 31, 128, -1):
        with pytest.raises(ConfigError, match=r"\[32, 127\]"):
            codec.register_type(Level, code, repr, repr)
    with pytest.raises(ConfigError, match="handled by the codec"):
        codec.register_type(tuple, 60, repr, repr)
    with pytest.raises(TypeError, match="cls must be a class"):
        codec.register_type(Point(1, 2), 60, repr, repr)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="encode must be a callable"):
        codec.register_type(Level, 60, None, repr)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="code must be an int"):
        codec.register_type(Level, "60", repr, repr)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Enum subclass"):
        codec.register_enum(Point, 60)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="by must be"):
        codec.register_enum(Level, 60, by="id")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "type_name", "path"),
    [
        (object(), "object", "value"),
        ({"a": [1, {"b": object()}]}, "object", "value['a'][1]['b']"),
        ((1, {2: {3, frozenset({object()})}}), "object", "value[1][2]<set item><set item>"),
        ([collections.OrderedDict()], "OrderedDict", "value[0]"),
        ({"d": collections.defaultdict(int)}, "defaultdict", "value['d']"),
        ([Level.LOW], "Level", "value[0]"),
        ({"f": math.sqrt}, "builtin_function_or_method", "value['f']"),
        ({object(): 1}, "object", "value<key [<object object"),
    ],
)
def test_unsupported_objects_name_type_and_path(value: Any, type_name: str, path: str) -> None:
    with pytest.raises(SerializationError) as info:
        Codec().encode(KEY, value)
    message = str(info.value)
    assert f"cannot serialize {type_name} at {path}" in message
    assert isinstance(info.value, TypeError)


def test_enum_members_get_a_hint() -> None:
    with pytest.raises(SerializationError, match="register_enum"):
        Codec().encode(KEY, Color.RED)


def test_lone_surrogates_are_refused_clearly() -> None:
    with pytest.raises(SerializationError, match="lone surrogate"):
        Codec().encode(KEY, {"s": "a\ud800b"})
    with pytest.raises(SerializationError, match="lone surrogate"):
        Codec(serializer="json").encode(KEY, ["\udfff"])


def test_depth_limit_and_self_reference() -> None:
    codec = Codec(max_depth=8)
    ok: Any = 1
    for _ in range(8):
        ok = [ok]
    assert codec.decode(KEY, codec.encode(KEY, ok)) == ok
    with pytest.raises(SerializationError, match="max_depth=8"):
        codec.encode(KEY, [ok])
    with pytest.raises(CorruptDataError, match="max_depth"):
        codec.decode(KEY, Codec(max_depth=9).encode(KEY, [ok]))
    loop: list[Any] = [1]
    loop.append({"back": loop})
    with pytest.raises(SerializationError, match=r"value contains itself at value\[1\]\['back'\]"):
        Codec().encode(KEY, {"x": 1} and loop)


def test_tuples_and_registered_types_count_towards_depth() -> None:
    codec = point_codec()
    nested: Any = Point(1, 2)
    for _ in range(63):
        nested = (nested,)
    with pytest.raises(SerializationError, match="max_depth=64"):
        codec.encode(KEY, nested)


JSON_OK: list[Any] = [
    None,
    True,
    0,
    -(2**63),
    2**64 - 1,
    1.5,
    -0.0,
    "é✓",
    [],
    {"a": [1, {"b": None}]},
]


@pytest.mark.parametrize("value", JSON_OK)
def test_json_round_trips_its_subset(value: Any) -> None:
    codec = Codec(serializer="json")
    back = codec.decode(KEY, codec.encode(KEY, value))
    assert back == value
    assert type(back) is type(value)


def test_json_payload_is_plain_json() -> None:
    data = Codec(serializer="json", compression=None).encode(KEY, {"a": [1, "x"]})
    assert data.endswith(b'{"a":[1,"x"]}')


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ((1, 2), "json"),
        ({1: "a"}, "keys must be str"),
        ({"a": {1, 2}}, "json"),
        (math.nan, "NaN"),
        ([math.inf], "NaN and infinities"),
        (2**64, "2\\*\\*64"),
        (-(2**63) - 1, "-2\\*\\*63"),
        (b"bytes", "json"),
        (collections.OrderedDict(a=1), "json"),
    ],
)
def test_json_refuses_what_it_cannot_carry(value: Any, reason: str) -> None:
    with pytest.raises(SerializationError, match=reason):
        Codec(serializer="json").encode(KEY, value)


def test_json_reads_big_integers_other_writers_produce() -> None:
    codec = Codec(serializer="json", compression=None)
    data = codec.encode(KEY, [1])
    forged = data[:-3] + b"[123456789012345678901234567890]"
    forged = (
        forged[:8] + (len(b"[123456789012345678901234567890]")).to_bytes(4, "little") + forged[12:]
    )
    assert codec.decode(KEY, forged) == [123456789012345678901234567890]
