"""A Django session engine over `stratacache.sessions.SessionStore` (Redis, encrypted).

    SESSION_ENGINE = "stratacache.contrib.django.sessions"
    STRATACACHE_SESSIONS = {
        "cache_or_url": "redis://127.0.0.1:6379/0",
        "codec": stratacache.Codec(encryption_keys=KEY),   # sessions are encrypted
        "max_per_user": 10,
    }

STRATACACHE_SESSIONS holds `SessionStore`'s arguments; ttl defaults to SESSION_COOKIE_AGE.
Session ids are the store's (256-bit, from `secrets`), and each session belongs to the user
logged in to it (``_auth_user_id``, "anonymous" before a login): when a save finds the user
changed, the session moves to a new id under the new user and the old id is revoked, so
`revoke_user` and `max_per_user` see Django's logins. The TTL is the store's, the same for
every session: `set_expiry` changes the cookie only. Expired sessions vanish from Redis on
their own: `clear_expired` has nothing to do.
"""

from __future__ import annotations

import threading
from typing import Any

from ..._extras import require

_sessions_base = require(
    "django.contrib.sessions.backends.base", "django", "stratacache.contrib.django.sessions"
)
_settings: Any = require("django.conf", "django", "stratacache.contrib.django.sessions").settings
SessionBase: Any = _sessions_base.SessionBase
UpdateError: Any = _sessions_base.UpdateError

__all__ = ["SessionStore", "close_store"]

ANONYMOUS = "anonymous"
_USER_KEY = "_auth_user_id"  # django.contrib.auth.SESSION_KEY, without importing auth

_store: Any = None
_lock = threading.Lock()


def _shared_store() -> Any:
    """The process's `stratacache.sessions.SessionStore`, built from the settings once.

    Raises:
        ConfigError: STRATACACHE_SESSIONS is missing, or as `SessionStore`.
        TypeError: STRATACACHE_SESSIONS is not a dict, or as `SessionStore`.
    """
    global _store  # noqa: PLW0603 - one store (one Redis client) per process
    with _lock:
        if _store is None:
            from ...errors import ConfigError  # noqa: PLC0415
            from ...sessions import SessionStore as Store  # noqa: PLC0415

            options = getattr(_settings, "STRATACACHE_SESSIONS", None)
            if options is None:
                msg = "set STRATACACHE_SESSIONS (SessionStore's arguments) in the settings"
                raise ConfigError(msg)
            if not isinstance(options, dict):
                msg = f"STRATACACHE_SESSIONS must be a dict, not {type(options).__name__}"
                raise TypeError(msg)
            kwargs = dict(options)
            source = kwargs.pop("cache_or_url", None)
            kwargs.setdefault("ttl", float(_settings.SESSION_COOKIE_AGE))
            _store = Store(source, **kwargs)
        return _store


def close_store() -> None:
    """Closes the shared store (its own Redis client); the next session builds it again."""
    global _store
    with _lock:
        store, _store = _store, None
    if store is not None:
        store.close()


def _owner(data: Any) -> str:
    user = data.get(_USER_KEY) if isinstance(data, dict) else None
    return ANONYMOUS if user is None else str(user)


class SessionStore(SessionBase):  # type: ignore[misc]
    """Django's session API over the shared `stratacache.sessions.SessionStore`."""

    def __init__(self, session_key: str | None = None) -> None:
        self._store = _shared_store()
        self._user: str | None = None  # the owner of the loaded session
        super().__init__(session_key)

    def load(self) -> dict[str, Any]:
        session = self._store.get(self.session_key) if self.session_key else None
        if session is None:
            self._session_key = None
            return {}
        self._user = session.user_id
        return dict(session.data or {})

    def exists(self, session_key: str | None) -> bool:
        return bool(session_key) and self._store.get(session_key) is not None

    def create(self) -> None:
        data = self._get_session(no_load=True)
        session = self._store.create(_owner(data), data)
        self._session_key, self._user = session.id, session.user_id
        self.modified = True

    def save(self, must_create: bool = False) -> None:
        if self.session_key is None or must_create:
            self.create()
            return
        data = self._get_session(no_load=False)
        if self._user is not None and _owner(data) != self._user:  # a login or a logout
            old = self.session_key
            self.create()
            self._store.revoke(old)
            return
        if not self._store.update(self.session_key, data):
            raise UpdateError

    def delete(self, session_key: str | None = None) -> None:
        key = self.session_key if session_key is None else session_key
        if key:
            self._store.revoke(key)

    @classmethod
    def clear_expired(cls) -> None:
        """Nothing to do: Redis expires sessions by their TTL."""
