"""The value codec: Python objects to the bytes stored in L2/L3 and back.

An envelope is a versioned header, metadata (creation time, TTL, loader time, tag versions)
and the serialized value, compressed when it pays, then encrypted (AES-256-GCM) or signed
(HMAC-SHA256) and bound to its cache key. The envelope, compression and crypto are C++
(``cpp/codec``); so is the msgpack serializer. See :class:`Codec`.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Iterable, Mapping, Sequence
from enum import Enum
from typing import Any, Literal, NamedTuple, TypeVar

from . import _core
from ._codec_json import json_dumps, json_loads
from ._codec_keys import SecretKey, key_from_hkdf, key_from_passphrase, keyring
from ._options import require_type
from .errors import ConfigError, CorruptDataError, SerializationError

__all__ = [
    "FIRST_USER_EXT_CODE",
    "LAST_USER_EXT_CODE",
    "Codec",
    "CodecEntry",
    "DecodeFailure",
    "EncryptedField",
    "SecretKey",
    "key_from_hkdf",
    "key_from_passphrase",
]

T = TypeVar("T")

#: Extension codes users may register (msgpack allows 0..127; 0..31 are the built-ins').
FIRST_USER_EXT_CODE = 32
LAST_USER_EXT_CODE = 127

#: A key: 32 raw bytes or a SecretKey.
KeyLike = bytes | SecretKey
#: One key, several (oldest first), or keys by explicit id.
Keys = KeyLike | Sequence[KeyLike] | Mapping[int, KeyLike]

_SERIALIZERS = {"msgpack": 1, "json": 2, "pickle": 3}
_SERIALIZER_NAMES = {v: k for k, v in _SERIALIZERS.items()}
_ZSTD_LEVELS = range(1, 23)
_MAX_DEPTH_CAP = 1024
_MAX_VALUE_CAP = (1 << 32) - 1
_MAX_TAGS = 64
_U64 = 1 << 64


#: Why :meth:`Codec.try_decode_entry` found no entry: malformed bytes, an envelope format this
#: build cannot read, failed authentication (wrong key, modified, another cache key's value,
#: missing protection), or past the size and decode limits.
DecodeFailure = Literal["corrupt", "unknown_version", "tampered", "too_large"]


_new_tuple = tuple.__new__


class CodecEntry(NamedTuple):
    """A decoded envelope: the value and the metadata written with it (read-only)."""

    value: Any
    created_at_ms: int
    ttl_ms: int
    compute_us: int
    tags: dict[str, int]
    serializer: str


class EncryptedField:
    """Stands for a field value encrypted with a key this codec does not hold.

    A codec without keys decodes a value written with ``encrypt_fields`` and gets this
    placeholder in place of each sealed field; the rest of the value is readable.
    """

    __slots__ = ("field", "key_id")

    def __init__(self, field: str, key_id: int) -> None:
        self.field = field
        self.key_id = key_id

    def __repr__(self) -> str:
        return f"EncryptedField(field={self.field!r}, key_id={self.key_id:#06x})"


class Codec:
    """Encodes values into envelopes and back.

    Args:
        serializer: ``"msgpack"`` (default: every built-in type below, exactly),
            ``"json"`` (the JSON subset, for non-Python readers) or ``"pickle"`` (any
            picklable object; needs ``signing_key`` or ``encryption_keys``, since unpickling
            unauthenticated bytes runs arbitrary code).
        compression: ``"lz4"``, ``"zstd"`` or None/``"none"``.
        compress_threshold: payloads smaller than this many bytes stay uncompressed; larger
            ones keep the compressed form only when it saves at least 10 %.
        compression_level: zstd level (1..22, default 3); lz4 takes none.
        encryption_keys: a 32-byte key, a sequence of keys (oldest first; the newest encrypts,
            all decrypt) or a mapping {key id: key}. Keys are bytes or :class:`SecretKey` (see
            :func:`key_from_passphrase`, :func:`key_from_hkdf`). Without explicit ids a key's
            id is its 16-bit fingerprint, so dropping an old key never renumbers the others.
        signing_key: the same forms; values are signed (HMAC-SHA256) when not encrypted.
        encrypt_fields: field names whose values are encrypted one by one (AES-256-GCM,
            bound to the cache key and the field's path in the value) in dicts at any depth,
            instead of the whole value; needs ``encryption_keys`` and msgpack. The whole
            envelope is authenticated too (HMAC-SHA256 under a key derived from the newest
            encryption key, or the ``signing_key`` if given), so a codec holding the keys
            refuses any change, including to plaintext fields, and refuses envelopes of this
            mode written before that authentication existed. A codec without keys cannot
            verify, and decodes such values with :class:`EncryptedField` placeholders.
        max_value_bytes: largest serialized value encoded or decoded.
        max_depth: deepest container nesting encoded or decoded (at most 1024).
        max_items: most values one value may hold, at any depth (elements, dict keys and
            values, containers); None: ``max_value_bytes // 16``, at least 65,536.
        max_decoded_bytes: most bytes decoding one value may build, estimated as the bytes of
            its str, bytes, int and extension bodies plus 64 per container (256 per set);
            None: twice ``max_value_bytes``, at least 1 MiB. With ``max_items`` this keeps
            a few hundred compressed bytes from inflating into millions of objects: past
            either bound, decode raises :class:`DataTooLargeError` before building more
            (msgpack and JSON alike; pickle needs a key, so only key holders write it), and
            encode raises it too, so every value written can be read back.
        release_gil_above: payloads above this many bytes are compressed and encrypted with
            the GIL released.

    msgpack round-trips exactly: None, bool, int (any size), float (nan, inf, -0.0), str,
    bytes, bytearray, list, tuple, dict (any hashable keys), set, frozenset, datetime (naive,
    fixed offsets, zoneinfo zones by key), date, time, timedelta, Decimal, UUID, and the types
    given to :meth:`register_type` / :meth:`register_enum`. Only exact types: a subclass of a
    built-in type (OrderedDict, a str subclass) raises :class:`SerializationError` unless
    registered, so decoding never silently gives back another type.

    Thread-safe once configured: register types before sharing the codec.

    Raises:
        ConfigError: an inconsistent or out-of-range argument.
        TypeError: an argument of the wrong type.
    """

    __slots__ = ("_core", "_serializer", "_sid", "_summary")

    def __init__(
        self,
        serializer: Literal["msgpack", "json", "pickle"] = "msgpack",
        compression: Literal["lz4", "zstd", "none"] | None = "lz4",
        *,
        compress_threshold: int = 1024,
        compression_level: int | None = None,
        encryption_keys: Keys | None = None,
        signing_key: Keys | None = None,
        encrypt_fields: Iterable[str] | None = None,
        max_value_bytes: int = 64 << 20,
        max_depth: int = 64,
        max_items: int | None = None,
        max_decoded_bytes: int | None = None,
        release_gil_above: int = 64 << 10,
    ) -> None:
        if serializer not in _SERIALIZERS:
            msg = f"serializer must be 'msgpack', 'json' or 'pickle', got {serializer!r}"
            raise ConfigError(msg)
        compression = "none" if compression is None else compression
        if compression not in ("lz4", "zstd", "none"):
            msg = f"compression must be 'lz4', 'zstd' or None, got {compression!r}"
            raise ConfigError(msg)
        level = _check_level(compression, compression_level)
        threshold = _check_int(compress_threshold, "compress_threshold", 0, _MAX_VALUE_CAP)
        max_bytes = _check_int(max_value_bytes, "max_value_bytes", 1, _MAX_VALUE_CAP)
        depth = _check_int(max_depth, "max_depth", 1, _MAX_DEPTH_CAP)
        items = _check_limit(max_items, "max_items")
        decoded = _check_limit(max_decoded_bytes, "max_decoded_bytes")
        gil = _check_int(release_gil_above, "release_gil_above", 0, None)
        enc = keyring(encryption_keys, "encryption_keys")
        sig = keyring(signing_key, "signing_key")
        fields = _check_fields(encrypt_fields, serializer, enc)
        if serializer == "pickle" and not enc and not sig:
            msg = (
                "serializer='pickle' needs signing_key or encryption_keys: unpickling "
                "unauthenticated bytes runs arbitrary code"
            )
            raise ConfigError(msg)
        self._core = _core.Codec(
            compression=compression,
            compress_threshold=threshold,
            zstd_level=level,
            encryption_keys=[] if fields else enc,
            signing_keys=sig,
            field_keys=enc if fields else [],
            encrypt_fields=fields,
            max_value_bytes=max_bytes,
            max_depth=depth,
            max_items=items,
            max_decoded_bytes=decoded,
            release_gil_above=gil,
            placeholder=EncryptedField,
            loader=_load_payload,
        )
        self._serializer = serializer
        self._sid = _SERIALIZERS[serializer]
        protection = "fields" if fields else "encrypted" if enc else "signed" if sig else "none"
        self._summary = (
            f"serializer={serializer!r}, compression={compression!r}, protection={protection!r}"
        )

    def __repr__(self) -> str:
        return f"Codec({self._summary})"

    @property
    def serializer(self) -> str:
        """The serializer new values are written with."""
        return self._serializer

    def encode(self, key: str, value: object) -> bytes:
        """The envelope of `value` stored under `key` (created now, no TTL, no tags).

        Raises:
            TypeError: `key` is not a str.
            SerializationError: `value` holds an object the serializer cannot represent.
            DataTooLargeError: the serialized value exceeds max_value_bytes, or the value
                max_items or max_decoded_bytes.
        """
        if self._sid == 1:
            return self._core.pack_value(key, value)
        return self.encode_entry(key, value)

    def decode(self, key: str, data: bytes) -> Any:
        """The value of an envelope stored under `key`.

        Raises:
            TypeError: `key` is not a str or `data` not bytes.
            CorruptDataError: malformed bytes.
            UnknownVersionError: an envelope format this build cannot read.
            TamperedDataError: authentication failed (wrong key, modified, other cache key,
                or missing protection this codec requires).
            DataTooLargeError: the value would exceed max_value_bytes, max_items or
                max_decoded_bytes (refused before it is built).
        """
        return self._core.open_value(key, data)

    def encode_entry(
        self,
        key: str,
        value: object,
        *,
        ttl_ms: int = 0,
        compute_us: int = 0,
        tags: Mapping[str, int] | None = None,
        created_at_ms: int | None = None,
    ) -> bytes:
        """The envelope of `value` with its metadata.

        Args:
            key: the cache key; encrypted and signed envelopes only decode under it.
            value: the value.
            ttl_ms: time to live in milliseconds (0: none).
            compute_us: time the loader took, in microseconds (for early refresh).
            tags: tag name -> version at write time (at most 64 tags of at most 255 bytes).
            created_at_ms: unix time in milliseconds; None means now.

        Raises:
            TypeError: an argument of the wrong type.
            ValueError: a metadata argument out of range.
            SerializationError: `value` holds an object the serializer cannot represent.
            DataTooLargeError: the serialized value exceeds max_value_bytes, or the value
                max_items or max_decoded_bytes.
        """
        _check_int(ttl_ms, "ttl_ms", 0, _U64 - 1, ValueError)
        _check_int(compute_us, "compute_us", 0, _U64 - 1, ValueError)
        if created_at_ms is not None:
            _check_int(created_at_ms, "created_at_ms", -(1 << 63), (1 << 63) - 1, ValueError)
        tag_list = None if tags is None else _check_tags(tags)
        if self._sid == 1:
            out: bytes = self._core.pack(key, value, created_at_ms, ttl_ms, compute_us, tag_list)
            return out
        require_type(key, str, "key", "a str")
        payload = self._dump(value)
        sealed: bytes = self._core.seal(
            key, self._sid, payload, created_at_ms, ttl_ms, compute_us, tag_list
        )
        return sealed

    def decode_entry(self, key: str, data: bytes) -> CodecEntry:
        """The value and metadata of an envelope stored under `key`.

        Raises:
            The same errors as :meth:`decode`.
        """
        sid, value, created, ttl, compute, tags = self._core.open(key, data)
        if sid != 1:
            value = _load_payload(sid, value)
        return CodecEntry(value, created, ttl, compute, tags, _SERIALIZER_NAMES[sid])

    def try_decode_entry(
        self, key: str, data: bytes
    ) -> tuple[CodecEntry, None] | tuple[None, DecodeFailure]:
        """`(entry, None)` for a good envelope, `(None, reason)` for bad bytes, never raising
        for them: a read path counts the reason as a miss without an `except` that could hide a
        bug.

        What a decoder given to :meth:`register_type` raises is the user's code failing, not
        the bytes: it propagates (a decoder that judges the bytes bad raises
        :class:`~stratacache.errors.CodecError`, e.g. CorruptDataError, counted as "corrupt").

        Raises:
            TypeError: `key` is not a str or `data` not bytes.
            Exception: whatever a registered type's decoder raised, other than a CodecError.
        """
        opened = self._core.try_open(key, data)
        if isinstance(opened, str):
            return None, _failure(opened)
        sid, value, created, ttl, compute, tags = opened
        if sid != 1:
            try:
                value = _load_payload(sid, value)
            except CorruptDataError:
                return None, "corrupt"
        # tuple.__new__ itself: NamedTuple's generated __new__ is one Python frame more on
        # every L2 read (issue 17).
        entry = _new_tuple(CodecEntry, (value, created, ttl, compute, tags, _SERIALIZER_NAMES[sid]))
        return entry, None

    def register_type(
        self,
        cls: type[T],
        code: int,
        encode: Callable[[T], object],
        decode: Callable[[Any], T],
    ) -> None:
        """Lets msgpack carry instances of exactly `cls` (not its subclasses).

        `encode(obj)` returns an object msgpack can carry (a tuple, a dict...), stored as the
        extension type `code`; `decode` of that object rebuilds the instance.

        Args:
            cls: the class.
            code: its extension code, in [FIRST_USER_EXT_CODE, LAST_USER_EXT_CODE] (32..127);
                keep it stable: stored values name it.
            encode: instance -> serializable object.
            decode: serializable object -> instance.

        Raises:
            TypeError: `cls` is not a class or `encode`/`decode` not callable.
            ConfigError: `code` out of range or taken, `cls` already registered or a type the
                codec handles itself.
        """
        _check_registration(cls, code, encode, decode)
        self._core.register_type(cls, code, encode, decode)

    def register_enum(
        self, cls: type[Enum], code: int, *, by: Literal["name", "value"] = "name"
    ) -> None:
        """Lets msgpack carry the members of the enum `cls`; decoding gives the same member.

        Args:
            cls: an Enum subclass (IntEnum, StrEnum and Flag included).
            code: its extension code, as for :meth:`register_type`.
            by: store members by ``"name"`` (default: survives value changes) or by
                ``"value"`` (survives renames; the value must be serializable).

        Raises:
            TypeError: `cls` is not an Enum class.
            ConfigError: `by` is neither "name" nor "value", or the code is refused as in
                :meth:`register_type`.
        """
        encode, decode = _enum_codec(cls, by)
        self.register_type(cls, code, encode, decode)

    def _dump(self, value: object) -> bytes:
        if self._sid == 2:
            self._core.check_json(value)
            return json_dumps(value)
        try:
            return pickle.dumps(value, protocol=5)
        except (pickle.PicklingError, TypeError, AttributeError) as e:
            msg = f"cannot pickle the value: {e}"
            raise SerializationError(msg) from e


_LOADS: dict[int, Callable[[bytes], object]] = {2: json_loads, 3: pickle.loads}


def _load_payload(sid: int, payload: bytes) -> object:
    """The value of a json (2) or pickle (3) payload; the C++ open_value calls it too."""
    # Pickle payloads only get here authenticated: the C++ codec refuses unsigned ones.
    try:
        return _LOADS[sid](payload)
    except Exception as e:
        msg = f"codec: the {_SERIALIZER_NAMES[sid]} payload does not decode: {e}"
        raise CorruptDataError(msg) from e


_FAILURES: dict[str, DecodeFailure] = {
    "corrupt": "corrupt",
    "unknown_version": "unknown_version",
    "tampered": "tampered",
    "too_large": "too_large",
}


def _failure(reason: str) -> DecodeFailure:
    return _FAILURES[reason]  # a KeyError here is a binding out of step with this file


_BUILTIN_TYPES = frozenset(
    {type(None), bool, int, float, str, bytes, bytearray, list, tuple, dict, set, frozenset}
)


def _check_registration(cls: object, code: object, encode: object, decode: object) -> None:
    if not isinstance(cls, type):
        msg = f"cls must be a class, not {type(cls).__name__}"
        raise TypeError(msg)
    require_type(code, int, "code", "an int")
    for name, fn in (("encode", encode), ("decode", decode)):
        if not callable(fn):
            msg = f"{name} must be a callable, not {type(fn).__name__}"
            raise TypeError(msg)
    if cls in _BUILTIN_TYPES:
        msg = f"register_type: {cls.__qualname__} is handled by the codec itself"
        raise ConfigError(msg)
    assert isinstance(code, int)
    if not FIRST_USER_EXT_CODE <= code <= LAST_USER_EXT_CODE:
        msg = (
            f"register_type: code must be in [{FIRST_USER_EXT_CODE}, {LAST_USER_EXT_CODE}] "
            f"(0..31 are the built-in types'), got {code}"
        )
        raise ConfigError(msg)


def _enum_codec(cls: object, by: object) -> tuple[Callable[[Any], object], Callable[[Any], Any]]:
    if not (isinstance(cls, type) and issubclass(cls, Enum)):
        msg = f"cls must be an Enum subclass, not {cls!r}"
        raise TypeError(msg)
    if by == "name":
        return _member_name, cls.__getitem__
    if by == "value":
        return _member_value, cls
    msg = f"by must be 'name' or 'value', got {by!r}"
    raise ConfigError(msg)


def _member_name(member: Enum) -> str:
    return member.name


def _member_value(member: Enum) -> object:
    return member.value


def _check_int(
    value: object,
    name: str,
    low: int,
    high: int | None,
    error: type[ValueError] = ConfigError,
) -> int:
    require_type(value, int, name, "an int")
    assert isinstance(value, int)
    if value < low or (high is not None and value > high):
        bound = f"[{low}, {high}]" if high is not None else f">= {low}"
        msg = f"{name} must be {bound}, got {value}"
        raise error(msg)
    return value


def _check_limit(value: object, name: str) -> int:
    """A decode limit, or 0 (derived from max_value_bytes in C++) for None."""
    return 0 if value is None else _check_int(value, name, 1, _U64 - 1)


def _check_level(compression: str, level: object) -> int:
    if level is None:
        return 3
    if compression != "zstd":
        msg = f"compression_level applies to zstd only, not {compression!r}"
        raise ConfigError(msg)
    return _check_int(level, "compression_level", _ZSTD_LEVELS.start, _ZSTD_LEVELS.stop - 1)


def _check_fields(
    fields: Iterable[str] | None, serializer: str, keys: list[tuple[int, Any]]
) -> list[str]:
    if fields is None:
        return []
    if isinstance(fields, str):
        msg = "encrypt_fields must be a collection of field names, not a str"
        raise TypeError(msg)
    names = list(fields)
    for name in names:
        require_type(name, str, "encrypt_fields", "a collection of str")
    if not names:
        return []
    if serializer != "msgpack":
        msg = f"encrypt_fields needs serializer='msgpack', not {serializer!r}"
        raise ConfigError(msg)
    if not keys:
        msg = "encrypt_fields needs encryption_keys"
        raise ConfigError(msg)
    return names


def _check_tags(tags: object) -> list[tuple[str, int]]:
    if not isinstance(tags, Mapping):
        msg = f"tags must be a mapping of str to int, not {type(tags).__name__}"
        raise TypeError(msg)
    if len(tags) > _MAX_TAGS:
        msg = f"tags: at most {_MAX_TAGS} tags, got {len(tags)}"
        raise ValueError(msg)
    out = []
    for tag, version in tags.items():
        require_type(tag, str, "tags", "a mapping with str keys")
        require_type(version, int, "tags", "a mapping with int versions")
        if len(tag.encode("utf-8", "surrogatepass")) > 255:
            msg = f"tags: a tag is longer than 255 bytes: {tag[:40]!r}..."
            raise ValueError(msg)
        if not 0 <= version < _U64:
            msg = f"tags: version of {tag!r} must be in [0, 2**64), got {version}"
            raise ValueError(msg)
        out.append((tag, version))
    return out
