"""Per-field encryption: sealed fields need the key, the rest of the value does not."""

from __future__ import annotations

import pytest

from stratacache import Codec, ConfigError, TamperedDataError
from stratacache.codec import EncryptedField, SecretKey

KEY = "app:v1:account:3"
K1 = bytes(range(32))
K2 = bytes(range(100, 132))
FIELDS = ("password", "api_key", "token")
VALUE = {
    "user": "ada",
    "password": "s3cret-pass",
    "profile": {"api_key": ["k", 1, (2, 3)], "plan": "pro"},
    "sessions": [{"token": "tok-1", "ip": "10.0.0.1"}, {"token": None}],
}


def test_fields_round_trip_with_the_key() -> None:
    codec = Codec(encryption_keys=K1, encrypt_fields=FIELDS)
    assert codec.decode(KEY, codec.encode(KEY, VALUE)) == VALUE


def test_sealed_fields_are_unreadable_and_the_rest_readable_without_keys() -> None:
    data = Codec(encryption_keys=K1, encrypt_fields=FIELDS, compression=None).encode(KEY, VALUE)
    for secret in (b"s3cret-pass", b"tok-1"):
        assert secret not in data
    assert b"10.0.0.1" in data
    keyless = Codec().decode(KEY, data)
    assert keyless["user"] == "ada"
    assert keyless["profile"]["plan"] == "pro"
    assert keyless["sessions"][0]["ip"] == "10.0.0.1"
    for placeholder, field in (
        (keyless["password"], "password"),
        (keyless["profile"]["api_key"], "api_key"),
        (keyless["sessions"][1]["token"], "token"),
    ):
        assert isinstance(placeholder, EncryptedField)
        assert placeholder.field == field
        assert placeholder.key_id == SecretKey(K1).fingerprint
        assert "s3cret" not in repr(placeholder)


def test_fields_bind_the_cache_key_and_the_field_name() -> None:
    codec = Codec(encryption_keys=K1, encrypt_fields=FIELDS, compression=None)
    data = codec.encode(KEY, {"password": "p"})
    with pytest.raises(TamperedDataError):
        codec.decode("app:v1:account:4", data)
    # Same length field name: the sealed bytes stay in place, only the name changes.
    renamed = data.replace(b"password", b"passw0rd")
    with pytest.raises(TamperedDataError):
        Codec(encryption_keys=K1, encrypt_fields=("passw0rd",)).decode(KEY, renamed)


def test_wrong_key_and_rotation() -> None:
    old = Codec(encryption_keys=K1, encrypt_fields=FIELDS).encode(KEY, VALUE)
    with pytest.raises(TamperedDataError):
        Codec(encryption_keys=K2, encrypt_fields=FIELDS).decode(KEY, old)
    rotated = Codec(encryption_keys=[K1, K2], encrypt_fields=FIELDS)
    assert rotated.decode(KEY, old) == VALUE
    new = rotated.encode(KEY, VALUE)
    assert Codec().decode(KEY, new)["password"].key_id == SecretKey(K2).fingerprint


def test_fields_combine_with_signing() -> None:
    codec = Codec(encryption_keys=K1, signing_key=K2, encrypt_fields=FIELDS)
    data = codec.encode(KEY, VALUE)
    assert codec.decode(KEY, data) == VALUE
    assert Codec(signing_key=K2).decode(KEY, data)["user"] == "ada"
    with pytest.raises(TamperedDataError):
        Codec().decode(KEY, data)


def test_non_str_keys_and_non_dict_values_are_left_alone() -> None:
    codec = Codec(encryption_keys=K1, encrypt_fields=FIELDS, compression=None)
    value = {1: "password", ("password",): 2, "list": ["password"]}
    data = codec.encode(KEY, value)
    assert Codec().decode(KEY, data) == value


def test_encrypt_fields_configuration_is_checked() -> None:
    with pytest.raises(ConfigError, match="encryption_keys"):
        Codec(encrypt_fields=FIELDS)
    with pytest.raises(ConfigError, match="msgpack"):
        Codec(serializer="json", encryption_keys=K1, encrypt_fields=FIELDS)
    with pytest.raises(TypeError, match="encrypt_fields"):
        Codec(encryption_keys=K1, encrypt_fields="password")
    with pytest.raises(TypeError, match="encrypt_fields"):
        Codec(encryption_keys=K1, encrypt_fields=[1])  # type: ignore[list-item]


def test_a_placeholder_is_not_serializable() -> None:
    placeholder = Codec().decode(
        KEY, Codec(encryption_keys=K1, encrypt_fields=FIELDS).encode(KEY, {"token": 1})
    )["token"]
    with pytest.raises(TypeError, match="EncryptedField"):
        Codec().encode(KEY, {"token": placeholder})


# Without tags, an envelope is a 37-byte prefix, the payload, then (signed or fields mode) a
# 32-byte MAC; the tampering tests below splice payloads by hand.
PREFIX = 37
MAC = 32


