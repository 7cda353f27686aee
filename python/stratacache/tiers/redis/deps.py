"""Dependency edges in Redis: where they live, the two scripts, and the sync/async walks.

The dependents of a value key live in one SET, its edge key, which sits in the same hash slot
as the value key (a hash tag naming the value key's own slot), so on Cluster a dependency's
edges move with it. The set has the TTL of its longest-lived dependent (none if one never
expires) and at most `limit` members; when it is full, members whose value is gone (deleted
or expired without a walk) are pruned, and a dependent that still does not fit is refused
and not stored in Redis. Members are the dependents' keys (same namespace, UTF-8).

A walk pops (SMEMBERS + DEL, atomically) the edge sets of one level: one script per hash slot,
since one script may not touch keys of different slots on Cluster; the levels run from Python
(`stratacache._deps.Walk` bounds them). `RedisGraph`'s sync and async twins are the only
I/O: a few lines each over the executor's `eval`.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

from ..._deps import Dependencies, Walk
from .common import Rider, TierDown

__all__ = ["LINK", "MEMBERS", "POP", "PRUNE", "RedisGraph", "edge_key"]

#: Lua: records ARGV[1] as a dependent in the edge set KEYS[1], unless it already holds
#: ARGV[3] others; extends its TTL to ARGV[2] ms (0: none, PERSIST). A key of another type
#: (foreign bytes) is replaced. Returns 1 recorded, 0 refused (full).
LINK = """
local t = redis.call('type', KEYS[1])['ok']
if t ~= 'set' and t ~= 'none' then redis.call('del', KEYS[1]) end
if redis.call('scard', KEYS[1]) >= tonumber(ARGV[3])
  and redis.call('sismember', KEYS[1], ARGV[1]) == 0 then return 0 end
