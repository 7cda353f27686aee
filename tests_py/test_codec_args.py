"""Argument validation of Codec(...) and its methods: each error names the argument."""

from __future__ import annotations

from typing import Any

import pytest

from stratacache import Codec, ConfigError
from stratacache.codec import SecretKey, key_from_hkdf, key_from_passphrase

KEY = "k"
K = bytes(32)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"serializer": "yaml"}, ConfigError, "serializer"),
        ({"compression": "gzip"}, ConfigError, "compression"),
        ({"compress_threshold": -1}, ConfigError, "compress_threshold"),
        ({"compress_threshold": 1.5}, TypeError, "compress_threshold"),
        ({"compress_threshold": True}, TypeError, "compress_threshold"),
        ({"compression": "zstd", "compression_level": 0}, ConfigError, "compression_level"),
        ({"compression": "zstd", "compression_level": 23}, ConfigError, "compression_level"),
        ({"compression": "zstd", "compression_level": "3"}, TypeError, "compression_level"),
        ({"compression": "lz4", "compression_level": 3}, ConfigError, "compression_level"),
        ({"max_value_bytes": 0}, ConfigError, "max_value_bytes"),
        ({"max_value_bytes": 1 << 32}, ConfigError, "max_value_bytes"),
        ({"max_depth": 0}, ConfigError, "max_depth"),
        ({"max_depth": 1025}, ConfigError, "max_depth"),
        ({"release_gil_above": -1}, ConfigError, "release_gil_above"),
        ({"encryption_keys": b"short"}, ConfigError, "encryption_keys"),
        ({"encryption_keys": "a passphrase"}, TypeError, "encryption_keys"),
        ({"encryption_keys": []}, ConfigError, "encryption_keys"),
        ({"encryption_keys": [K, K]}, ConfigError, "encryption_keys"),
        ({"encryption_keys": {70000: K}}, ConfigError, "encryption_keys"),
        ({"encryption_keys": {"1": K}}, TypeError, "encryption_keys"),
        ({"encryption_keys": 5}, TypeError, "encryption_keys"),
        ({"signing_key": [b"x" * 31]}, ConfigError, "signing_key"),
        ({"signing_key": [object()]}, TypeError, "signing_key"),
        ({"serializer": "pickle"}, ConfigError, "signing_key or encryption_keys"),
        ({"encrypt_fields": ["a"]}, ConfigError, "encrypt_fields needs encryption_keys"),
    ],
)
def test_constructor_arguments_are_checked(
    kwargs: dict[str, Any], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        Codec(**kwargs)


def test_extreme_but_valid_arguments_work() -> None:
    codec = Codec(
        compression="zstd",
        compression_level=22,
        compress_threshold=0,
        max_value_bytes=(1 << 32) - 1,
        max_depth=1024,
        release_gil_above=0,
    )
    assert codec.decode(KEY, codec.encode(KEY, [1])) == [1]
    assert Codec(compression="none").decode(KEY, codec.encode(KEY, "x")) == "x"
    assert (
        Codec(encryption_keys=bytearray(K)).decode(
            KEY, Codec(encryption_keys={SecretKey(K).fingerprint: K}).encode(KEY, 1)
        )
        == 1
    )


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"ttl_ms": -1}, ValueError, "ttl_ms"),
        ({"ttl_ms": 1 << 64}, ValueError, "ttl_ms"),
        ({"ttl_ms": 1.5}, TypeError, "ttl_ms"),
        ({"compute_us": -1}, ValueError, "compute_us"),
        ({"compute_us": None}, TypeError, "compute_us"),
        ({"created_at_ms": 1 << 63}, ValueError, "created_at_ms"),
        ({"created_at_ms": "now"}, TypeError, "created_at_ms"),
        ({"tags": ["a"]}, TypeError, "tags"),
        ({"tags": {1: 2}}, TypeError, "tags"),
        ({"tags": {"a": "1"}}, TypeError, "tags"),
        ({"tags": {"a": -1}}, ValueError, "tags"),
        ({"tags": {"a": 1 << 64}}, ValueError, "tags"),
        ({"tags": {"x" * 256: 1}}, ValueError, "tags"),
        ({"tags": {str(i): i for i in range(65)}}, ValueError, "tags"),
    ],
)
def test_encode_entry_arguments_are_checked(
    kwargs: dict[str, Any], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        Codec().encode_entry(KEY, 1, **kwargs)


@pytest.mark.parametrize("serializer", ["msgpack", "json"])
def test_keys_must_be_str(serializer: str) -> None:
    codec = Codec(serializer=serializer)  # type: ignore[arg-type]
    for method in (codec.encode, codec.encode_entry):
        with pytest.raises(TypeError, match="key must be"):
            method(b"bytes key", 1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="key must be"):
        codec.decode_entry(1, b"")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="data must be bytes"):
        codec.decode_entry(KEY, None)  # type: ignore[arg-type]


def test_key_helpers_check_their_arguments() -> None:
    with pytest.raises(ConfigError, match="salt"):
        key_from_passphrase("pass", b"short")
    with pytest.raises(ConfigError, match="iterations"):
        key_from_passphrase("pass", b"saltsalt", iterations=10)
    with pytest.raises(TypeError, match="salt"):
        key_from_passphrase("pass", "saltsalt")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="passphrase"):
        key_from_passphrase(1, b"saltsalt")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="ikm"):
        key_from_hkdf(b"", b"", b"")
    with pytest.raises(TypeError, match="info"):
        key_from_hkdf(b"k" * 32, b"", "info")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="32 bytes"):
        SecretKey(b"x")
    with pytest.raises(TypeError, match="raw"):
        SecretKey("x" * 32)  # type: ignore[arg-type]
