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