local left = redis.call('pttl', KEYS[1])
redis.call('sadd', KEYS[1], ARGV[1])
local px = tonumber(ARGV[2])
if px == 0 then redis.call('persist', KEYS[1])
elseif left == -2 or (left >= 0 and left < px) then redis.call('pexpire', KEYS[1], px) end
return 1
"""

#: Lua: the members of each edge set KEYS[i] (none for a key of another type), removing the
#: set. Retry-safe: the members are kept for 60 s in the key as a tombstone of walk ARGV[1]
#: (a string, which LINK replaces), so a retried call of the same walk, whose first reply was
#: lost, gets them again instead of nothing; other walks' tombstones are left alone.
POP = """
local mark = '\\0sc-popped\\0' .. ARGV[1] .. '\\0'
local out = {}
for i, k in ipairs(KEYS) do
  local t = redis.call('type', k)['ok']
  out[i] = {}
  if t == 'set' then
    out[i] = redis.call('smembers', k)
    redis.call('del', k)
    if #out[i] > 0 then redis.call('set', k, mark .. cmsgpack.pack(out[i]), 'PX', 60000) end
  elseif t == 'string' then
    local v = redis.call('get', k)
    if string.sub(v, 1, #mark) == mark then out[i] = cmsgpack.unpack(string.sub(v, #mark + 1)) end
  end
end
return out
"""

#: Lua: the members of the edge set KEYS[1].
MEMBERS = """
if redis.call('type', KEYS[1])['ok'] ~= 'set' then return {} end
return redis.call('smembers', KEYS[1])
"""

#: Lua: drops from the edge set KEYS[1] each member ARGV[i] whose value key KEYS[i + 1] no
#: longer exists (deleted or expired without a walk). Checked in the script, so a dependent
#: written meanwhile keeps its edge. Returns how many were dropped.
PRUNE = """
if redis.call('type', KEYS[1])['ok'] ~= 'set' then return 0 end
local n = 0
for i = 1, #ARGV do
  if redis.call('exists', KEYS[i + 1]) == 0 then n = n + redis.call('srem', KEYS[1], ARGV[i]) end
end
return n
"""

#: Most members one PRUNE call checks.
_PRUNE_BATCH = 256


def _hash_tag(key: bytes) -> bytes | None:
    """The part of `key` Redis Cluster hashes when it holds a non-empty ``{...}``, else None."""
    start = key.find(b"{")
    if start < 0:
        return None
    end = key.find(b"}", start + 1)
    if end <= start + 1:
        return None
    return key[start + 1 : end]


def edge_key(prefix: bytes, rkey: bytes) -> bytes:
    """The edge set of value key `rkey`: ``<prefix>dep:{<slot text>}<rkey>``, in rkey's slot.

    The slot text is rkey's own hash tag, or rkey itself. Two cases cannot be colocated
    (the key prefix holds an unclosed ``{``; an untagged rkey holds ``}``): their edge key is
    ``<prefix>dep:<rkey>``, in another slot, which costs a round trip of its own, not safety.
    """
    tag = _hash_tag(rkey)
    if b"{" in prefix:  # colocated when the prefix holds a tag: every key shares its slot
        return prefix + b"dep:" + rkey
    if tag is not None:
        return prefix + b"dep:{" + tag + b"}" + rkey
    if b"}" in rkey:
        return prefix + b"dep:" + rkey
    return prefix + b"dep:{" + rkey + b"}"


def _by_slot(keys: Sequence[bytes], cluster: bool) -> list[list[bytes]]:
    """`keys` grouped by hash slot (one group when not on Cluster)."""
    if not cluster:
        return [list(keys)] if keys else []
    from redis.crc import key_slot  # noqa: PLC0415

    groups: dict[int, list[bytes]] = {}
    for key in keys:
        groups.setdefault(key_slot(key), []).append(key)
    return list(groups.values())


class RedisGraph:
    """The dependency edges of one cache's Redis tier: `executor` issues the scripts, `state`
    names the keys, `deps` holds the limit and the counters."""

    def __init__(self, executor: Any, state: Any, deps: Dependencies) -> None:
        self.redis = executor
        self.state = state
        self.deps = deps
        self._prefix = state.prefix.encode("utf-8", "surrogatepass")

    def _edges(self, namespace: str, keys: Sequence[str]) -> list[bytes]:
        return [edge_key(self._prefix, self.state.rkey(namespace, k)) for k in keys]

    def _link_calls(
        self, namespace: str, key: str, on: Sequence[str], px: int | None
    ) -> list[tuple[list[bytes], list[Any]]]:
        member = key.encode("utf-8", "surrogatepass")
        return [([e], [member, px or 0, self.deps.limit]) for e in self._edges(namespace, on)]

    def _linked(self, results: Sequence[Any]) -> bool:
        if all(int(r) for r in results):
            return True
        self.deps.refused()
        return False

    @staticmethod
    def _full(calls: list[Any], results: Sequence[Any]) -> list[Any]:
        """The link calls that were refused (their edge set is full)."""
        return [c for c, r in zip(calls, results, strict=True) if not int(r)]

    def _prunes(
        self, namespace: str, edge: bytes, members: Sequence[bytes]
    ) -> list[tuple[list[bytes], list[Any]]]:
        """PRUNE calls for the members of a full edge set. On Cluster only the members whose
        value key shares the edge's slot can be checked in its script; the rest are kept."""
        rkeys = [self.state.rkey(namespace, m.decode("utf-8", "surrogatepass")) for m in members]
        pairs = list(zip(rkeys, members, strict=True))
        if self.redis.cluster:
            from redis.crc import key_slot  # noqa: PLC0415

            slot = key_slot(edge)
            pairs = [(r, m) for r, m in pairs if key_slot(r) == slot]
        batches = [pairs[i : i + _PRUNE_BATCH] for i in range(0, len(pairs), _PRUNE_BATCH)]
        return [([edge, *(r for r, _ in b)], [m for _, m in b]) for b in batches]

    def _pops(
        self, namespace: str, frontier: Sequence[str], token: str
    ) -> list[tuple[list[bytes], list[Any]]]:
        groups = _by_slot(self._edges(namespace, frontier), self.redis.cluster)
        return [(g, [token]) for g in groups]

    def link_sync(self, namespace: str, key: str, on: Sequence[str], px: int | None) -> bool:
        """Records `key` as a dependent of `on`; False if refused (a set is full) or Redis did
        not answer (then the dependent must not be stored in Redis either)."""
        self.deps.check_enabled()
        try:
            calls = self._link_calls(namespace, key, on, px)
            full = self._full(calls, self.redis.eval(LINK, calls))
            for (edge,), _ in full:  # dependents deleted or expired without a walk: drop them
                members = self.redis.eval(MEMBERS, [([edge], [])])[0]
                self.redis.eval(PRUNE, self._prunes(namespace, edge, members))
            return not full or self._linked(self.redis.eval(LINK, full))
        except TierDown as exc:
            self.state.write_failed(exc, namespace)  # raises when failing closed
            return False

    async def link_async(self, namespace: str, key: str, on: Sequence[str], px: int | None) -> bool:
        """`link_sync` on an asyncio executor."""
        self.deps.check_enabled()
        try:
            calls = self._link_calls(namespace, key, on, px)
            full = self._full(calls, await self.redis.eval(LINK, calls))
            for (edge,), _ in full:
                members = (await self.redis.eval(MEMBERS, [([edge], [])]))[0]
                await self.redis.eval(PRUNE, self._prunes(namespace, edge, members))
            return not full or self._linked(await self.redis.eval(LINK, full))
        except TierDown as exc:
            self.state.write_failed(exc, namespace)
            return False

    def _level(self, namespace: str, walk: Walk, token: str) -> Rider | None:
        """The pop of the edges of the level about to be deleted, to send with its DEL; None
        once the walk is capped (what lies beyond keeps its edges)."""
        if walk.capped:
            return None
        return Rider(POP, self._edges(namespace, walk.frontier), [token])

    def delete_sync(self, driver: Any, namespace: str, keys: Sequence[str]) -> int:
        """Deletes `keys` through `driver`, then, level by level, what depends on them
        (bounded, see `Walk`); returns how many live values were removed. Each level's DEL
        carries the pop of its edges (off Cluster: one round trip per level, so a key without
        dependents costs none extra). Redis failing mid-walk ends it with what was found."""
        if not self.deps.enabled:
            return int(driver.delete(namespace, keys))
        walk, token, removed = self.deps.walk(keys), secrets.token_hex(8), 0
        try:
            while walk.frontier:
                level, rider = walk.frontier, self._level(namespace, walk, token)
                removed += int(driver.delete(namespace, level, rider))
                if rider is None:
                    break
                if rider.reply is None:  # Cluster (or Redis did not answer): a call of its own
                    walk.add(_members(self.redis.eval(POP, self._pops(namespace, level, token))))
                else:
                    walk.add(_members([rider.reply]))
        except TierDown as exc:
            self.state.write_failed(exc, namespace)
        self.deps.walked(walk)
        return removed

    async def delete_async(self, driver: Any, namespace: str, keys: Sequence[str]) -> int:
        """`delete_sync` on an asyncio executor."""
        if not self.deps.enabled:
            return int(await driver.delete(namespace, keys))
        walk, token, removed = self.deps.walk(keys), secrets.token_hex(8), 0
        try:
            while walk.frontier:
                level, rider = walk.frontier, self._level(namespace, walk, token)
                removed += int(await driver.delete(namespace, level, rider))
                if rider is None:
                    break
                if rider.reply is None:
                    calls = self._pops(namespace, level, token)
                    walk.add(_members(await self.redis.eval(POP, calls)))
                else:
                    walk.add(_members([rider.reply]))
        except TierDown as exc:
            self.state.write_failed(exc, namespace)
        self.deps.walked(walk)
        return removed


def _members(results: Sequence[Any]) -> list[str]:
    return [m.decode("utf-8", "surrogatepass") for group in results for ms in group for m in ms]
