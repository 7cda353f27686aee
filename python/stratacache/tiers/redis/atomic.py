"""Atomic add and incr in Redis: what the drivers' `add`/`incr`/`touch` decide, without I/O.

`add` is one Lua call: SET NX of the new envelope, and the coherence message when it stored.
A key that holds something unusable (a load's lease, an expired or corrupt envelope) is
replaced by a compare-and-set over that exact value (`plan.FILL`, SHA-1 of what was read),
so two processes replacing the same dead value cannot both win.

`incr` and `touch` rewrite the envelope (the number, or the TTL, lives inside it; Lua
cannot open msgpack/lz4 or a signed envelope), so they are optimistic: GET, decode, build
the new envelope, and store it with the same compare-and-set, retried while another writer
got in between. Each stored write publishes the key, so other processes drop their L1 copy.
"""

from __future__ import annotations

import hashlib
from typing import Any

from ..._options import prefix_of
from ..chain import MISS

__all__ = [
    "ADD",
    "MAX_ATTEMPTS",
    "Contended",
    "incremented",
    "live",
    "local_add",
    "local_rewrite",
    "sha1",
]

#: Rounds of an optimistic update before giving up: each lost round means another writer
#: stored in between, so this many in a row is a livelock, not bad luck.
MAX_ATTEMPTS = 100

#: Lua: SET KEYS[1] ARGV[1] NX (PX ARGV[2]; 0 = none); publishes message ARGV[4] on channel
#: ARGV[3] (none when empty) when it stored. Returns 1 stored, 0 the key exists.
ADD = """
local ok
if ARGV[2] == '0' then ok = redis.call('set', KEYS[1], ARGV[1], 'NX')
else ok = redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) end
if not ok then return 0 end
if ARGV[3] ~= '' then redis.call('publish', ARGV[3], ARGV[4]) end
return 1
"""


class Contended(RuntimeError):
    """An optimistic update lost `MAX_ATTEMPTS` rounds in a row to other writers."""


def sha1(data: bytes) -> str:
    """The digest `plan.FILL` compares with what the key holds."""
    return hashlib.sha1(data, usedforsecurity=False).hexdigest()


def incremented(value: Any, delta: object) -> int:
    """`value + delta` for an int value (not a bool).

    Raises:
        TypeError: delta or the stored value is not an int.
    """
    if not isinstance(delta, int) or isinstance(delta, bool):
        msg = f"delta must be an int, not {type(delta).__name__}"
        raise TypeError(msg)
    if not isinstance(value, int) or isinstance(value, bool):
        msg = f"incr needs a stored int, the key holds a {type(value).__name__}"
        raise TypeError(msg)
    return value + delta


def live(state: Any, namespace: str, rkey: bytes, held: bytes | None) -> Any:
    """The decoded entry of `held` if it is a live value (not absent, a lease, corrupt or
    expired), else None."""
    entry = state.decode(namespace, rkey, held)
    if entry is None or state.remaining(entry) is None:
        return None
    return entry


def local_add(state: Any, namespace: str, key: str, value: Any, ttl: float | None) -> bool:
    """`add` in L1 alone, while Redis is unreachable and the namespace fails open."""
    if state.store.contains(prefix_of(namespace), key):
        return False
    if ttl != 0:
        state.l1_store(namespace, key, value, ttl)
    return True


def local_rewrite(
    state: Any, namespace: str, key: str, delta: int | None, ttl: float | None
) -> Any:
    """`incr` (delta) or `touch` (ttl) in L1 alone, Redis unreachable: the new value or MISS."""
    prefix = prefix_of(namespace)
    value = state.store.peek(prefix, key, MISS)
    left = state.store.ttl(prefix, key)
    if value is MISS or left is None:
        return MISS
    if delta is not None:
        value = incremented(value, delta)
    state.l1_store(namespace, key, value, left if ttl is None else ttl)
    return value