def _sealed(payload: bytes, name: bytes) -> bytes:
    """The sealed-field extension (ext8, code 12) that follows the str `name` in `payload`."""
    start = payload.index(bytes([0xA0 | len(name)]) + name) + 1 + len(name)
    assert payload[start] == 0xC7
    assert payload[start + 2] == 12
    return payload[start : start + 3 + payload[start + 1]]


def _fields() -> Codec:
    return Codec(encryption_keys=K1, encrypt_fields=FIELDS, compression=None)


def test_changing_a_plaintext_field_is_detected() -> None:
    data = _fields().encode(KEY, VALUE)
    with pytest.raises(TamperedDataError):
        _fields().decode(KEY, data.replace(b"10.0.0.1", b"10.6.6.6"))
    ttl = _fields().encode_entry(KEY, {"plan": "pro"}, ttl_ms=1000)
    with pytest.raises(TamperedDataError):
        _fields().decode(KEY, ttl[:20] + b"\xff" + ttl[21:])


def test_a_plaintext_envelope_is_refused_by_a_codec_holding_the_keys() -> None:
    # An attacker adds a record (copying a sealed token) and writes the result without any
    # whole-envelope protection, as envelopes in this mode used to be written.
    data = _fields().encode(KEY, {"sessions": [{"token": "tok-1", "ip": "10.0.0.1"}]})
    token = _sealed(data, b"token")
    record = b"\x82\xa5token" + token + b"\xa2ip\xa88.8.8.8."
    forged = b"\x81\xa8sessions\x92" + record + record
    plain = Codec()._core.seal(KEY, 1, forged, None, 0, 0, None)
    assert Codec().decode(KEY, plain)["sessions"][1]["ip"] == "8.8.8.8."
    with pytest.raises(TamperedDataError, match="authenticated"):
        _fields().decode(KEY, plain)
    # The same forgery behind the MAC of a genuine envelope.
    with pytest.raises(TamperedDataError):
        _fields().decode(KEY, data[:PREFIX] + forged + data[-MAC:])


def test_sealed_fields_are_bound_to_their_path() -> None:
    # A writer holding the signing key but not the field key swaps two users' sealed tokens
    # and signs the result: the signature holds, the paths do not.
    writer = Codec(encryption_keys=K1, signing_key=K2, encrypt_fields=FIELDS, compression=None)
    value = {"ada": {"token": "tok-ada"}, "bob": {"token": "tok-bob"}}
    payload = writer.encode(KEY, value)[PREFIX:-MAC]
    ada = _sealed(payload[payload.index(b"\xa3ada") :], b"token")
    bob = _sealed(payload[payload.index(b"\xa3bob") :], b"token")
    swapped = (
        payload.replace(ada, b"\x00" * len(ada)).replace(bob, ada).replace(b"\x00" * len(ada), bob)
    )
    assert swapped != payload
    resigned = Codec(signing_key=K2, compression=None)._core.seal(KEY, 1, swapped, None, 0, 0, None)
    assert Codec(signing_key=K2).decode(KEY, resigned)["ada"]["token"].field == "token"
    with pytest.raises(TamperedDataError):
        writer.decode(KEY, resigned)
    # Within a list the index is part of the path too.
    rows = writer.encode(KEY, [{"token": "t0"}, {"token": "t1"}])[PREFIX:-MAC]
    first = _sealed(rows, b"token")
    second = _sealed(rows[rows.index(first) + len(first) :], b"token")
    moved = rows.replace(first, b"\x00" * len(first)).replace(second, first)
    moved = moved.replace(b"\x00" * len(first), second)
    resigned = Codec(signing_key=K2, compression=None)._core.seal(KEY, 1, moved, None, 0, 0, None)
    with pytest.raises(TamperedDataError):
        writer.decode(KEY, resigned)


class Box:
    """A registered type whose encoded form is a dict holding a sealed field."""

    def __init__(self, inner: dict[str, object]) -> None:
        self.inner = inner

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Box) and self.inner == other.inner

    def __hash__(self) -> int:
        return hash(repr(self.inner))


def test_paths_agree_through_every_container() -> None:
    codec = Codec(encryption_keys=K1, encrypt_fields=FIELDS)
    codec.register_type(Box, 40, lambda b: b.inner, Box)
    value = {
        "tuple": ({"token": "a"}, [{"token": "b"}]),
        "registered": Box({"token": "c"}),
        "set": frozenset({Box({"token": "d"}), Box({"token": "e"})}),
        "nested": {"token": {"password": "x", "rows": [{"token": 1}]}},
        1: {"token": 2},
        -7: [{"token": 3}],
        2**70: {"token": 4},
        1.5: {"token": 5},
        (1, 2): {"token": 6},
    }
    assert codec.decode(KEY, codec.encode(KEY, value)) == value
