"""SessionStore and AsyncSessionStore: server-side sessions in Redis, encrypted, bounded per
user, optionally bound to the IP and user agent they were created from.

Both share `_logic.Logic` (ids, keys, records, checks) and `_scripts` (one atomic Lua script
per change); the classes only issue the calls. Refusals are values, not exceptions: `get`
returns None for a malformed, forged, expired, revoked, tampered or wrongly bound id, and
`revoke`/`update`/`touch` return False, each counted in `stats()`.
"""

from __future__ import annotations

from typing import Any

from ._logic import Logic, Session, SessionInfo, SessionStats
from ._scripts import CREATE, REVOKE, REVOKE_USER, TOUCH, UPDATE

__all__ = ["AsyncSessionStore", "SessionStore"]

#: What `list` returns (an alias: inside the classes, `list` names the method).
Infos = list[SessionInfo]

_DOC_ARGS = """
    Args:
        cache_or_url: a Cache/AsyncCache with a Redis tier, a Redis URL or a redis-py client.
        ttl: seconds a session lives (since its last use when sliding).
        sliding: each successful `get` restarts the TTL.
        max_per_user: most live sessions per user; creating one more evicts the oldest.
        bind_ip, bind_user_agent: refuse a session presented with another IP / user agent
            than it was created with (create then requires them).
        codec: an encrypting `stratacache.Codec`; default: the cache's codec.
        key_prefix: prefix of the store's Redis keys (default: the cache's, or "sc:").

    Raises:
        ConfigError: no encrypting codec, a bound is not positive, a malformed URL, or a
            Redis Cluster (not supported).
        TypeError: an argument has the wrong type.
"""


class _Base:
    _asyncio = False

    def __init__(
        self,
        cache_or_url: Any,
        *,
        ttl: float = 86400.0,
        sliding: bool = True,
        max_per_user: int | None = None,
        bind_ip: bool = False,
        bind_user_agent: bool = False,
        codec: Any = None,
        key_prefix: str | None = None,
    ) -> None:
        from ..tiers.redis.access import redis_access, refuse_cluster  # noqa: PLC0415

        access = redis_access(
            cache_or_url, asyncio=self._asyncio, socket_timeout=1.0, key_prefix=key_prefix
        )
        # Its scripts touch the session keys a user's index names: one node must hold them all.
        refuse_cluster(access, type(self).__name__)
        self._logic = Logic(
            access.key_prefix,
            access.codec if codec is None else codec,
            ttl=ttl,
            sliding=sliding,
            max_per_user=max_per_user,
            bind_ip=bind_ip,
            bind_user_agent=bind_user_agent,
        )
        self._access = access
        self._client = access.client
        self._scripts = {
            name: self._client.register_script(src)
            for name, src in (
                ("create", CREATE),
                ("touch", TOUCH),
                ("update", UPDATE),
                ("revoke", REVOKE),
                ("revoke_user", REVOKE_USER),
            )
        }

    def __repr__(self) -> str:
        return f"{type(self).__name__}(ttl={self._logic.ttl_ms / 1000:g})"

    def stats(self) -> SessionStats:
        """This process's counters (see `SessionStats`)."""
        return self._logic.stats()


class SessionStore(_Base):
    __doc__ = "Server-side sessions in Redis (sync).\n" + _DOC_ARGS

    def create(
        self,
        user_id: str,
        data: Any = None,
        *,
        ip: str | None = None,
        user_agent: str | None = None,
    ) -> Session:
        """A new session of `user_id` holding `data` (encrypted in Redis).

        Raises:
            TypeError: user_id is not a str, or ip/user_agent not str/None.
            ValueError: a bound store was not given ip/user_agent, or a text is too long.
            SerializationError: the codec cannot serialize data.
        """
        logic = self._logic
        _sid, key, blob, session = logic.new(user_id, data, ip, user_agent)
        now_ms = int(session.created_at * 1000)
        args = [blob, logic.ttl_ms, now_ms, logic.max_per_user]
        evicted = self._scripts["create"](keys=[key, logic.user_key(user_id)], args=args)
        logic.count("created")
        logic.count("evicted", int(evicted))
        return session

    def get(
        self, session_id: str, *, ip: str | None = None, user_agent: str | None = None
    ) -> Session | None:
        """The live session of `session_id`, or None (refused; see the module docstring).

        Raises:
            TypeError: session_id is not a str (bytes are refused as malformed).
        """
        logic = self._logic
        key = logic.key_of(session_id)
        if key is None:
            return None
        record = logic.open(key, self._client.hget(key, "b"))
        if record is None or not logic.admits(record, ip, user_agent):
            return None
        if logic.sliding and not self._scripts["touch"](keys=[key], args=[logic.ttl_ms]):
            logic.count("refused_missing")  # revoked between the read and the touch
            return None
        logic.count("hits")
        return logic.session(record, str(session_id))  # type: ignore[return-value]

    def update(
        self, session_id: str, data: Any, *, ip: str | None = None, user_agent: str | None = None
    ) -> bool:
        """Replaces the data of a live session; False if refused (as `get` would)."""
        logic = self._logic
        key = logic.key_of(session_id)
        if key is None:
            return False
        record = logic.open(key, self._client.hget(key, "b"))
        if record is None or not logic.admits(record, ip, user_agent):
            return False
        ttl = logic.ttl_ms if logic.sliding else 0
        return bool(
            self._scripts["update"](keys=[key], args=[logic.reseal(key, record, data), ttl])
        )

    def touch(self, session_id: str) -> bool:
        """Restarts the TTL of a live session; False if there is none."""
        key = self._logic.key_of(session_id)
        return key is not None and bool(
            self._scripts["touch"](keys=[key], args=[self._logic.ttl_ms])
        )

    def revoke(self, session_id: str) -> bool:
        """Ends a session; True if it was live. A revoked id is refused from then on."""
        key = self._logic.key_of(session_id)
        done = key is not None and bool(self._scripts["revoke"](keys=[key]))
        self._logic.count("revoked", int(done))
        return done

    def revoke_user(self, user_id: str) -> int:
        """Ends every session of `user_id`; returns how many were live."""
        n = int(self._scripts["revoke_user"](keys=[self._logic.user_key(user_id)]))
        self._logic.count("revoked", n)
        return n

    def list(self, user_id: str) -> Infos:
        """The live sessions of `user_id`, oldest first (without their ids)."""
        logic = self._logic
        members = [m.decode() for m in self._client.zrange(logic.user_key(user_id), 0, -1)]
        pipe = self._client.pipeline(transaction=False)
        for m in members:
            pipe.hget(m, "b")
        out: Infos = []
        for key, blob in zip(members, pipe.execute() if members else [], strict=True):
            record = logic.open(key, blob) if blob is not None else None
            if record is not None:
                out.append(logic.session(record, None))
        return out

    def close(self) -> None:
        """Closes the store's own Redis client (not a client or cache it was given)."""
        if self._access.owned:
            self._client.close()


