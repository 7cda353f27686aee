"""Codec.try_decode_entry: bad bytes are a reason, never an exception; real bugs still raise."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import pytest

from stratacache import Codec, CorruptDataError
from stratacache.codec import CodecEntry

KEY = "app:v1:item:9"
K1 = bytes(range(32))
K2 = bytes(range(7, 39))
VALUE = {"id": 9, "name": "x" * 40, "when": None}


@dataclass(frozen=True)
class Point:
    x: int
    y: int


def _signed(data: bytes) -> bytes:
    flipped = bytearray(data)
    flipped[-1] ^= 0x01  # the last byte of the MAC
    return bytes(flipped)


def _magic(data: bytes) -> bytes:
    return b"XX" + data[2:]


def _version(data: bytes) -> bytes:
    return data[:2] + b"\x09" + data[3:]


PLAIN = Codec()
SIGNED = Codec(signing_key=K1)
ENCRYPTED = Codec(encryption_keys=K1)
SMALL = Codec(max_value_bytes=100)

# (name, writer, reader, key the reader uses, change to the bytes, the reason expected)
CASES = [
    ("empty", PLAIN, PLAIN, KEY, lambda d: b"", "corrupt"),
    ("truncated", PLAIN, PLAIN, KEY, lambda d: d[:-3], "corrupt"),
    ("bad magic", PLAIN, PLAIN, KEY, _magic, "corrupt"),
    ("bad version", PLAIN, PLAIN, KEY, _version, "unknown_version"),
    ("bad MAC", SIGNED, SIGNED, KEY, _signed, "tampered"),
    ("bad GCM tag", ENCRYPTED, ENCRYPTED, KEY, _signed, "tampered"),
    ("wrong key binding", SIGNED, SIGNED, "app:v1:item:10", lambda d: d, "tampered"),
    ("wrong secret", SIGNED, Codec(signing_key=K2), KEY, lambda d: d, "tampered"),
    ("unsigned under a signer", PLAIN, SIGNED, KEY, lambda d: d, "tampered"),
    ("oversize", Codec(), SMALL, KEY, lambda d: d, "too_large"),
]


@pytest.mark.parametrize(
    ("writer", "reader", "key", "change", "reason"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_every_bad_input_class_is_none_and_its_reason(
    writer: Codec, reader: Codec, key: str, change: object, reason: str
) -> None:
    data = writer.encode_entry(KEY, {"blob": "y" * 500} if reader is SMALL else VALUE)
    assert callable(change)
    assert reader.try_decode_entry(key, change(data)) == (None, reason)


@pytest.mark.parametrize("codec", [PLAIN, SIGNED, ENCRYPTED, Codec(serializer="json")])
def test_every_truncation_and_bit_flip_is_a_reason(codec: Codec) -> None:
    data = codec.encode_entry(KEY, VALUE, ttl_ms=5000, tags={"t": 3})
    reasons = set()
    for n in range(len(data)):
        entry, reason = codec.try_decode_entry(KEY, data[:n])
        assert entry is None
        reasons.add(reason)
    for i in range(len(data)):
        bad = bytearray(data)
        bad[i] ^= 0x80
        entry, reason = codec.try_decode_entry(KEY, bytes(bad))
        assert (entry is None) == (reason is not None)
        reasons.add(reason)
    assert reasons <= {None, "corrupt", "unknown_version", "tampered", "too_large"}
    assert "corrupt" in reasons


def test_a_good_envelope_is_the_entry_decode_entry_gives() -> None:
    for codec in (PLAIN, SIGNED, ENCRYPTED, Codec(serializer="pickle", signing_key=K1)):
        data = codec.encode_entry(KEY, VALUE, ttl_ms=7, compute_us=3, tags={"a": 1})
        entry, reason = codec.try_decode_entry(KEY, data)
        assert reason is None
        assert isinstance(entry, CodecEntry)
        assert entry == codec.decode_entry(KEY, data)


def test_a_value_python_refuses_to_build_is_corrupt() -> None:
    # A date whose month byte says 13: well-formed msgpack, impossible value.
    data = bytearray(PLAIN.encode_entry(KEY, datetime.date(2024, 12, 31)))
    at = data.rindex(bytes([12, 31]))
    data[at] = 13
    assert PLAIN.try_decode_entry(KEY, bytes(data)) == (None, "corrupt")
    with pytest.raises(CorruptDataError):
        PLAIN.decode_entry(KEY, bytes(data))


def test_a_registered_decoder_that_fails_is_a_bug_and_raises() -> None:
    codec = Codec(signing_key=K1)

    def broken(fields: list[int]) -> Point:
        return Point(*fields, 0)  # type: ignore[call-arg]  # the bug: one argument too many

    codec.register_type(Point, 40, lambda p: [p.x, p.y], broken)
    data = codec.encode_entry(KEY, {"p": Point(1, 2)})
    with pytest.raises(TypeError):
        codec.try_decode_entry(KEY, data)
    # decode_entry keeps its contract: every decode failure is a CodecError.
    with pytest.raises(CorruptDataError):
        codec.decode_entry(KEY, data)


def test_a_registered_decoder_may_call_the_bytes_bad() -> None:
    codec = Codec()

    def strict(fields: list[int]) -> Point:
        if len(fields) != 2:
            msg = "a Point has two fields"
            raise CorruptDataError(msg)
        return Point(*fields)

    codec.register_type(Point, 40, lambda p: [p.x, p.y, p.x], strict)
    assert codec.try_decode_entry(KEY, codec.encode_entry(KEY, Point(1, 2))) == (None, "corrupt")


def test_arguments_of_the_wrong_type_raise() -> None:
    data = PLAIN.encode_entry(KEY, 1)
    with pytest.raises(TypeError):
        PLAIN.try_decode_entry(b"key", data)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        PLAIN.try_decode_entry(KEY, "text")  # type: ignore[arg-type]
