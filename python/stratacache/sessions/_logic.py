"""Session decisions without I/O, shared by SessionStore and AsyncSessionStore.

Ids are ``secrets.token_urlsafe(32)``: 256 random bits as 43 URL-safe characters. Redis never
sees an id: a session lives under the SHA-256 of its id, so a reader of Redis (or of a
replica, a backup, MONITOR) cannot replay one. The record is one envelope of the store's
codec, encrypted and bound to that Redis key, holding the user, the data and the bindings.
An id is never logged, repr'd or put into an exception message.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

from .._options import check_bound, check_positive, require_type
from ..errors import ConfigError

__all__ = ["ID_LENGTH", "Logic", "Session", "SessionInfo", "SessionStats"]

#: Characters of a session id.
ID_LENGTH = 43
_ID = re.compile(r"[A-Za-z0-9_-]{43}")
_MAX_TEXT = 1024
_PROBE = b"stratacache-session-codec-probe-0123456789"


@dataclass(frozen=True, repr=False)
class SessionInfo:
    """What a session holds (`SessionStore.list` returns these: no id).

    Attributes:
        user_id: whose session it is.
        data: what the application stored.
        created_at: Unix time of its creation.
        ip, user_agent: what it was created with (None when not given).
    """

    user_id: str
    data: Any
    created_at: float
    ip: str | None
    user_agent: str | None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(user_id={self.user_id!r}, created_at={self.created_at:.3f})"


@dataclass(frozen=True, repr=False)
class Session(SessionInfo):
    """A session and its id. The id is the bearer secret: hand it to the client (a cookie),
    never to a log; repr and str leave it out."""

    id: str = ""

    def __str__(self) -> str:
        return self.__repr__()


@dataclass(frozen=True)
class SessionStats:
    """This process's session counters since the store was built.

    Attributes:
        created, revoked, evicted: sessions made, revoked, evicted by max_per_user.
        hits: get calls that returned a session.
        refused_malformed: ids that cannot be ours (type, length, characters).
        refused_missing: well-formed ids with no live session (expired, revoked, forged).
        refused_binding: sessions presented from another IP or user agent than bound.
        refused_corrupt: records that failed to decrypt or authenticate.
    """

    created: int
    revoked: int
    evicted: int
    hits: int
    refused_malformed: int
    refused_missing: int
    refused_binding: int
    refused_corrupt: int


def _text(value: object, name: str, *, optional: bool = True) -> str | None:
    if value is None and optional:
        return None
    require_type(value, str, name, "a str" + (" or None" if optional else ""))
    assert isinstance(value, str)
    if len(value) > _MAX_TEXT:
        msg = f"{name} is longer than {_MAX_TEXT} characters"
        raise ValueError(msg)
    return value


def check_codec(codec: Any) -> Any:
    """`codec` if it encrypts whole values, else ConfigError (a probe must not show through)."""
    from ..codec import Codec  # noqa: PLC0415

    if codec is None:
        msg = (
            "SessionStore needs an encrypting codec: pass codec=stratacache.Codec("
            "encryption_keys=KEY) (a 32-byte key), or give the cache such a codec"
        )
        raise ConfigError(msg)
    require_type(codec, Codec, "codec", "a stratacache.Codec")
    if _PROBE in codec.encode("probe", _PROBE):
        msg = (
            "SessionStore's codec must encrypt whole values: build it with "
            "encryption_keys= (signing or encrypt_fields alone leave session data readable)"
        )
        raise ConfigError(msg)
    return codec


class Logic:
    """Keys, records and checks of one store (thread-safe counters)."""

    def __init__(
        self,
        prefix: str,
        codec: Any,
        *,
        ttl: float,
        sliding: bool,
        max_per_user: int | None,
        bind_ip: bool,
        bind_user_agent: bool,
    ) -> None:
        check_positive(ttl, "ttl")
        if math.isinf(ttl):
            msg = "ttl must be finite"
            raise ConfigError(msg)
        for name, flag in (("sliding", sliding), ("bind_ip", bind_ip)):
            require_type(flag, bool, name, "a bool")
        require_type(bind_user_agent, bool, "bind_user_agent", "a bool")
        if max_per_user is not None:
            check_bound(max_per_user, "max_per_user")
        self.prefix = prefix + "sess:"
        self.codec = check_codec(codec)
        self.ttl_ms = max(1, int(ttl * 1000))
        self.sliding = sliding
        self.max_per_user = max_per_user or 0
        self.bind_ip = bind_ip
        self.bind_user_agent = bind_user_agent
        self._lock = threading.Lock()
        self._counts = dict.fromkeys(SessionStats.__dataclass_fields__, 0)

    def count(self, name: str, n: int = 1) -> None:
        with self._lock:
            self._counts[name] += n

    def stats(self) -> SessionStats:
        with self._lock:
            return SessionStats(**self._counts)

    def key_of(self, session_id: object) -> str | None:
        """The Redis key of a well-formed id, else None (counted as malformed)."""
        if type(session_id) is not str:
            if isinstance(session_id, (bytes, bytearray, memoryview)):
                self.count("refused_malformed")
                return None
            msg = f"session_id must be a str, not {type(session_id).__name__}"
            raise TypeError(msg)
        if len(session_id) != ID_LENGTH or not _ID.fullmatch(session_id):
            self.count("refused_malformed")
            return None
        return self.prefix + hashlib.sha256(session_id.encode("ascii")).hexdigest()

    def user_key(self, user_id: object) -> str:
        uid = _text(user_id, "user_id", optional=False)
        assert uid is not None
        digest = hashlib.sha256(b"user\0" + uid.encode("utf-8", "surrogatepass")).hexdigest()
        return f"{self.prefix}u:{digest}"

    def new(
        self, user_id: object, data: Any, ip: object, user_agent: object
    ) -> tuple[str, str, bytes, Session]:
        """A fresh id, its key, the encrypted record, and the Session."""
        uid = _text(user_id, "user_id", optional=False)
        addr, agent = _text(ip, "ip"), _text(user_agent, "user_agent")
        if self.bind_ip and addr is None:
            msg = "this store binds sessions to an IP: pass ip="
            raise ValueError(msg)
        if self.bind_user_agent and agent is None:
            msg = "this store binds sessions to a user agent: pass user_agent="
            raise ValueError(msg)
        assert uid is not None
        sid = secrets.token_urlsafe(32)
        key = self.key_of(sid)
        assert key is not None
        now = time.time()
        record = {"u": uid, "d": data, "c": now, "ip": addr, "ua": agent}
        blob = self.codec.encode(key, record)
        return sid, key, blob, Session(uid, data, now, addr, agent, id=sid)

    def reseal(self, key: str, record: dict[str, Any], data: Any) -> bytes:
        blob: bytes = self.codec.encode(key, {**record, "d": data})
        return blob

    def open(self, key: str, blob: bytes | None) -> dict[str, Any] | None:
        """The record in `blob`, or None (missing or corrupt; counted)."""
        if blob is None:
            self.count("refused_missing")
            return None
        try:
            record = self.codec.decode(key, bytes(blob))
        except Exception:  # noqa: BLE001 - tampered, corrupt or a rotated-out key: refused
            self.count("refused_corrupt")
            return None
        if not isinstance(record, dict) or "u" not in record:
            self.count("refused_corrupt")
            return None
        return record

    def admits(self, record: dict[str, Any], ip: object, user_agent: object) -> bool:
        """Whether a request from `ip`/`user_agent` may use the session (counted if not)."""
        ok = True
        if self.bind_ip:
            ok = _same(record.get("ip"), _text(ip, "ip"))
        if ok and self.bind_user_agent:
            ok = _same(record.get("ua"), _text(user_agent, "user_agent"))
        if not ok:
            self.count("refused_binding")
        return ok

    @staticmethod
    def session(record: dict[str, Any], sid: str | None) -> SessionInfo:
        fields = (record["u"], record.get("d"), float(record.get("c", 0.0)))
        extra = (record.get("ip"), record.get("ua"))
        return SessionInfo(*fields, *extra) if sid is None else Session(*fields, *extra, id=sid)


def _same(bound: object, given: str | None) -> bool:
    if not isinstance(bound, str) or given is None:
        return False
    return hmac.compare_digest(
        bound.encode("utf-8", "surrogatepass"), given.encode("utf-8", "surrogatepass")
    )