class AsyncSessionStore(_Base):
    __doc__ = (
        "Server-side sessions in Redis, for asyncio: `SessionStore`'s methods, awaited.\n"
        + _DOC_ARGS
    )

    _asyncio = True

    async def create(
        self,
        user_id: str,
        data: Any = None,
        *,
        ip: str | None = None,
        user_agent: str | None = None,
    ) -> Session:
        """See `SessionStore.create`."""
        logic = self._logic
        _sid, key, blob, session = logic.new(user_id, data, ip, user_agent)
        now_ms = int(session.created_at * 1000)
        args = [blob, logic.ttl_ms, now_ms, logic.max_per_user]
        evicted = await self._scripts["create"](keys=[key, logic.user_key(user_id)], args=args)
        logic.count("created")
        logic.count("evicted", int(evicted))
        return session

    async def get(
        self, session_id: str, *, ip: str | None = None, user_agent: str | None = None
    ) -> Session | None:
        """See `SessionStore.get`."""
        logic = self._logic
        key = logic.key_of(session_id)
        if key is None:
            return None
        record = logic.open(key, await self._client.hget(key, "b"))
        if record is None or not logic.admits(record, ip, user_agent):
            return None
        if logic.sliding and not await self._scripts["touch"](keys=[key], args=[logic.ttl_ms]):
            logic.count("refused_missing")
            return None
        logic.count("hits")
        return logic.session(record, str(session_id))  # type: ignore[return-value]

    async def update(
        self, session_id: str, data: Any, *, ip: str | None = None, user_agent: str | None = None
    ) -> bool:
        """See `SessionStore.update`."""
        logic = self._logic
        key = logic.key_of(session_id)
        if key is None:
            return False
        record = logic.open(key, await self._client.hget(key, "b"))
        if record is None or not logic.admits(record, ip, user_agent):
            return False
        ttl = logic.ttl_ms if logic.sliding else 0
        blob = logic.reseal(key, record, data)
        return bool(await self._scripts["update"](keys=[key], args=[blob, ttl]))

    async def touch(self, session_id: str) -> bool:
        """See `SessionStore.touch`."""
        key = self._logic.key_of(session_id)
        if key is None:
            return False
        return bool(await self._scripts["touch"](keys=[key], args=[self._logic.ttl_ms]))

    async def revoke(self, session_id: str) -> bool:
        """See `SessionStore.revoke`."""
        key = self._logic.key_of(session_id)
        done = key is not None and bool(await self._scripts["revoke"](keys=[key]))
        self._logic.count("revoked", int(done))
        return done

    async def revoke_user(self, user_id: str) -> int:
        """See `SessionStore.revoke_user`."""
        n = int(await self._scripts["revoke_user"](keys=[self._logic.user_key(user_id)]))
        self._logic.count("revoked", n)
        return n

    async def list(self, user_id: str) -> Infos:
        """See `SessionStore.list`."""
        logic = self._logic
        raw = await self._client.zrange(logic.user_key(user_id), 0, -1)
        members = [m.decode() for m in raw]
        out: Infos = []
        if not members:
            return out
        pipe = self._client.pipeline(transaction=False)
        for m in members:
            pipe.hget(m, "b")
        for key, blob in zip(members, await pipe.execute(), strict=True):
            record = logic.open(key, blob) if blob is not None else None
            if record is not None:
                out.append(logic.session(record, None))
        return out

    async def close(self) -> None:
        """See `SessionStore.close`."""
        if self._access.owned:
            await self._client.aclose()
