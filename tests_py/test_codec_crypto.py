"""Codec encryption, signing, key rotation, key helpers and pickle's authentication rule."""

from __future__ import annotations

import pickle

import pytest

from stratacache import Codec, ConfigError, SerializationError, TamperedDataError
from stratacache.codec import SecretKey, key_from_hkdf, key_from_passphrase

KEY = "app:v1:user:7"
K1 = bytes(range(32))
K2 = bytes(range(1, 33))
VALUE = {"name": "Ada", "roles": ("admin",), "blob": b"\x00" * 3000}


@pytest.fixture(params=["encrypted", "signed"])
def protected(request: pytest.FixtureRequest) -> tuple[Codec, str]:
    if request.param == "encrypted":
        return Codec(encryption_keys=K1), request.param
    return Codec(signing_key=K1), request.param


def test_protected_values_round_trip(protected: tuple[Codec, str]) -> None:
    codec, _ = protected
    assert codec.decode(KEY, codec.encode(KEY, VALUE)) == VALUE


def test_encrypted_bytes_hide_the_value_and_signed_bytes_do_not() -> None:
    secret = "correct horse battery staple"
    assert secret.encode() not in Codec(encryption_keys=K1, compression=None).encode(KEY, secret)
    assert secret.encode() in Codec(signing_key=K1, compression=None).encode(KEY, secret)


def test_a_value_moved_to_another_key_fails(protected: tuple[Codec, str]) -> None:
    codec, _ = protected
    data = codec.encode(KEY, VALUE)
    with pytest.raises(TamperedDataError):
        codec.decode("app:v1:user:8", data)


@pytest.mark.parametrize("kind", ["encryption_keys", "signing_key"])
def test_a_wrong_key_fails(kind: str) -> None:
    data = Codec(**{kind: K1}).encode(KEY, VALUE)  # type: ignore[arg-type]
    wrong = Codec(**{kind: {0x1234: K2}})  # type: ignore[arg-type]
    with pytest.raises(TamperedDataError):
        wrong.decode(KEY, data)
    same_id_other_key = Codec(**{kind: {SecretKey(K1).fingerprint: K2}})  # type: ignore[arg-type]
    with pytest.raises(TamperedDataError):
        same_id_other_key.decode(KEY, data)


def test_protection_is_required_once_configured(protected: tuple[Codec, str]) -> None:
    codec, _ = protected
    with pytest.raises(TamperedDataError):
        codec.decode(KEY, Codec().encode(KEY, VALUE))
    with pytest.raises(TamperedDataError):
        Codec().decode(KEY, codec.encode(KEY, VALUE))


def test_encryption_and_signing_are_distinct() -> None:
    with pytest.raises(TamperedDataError):
        Codec(signing_key=K1).decode(KEY, Codec(encryption_keys=K1).encode(KEY, 1))


def key_id(envelope: bytes) -> int:
    return int.from_bytes(envelope[6:8], "little")


def test_rotation_newest_encrypts_and_every_key_decrypts() -> None:
    old = Codec(encryption_keys=[K1])
    old_bytes = old.encode(KEY, "old")
    rotated = Codec(encryption_keys=[K1, K2])
    assert rotated.decode(KEY, old_bytes) == "old"
    new_bytes = rotated.encode(KEY, "new")
    assert key_id(new_bytes) == SecretKey(K2).fingerprint
    assert key_id(old_bytes) == SecretKey(K1).fingerprint
    # Dropping the old key keeps the new one's id: values written since still decode.
    only_new = Codec(encryption_keys=[K2])
    assert only_new.decode(KEY, new_bytes) == "new"
    with pytest.raises(TamperedDataError):
        only_new.decode(KEY, old_bytes)


def test_explicit_key_ids_are_written_in_the_header() -> None:
    codec = Codec(signing_key={7: K1, 9: K2})
    data = codec.encode(KEY, 1)
    assert key_id(data) == 9
    assert Codec(signing_key={9: K2}).decode(KEY, data) == 1


def test_keys_can_be_secret_key_objects_and_derived() -> None:
    derived = key_from_passphrase("hunter2 but longer", b"per-deployment-salt", iterations=10_000)
    again = key_from_passphrase(b"hunter2 but longer", b"per-deployment-salt", iterations=10_000)
    assert derived.fingerprint == again.fingerprint
    hkdf = key_from_hkdf(b"m" * 32, b"salt", b"cache-values")
    assert hkdf.fingerprint != key_from_hkdf(b"m" * 32, b"salt", b"other").fingerprint
    data = Codec(encryption_keys=derived).encode(KEY, "v")
    assert Codec(encryption_keys=[hkdf, again]).decode(KEY, data) == "v"


def test_key_material_never_shows() -> None:
    key = SecretKey(K1)
    codec = Codec(encryption_keys=K1, signing_key=K2)
    for text in (repr(key), str(key), repr(codec)):
        assert K1.hex() not in text
        assert repr(K1) not in text
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(key)
    with pytest.raises(ConfigError) as info:
        Codec(encryption_keys=K1[:31])
    assert K1[:31].hex() not in str(info.value)
    assert repr(K1[:31]) not in str(info.value)


def test_pickle_needs_authentication() -> None:
    with pytest.raises(ConfigError, match="signing_key or encryption_keys"):
        Codec(serializer="pickle")
    signed = Codec(serializer="pickle", signing_key=K1)
    value = {"cls": ConfigError, "frozen": frozenset({1}), "range": range(3)}
    assert signed.decode(KEY, signed.encode(KEY, value)) == value
    encrypted = Codec(serializer="pickle", encryption_keys=K1)
    assert encrypted.decode(KEY, encrypted.encode(KEY, value)) == value


def test_unpicklable_values_raise_serialization_error() -> None:
    codec = Codec(serializer="pickle", signing_key=K1)
    with pytest.raises(SerializationError, match="pickle"):
        codec.encode(KEY, {"f": lambda: 1})


def test_an_unsigned_pickle_envelope_is_never_unpickled() -> None:
    # Forge a plain envelope with serializer id 3 (pickle) around a payload that would run code
    # if unpickled: a plain codec must refuse it before looking at the payload.
    plain = Codec(compression=None)
    envelope = bytearray(plain.encode(KEY, b""))
    assert envelope[3] == 1
    payload = pickle.dumps(print)
    header = envelope[:37]
    header[3] = 3
    header[8:12] = len(payload).to_bytes(4, "little")
    forged = bytes(header) + payload
    with pytest.raises(TamperedDataError, match="pickle"):
        plain.decode(KEY, forged)
    with pytest.raises(TamperedDataError):
        Codec(serializer="pickle", signing_key=K1).decode(KEY, forged)
