"""Keys of the codec: the SecretKey type, its derivation helpers, and keyring normalisation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from . import _core
from ._options import require_type
from .errors import ConfigError

_KEY_BYTES = 32
_MAX_KEY_ID = 0xFFFF


class SecretKey:
    """A 256-bit key held in C++ memory (wiped when freed); its repr shows only a fingerprint.

    Args:
        raw: exactly 32 bytes of key material, e.g. ``os.urandom(32)``.

    Raises:
        TypeError: `raw` is not bytes.
        ConfigError: `raw` is not 32 bytes long.
    """

    __slots__ = ("_key",)

    def __init__(self, raw: bytes) -> None:
        require_type(raw, bytes, "raw", "bytes")
        if len(raw) != _KEY_BYTES:
            msg = f"a raw key must be {_KEY_BYTES} bytes, got {len(raw)}"
            raise ConfigError(msg)
        self._key = _core.SecretKey(raw)

    @classmethod
    def _wrap(cls, key: _core.SecretKey) -> SecretKey:
        self = cls.__new__(cls)
        self._key = key
        return self

    @property
    def fingerprint(self) -> int:
        """A 16-bit id derived from the key: its key id unless one is given explicitly."""
        return self._key.fingerprint

    def __repr__(self) -> str:
        return f"SecretKey(fingerprint={self.fingerprint:#06x})"

    def __reduce__(self) -> Any:
        msg = "SecretKey cannot be pickled: key material stays in memory"
        raise TypeError(msg)


def key_from_passphrase(
    passphrase: str | bytes, salt: bytes, iterations: int = 200_000
) -> SecretKey:
    """A key derived from a passphrase with PBKDF2-HMAC-SHA256.

    Args:
        passphrase: the passphrase.
        salt: at least 8 bytes, fixed per deployment (every process must derive the same key).
        iterations: PBKDF2 rounds (at least 10,000; the default takes ~0.1 s).

    Raises:
        TypeError: an argument of the wrong type.
        ConfigError: salt shorter than 8 bytes or too few iterations.
    """
    require_type(passphrase, (str, bytes), "passphrase", "a str or bytes")
    require_type(salt, bytes, "salt", "bytes")
    require_type(iterations, int, "iterations", "an int")
    if len(salt) < 8:
        msg = f"salt must be at least 8 bytes, got {len(salt)}"
        raise ConfigError(msg)
    if not 10_000 <= iterations < 1 << 32:
        msg = f"iterations must be in [10000, 2**32), got {iterations}"
        raise ConfigError(msg)
    if isinstance(passphrase, bytes):
        passphrase = passphrase.decode("utf-8", "surrogateescape")
    return SecretKey._wrap(_core.SecretKey.from_passphrase(passphrase, salt, iterations))


def key_from_hkdf(ikm: bytes, salt: bytes, info: bytes) -> SecretKey:
    """A key derived with HKDF-SHA256 from high-entropy input key material.

    Args:
        ikm: input key material (e.g. a master secret of at least 32 random bytes).
        salt: optional-strength salt (may be empty).
        info: context, so one master secret yields independent keys (b"cache-values").

    Raises:
        TypeError: an argument is not bytes.
        ConfigError: `ikm` is empty.
    """
    require_type(ikm, bytes, "ikm", "bytes")
    require_type(salt, bytes, "salt", "bytes")
    require_type(info, bytes, "info", "bytes")
    if not ikm:
        msg = "ikm must not be empty"
        raise ConfigError(msg)
    return SecretKey._wrap(_core.SecretKey.from_hkdf(ikm, salt, info))


def _as_key(key: object, name: str) -> _core.SecretKey:
    if isinstance(key, SecretKey):
        return key._key
    if isinstance(key, (bytes, bytearray)):
        if len(key) != _KEY_BYTES:
            msg = f"{name}: a raw key must be {_KEY_BYTES} bytes, got {len(key)}"
            raise ConfigError(msg)
        return _core.SecretKey(bytes(key))
    msg = (
        f"{name}: a key must be 32 bytes or a SecretKey (see key_from_passphrase), "
        f"not {type(key).__name__}"
    )
    raise TypeError(msg)


def keyring(keys: object, name: str) -> list[tuple[int, _core.SecretKey]]:
    """(key id, key) pairs, oldest first, from any accepted form of `keys`.

    Raises:
        TypeError: a key or id of the wrong type.
        ConfigError: a key of the wrong length, an id out of range, two keys with one id.
    """
    if keys is None:
        return []
    if isinstance(keys, (bytes, bytearray, SecretKey)):
        keys = [keys]
    if isinstance(keys, Mapping):
        pairs = []
        for key_id, key in keys.items():
            require_type(key_id, int, f"{name} key id", "an int")
            if not 0 <= key_id <= _MAX_KEY_ID:
                msg = f"{name}: key ids must be in [0, 65535], got {key_id}"
                raise ConfigError(msg)
            pairs.append((key_id, _as_key(key, name)))
    elif isinstance(keys, Sequence) and not isinstance(keys, str):
        converted = [_as_key(k, name) for k in keys]
        pairs = [(k.fingerprint, k) for k in converted]
    else:
        msg = f"{name} must be a key, a sequence of keys or a mapping of ids to keys"
        raise TypeError(msg)
    if not pairs:
        msg = f"{name} must not be empty (use None for no keys)"
        raise ConfigError(msg)
    ids = [key_id for key_id, _ in pairs]
    if len(set(ids)) != len(ids):
        msg = (
            f"{name}: two keys share a key id (the same key twice, or a fingerprint "
            "collision: give explicit ids with a mapping)"
        )
        raise ConfigError(msg)
    return pairs
