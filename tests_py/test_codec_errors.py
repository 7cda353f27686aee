"""Hostile bytes: every decode failure is a CodecError subclass, never another exception."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stratacache import (
    Codec,
    CodecError,
    CorruptDataError,
    DataTooLargeError,
    TamperedDataError,
    UnknownVersionError,
)

KEY = "app:v1:item:9"
K1 = bytes(range(32))
K2 = bytes(range(7, 39))
SMALL = {"id": 9, "tags": ("a", "b"), "when": None, "price": 9.5}

CODECS = {
    "plain": Codec(compression="lz4", compress_threshold=16),
    "zstd": Codec(compression="zstd", compress_threshold=16),
    "signed": Codec(signing_key=K1, compress_threshold=16),
    "encrypted": Codec(encryption_keys=K1, compress_threshold=16),
    "fields": Codec(encryption_keys=K1, encrypt_fields=["id"], compress_threshold=16),
    "json": Codec(serializer="json", signing_key=K1),
    "pickle": Codec(serializer="pickle", signing_key=K2),
}


@pytest.fixture(params=sorted(CODECS))
def codec(request: pytest.FixtureRequest) -> Codec:
    return CODECS[request.param]


def sample(codec: Codec) -> bytes:
    value = {"id": 9, "name": "x" * 40} if codec.serializer == "json" else SMALL
    return codec.encode(KEY, value)


def test_flipping_any_byte_fails_cleanly_or_decodes(codec: Codec) -> None:
    data = sample(codec)
    authenticated = any(f"protection='{p}'" in repr(codec) for p in ("signed", "encrypted"))
    for i in range(len(data)):
        for mask in (0x01, 0x80, 0xFF):
            bad = bytearray(data)
            bad[i] ^= mask
            try:
                codec.decode(KEY, bytes(bad))
            except CodecError:
                continue
            # Unauthenticated bytes may still decode (a flipped bit in a number), but a
            # signed or encrypted envelope never accepts a change.
            assert not authenticated, (i, mask)


def test_every_truncation_fails_cleanly(codec: Codec) -> None:
    data = sample(codec)
    for n in range(len(data)):
        with pytest.raises(CodecError):
            codec.decode(KEY, data[:n])


def test_protected_envelopes_refuse_any_change_of_metadata() -> None:
    codec = CODECS["signed"]
    data = bytearray(codec.encode_entry(KEY, 1, ttl_ms=1000))
    data[21] ^= 1  # ttl_ms
    with pytest.raises(TamperedDataError):
        codec.decode(KEY, bytes(data))


def test_zip_bomb_is_refused_before_inflating() -> None:
    big = Codec(compression="zstd", max_value_bytes=64 << 20)
    bomb = big.encode(KEY, bytes(32 << 20))
    assert len(bomb) < 8192
    small = Codec(max_value_bytes=1 << 20)
    with pytest.raises(DataTooLargeError):
        small.decode(KEY, bomb)


def test_encoding_above_the_limit_is_refused() -> None:
    with pytest.raises(DataTooLargeError):
        Codec(max_value_bytes=1000).encode(KEY, b"x" * 2000)


def test_unknown_version_has_its_own_error() -> None:
    data = bytearray(Codec().encode(KEY, 1))
    data[2] = 2
    with pytest.raises(UnknownVersionError, match="version 2"):
        Codec().decode(KEY, bytes(data))
    assert issubclass(UnknownVersionError, CodecError)
    with pytest.raises(UnknownVersionError):
        Codec().decode(KEY, b"SC\x09")


def test_bad_magic_is_corrupt() -> None:
    with pytest.raises(CorruptDataError):
        Codec().decode(KEY, b"XX\x01" + bytes(40))


@pytest.mark.parametrize("serializer", ["msgpack", "json"])
def test_a_tag_name_that_is_not_utf8_is_corrupt(serializer: str) -> None:
    # Unsigned envelopes: anyone who can write Redis can put any bytes in a tag name.
    codec = Codec(serializer=serializer)
    data = codec.encode_entry(KEY, {"id": 1}, ttl_ms=1000, tags={"caf\u00e9": 3})
    assert data.count("caf\u00e9".encode()) == 1
    forged = data.replace("caf\u00e9".encode(), b"caf\xff\xfe")
    with pytest.raises(CorruptDataError):
        codec.decode_entry(KEY, forged)


@pytest.mark.parametrize(
    "payload",
    [
        b"\xc1",  # never-used type byte
        b"\x92\x01",  # array of 2 with 1 item
        b"\x01\x02",  # trailing bytes
        b"\xa2\xff\xfe",  # invalid UTF-8
        b"\x81\x91\x01\x02",  # list as a map key
        b"\xd4\x02\x01",  # tuple extension whose body is not an array
        b"\xd5\x07\x00\x01",  # date of the wrong size
        b"\xd6\x07\x07\xe8\x0d\x01",  # month 13
        b"\xc7\x00\x03",  # set extension without body
        b"\xd4\x0c\x00",  # sealed field outside a dict
        b"\xd4\x63\x00",  # unknown extension code 99
        b"\x91" * 200 + b"\x01",  # nested deeper than max_depth
        b"\xc7\x01\x02\x91" * 70 + b"\x90",  # tuples nested deeper than max_depth
    ],
)
def test_malformed_msgpack_payloads_are_corrupt(payload: bytes) -> None:
    data = Codec(compression=None).encode(KEY, None)
    envelope = data[:8] + len(payload).to_bytes(4, "little") + data[12:37] + payload
    with pytest.raises(CorruptDataError):
        Codec().decode(KEY, envelope)


@pytest.mark.parametrize(
    "payload",
    [
        b"\xdd\xff\xff\xff\xff",  # array declaring 4 billion items
        b"\xdf\xff\xff\xff\xff\x01",  # map declaring 4 billion pairs
    ],
)
def test_declared_lengths_past_max_items_are_too_large(payload: bytes) -> None:
    data = Codec(compression=None).encode(KEY, None)
    envelope = data[:8] + len(payload).to_bytes(4, "little") + data[12:37] + payload
    with pytest.raises(DataTooLargeError, match="max_items"):
        Codec().decode(KEY, envelope)


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=200))
def test_random_bytes_only_raise_codec_errors(data: bytes) -> None:
    for codec in CODECS.values():
        with contextlib.suppress(CodecError):
            codec.decode(KEY, data)


@settings(max_examples=300, deadline=None)
@given(payload=st.binary(max_size=120))
def test_random_msgpack_payloads_only_raise_codec_errors(payload: bytes) -> None:
    # A valid envelope around random payload bytes reaches the msgpack decoder itself.
    data = Codec(compression=None).encode(KEY, None)
    envelope = data[:8] + len(payload).to_bytes(4, "little") + data[12:37] + payload
    with contextlib.suppress(CodecError):
        Codec().decode(KEY, envelope)


def test_decode_arguments_are_checked() -> None:
    codec = Codec()
    with pytest.raises(TypeError, match="data must be bytes"):
        codec.decode(KEY, "text")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="key must be str"):
        codec.decode(b"k", b"")  # type: ignore[arg-type]
    data = codec.encode(KEY, [1])
    assert codec.decode(KEY, bytearray(data)) == [1]
    assert codec.decode(KEY, memoryview(data)) == [1]  # type: ignore[arg-type]
