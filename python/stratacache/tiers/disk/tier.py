"""DiskTier: the disk store of one cache, holding codec envelopes under namespaced keys.

The C++ `DiskStore` (cpp/disk) keeps bytes, expiry and the byte bound; this layer turns values
into envelopes with the cache's Codec (so encryption, signing and the hostile-bytes rules apply
on disk as in Redis), counts an envelope that does not decode as a corrupt miss, and reopens
the store in a forked child (an LMDB environment must not cross a fork).
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
import weakref
from collections.abc import Sequence
from typing import Any

from ... import _core
from ..._options import prefix_of
from ...errors import CodecError, SerializationError
from ...health import TierHealth, disk_health
from ..chain import MISS, glob_to_regex
from .options import DiskOptions

__all__ = ["MAX_KEY_BYTES", "RESERVED", "DiskTier"]

#: LMDB's key limit: longer keys are kept in L1 only (counted in `rejected`).
MAX_KEY_BYTES = 511
#: Start of the store's own records (`gap.Heartbeat`), outside every cache's keys (a key
#: prefix would have to begin with U+001F); left out of `stats()`' sets and entries.
RESERVED = "\x1fstratacache\x1f"
#: Most keys one pattern invalidation examines per namespace.
_PATTERN_SCAN = 1 << 20


class DiskTier:
    """One cache's view of a disk store: values in, values out, misses as MISS."""

    def __init__(self, options: DiskOptions, codec: Any, root: str = "") -> None:
        self.options = options
        self.codec = codec
        # Prepended to every key: with Redis, its key prefix, so a disk key is the Redis key
        # its envelope is bound to (and caches of different prefixes never meet on disk).
        self.root = root
        self.unencodable = 0  # values the codec could not encode: kept in L1 only
        self.too_long = 0  # keys beyond MAX_KEY_BYTES: kept in L1 only
        self.reserved_sets = 0  # writes of RESERVED records (not the user's)
        self.store = self._open()
        ref = weakref.ref(self)
        os.register_at_fork(after_in_child=lambda: _reopen(ref))

    def _open(self) -> Any:
        o = self.options
        return _core.DiskStore(str(o.path), o.max_bytes, o.durability)

    def reopen_after_fork(self) -> None:
        """A forked child's own environment; the parent's is left alone, never closed."""
        self.store.abandon()
        self.store = self._open()

    def key_of(self, namespace: str, key: str) -> str:
        return self.root + prefix_of(namespace) + key

    def envelope(self, namespace: str, key: str) -> bytes | None:
        """The bytes stored for `key` (live, unexpired), or None; no decoding."""
        hit = self.store.get(self.key_of(namespace, key))
        return None if hit is None else bytes(hit[0])

    def put(self, namespace: str, key: str, data: bytes, ttl: float | None) -> bool:
        """Stores an envelope made elsewhere (the Redis link's) as it is; False if not stored."""
        full = self.key_of(namespace, key)
        if len(full.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
            self.too_long += 1
            return False
        return self._set(full, data, ttl)

    def _set(self, full: str, data: bytes, ttl: float | None) -> bool:
        if self.store.set(full, data, math.inf if ttl is None else ttl):
            return True
        # Refused (heavier than half the bound, a full disk): the store kept the older value,
        # which must not outlive this write (L1 would hold the new one only until evicted).
        self.store.delete([full])
        return False

    def read(self, namespace: str, key: str) -> tuple[Any, float]:
        """(value, seconds left) of `key`, or (MISS, 0.0)."""
        full = self.key_of(namespace, key)
        hit = self.store.get(full)
        return (MISS, 0.0) if hit is None else self._decode(full, hit)

    def read_many(self, namespace: str, keys: Sequence[str]) -> list[tuple[Any, float]]:
        fulls = [self.key_of(namespace, k) for k in keys]
        hits = self.store.get_many(fulls)
        return [
            (MISS, 0.0) if h is None else self._decode(f, h)
            for f, h in zip(fulls, hits, strict=True)
        ]

    def _decode(self, full: str, hit: tuple[bytes, float]) -> tuple[Any, float]:
        data, left = hit
        try:
            return self.codec.decode(full, data), left
        # Foreign or hostile bytes are a miss, counted; anything else is a bug and raises.
        except (CodecError, UnicodeDecodeError):
            self.store.count_corrupt()
            return MISS, 0.0

    def write(self, namespace: str, key: str, value: Any, ttl: float | None) -> bool:
        """Stores `value` for `ttl` seconds (None: never expires); False if it was not stored."""
        full = self.key_of(namespace, key)
        if len(full.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
            self.too_long += 1
            return False
        try:
            data = self.codec.encode(full, value)
        except SerializationError:
            self.unencodable += 1
            self.store.delete([full])  # an older value must not outlive this write
            return False
        return self._set(full, data, ttl)

    def delete(self, namespace: str, keys: Sequence[str]) -> int:
        return int(self.store.delete([self.key_of(namespace, k) for k in keys]))

    def remaining(self, namespace: str, key: str) -> float | None:
        left: float | None = self.store.ttl(self.key_of(namespace, key))
        return left

    def invalidate_pattern(self, namespace: str, pattern: str) -> int:
        prefix = self.root + prefix_of(namespace)
        regex = re.compile(glob_to_regex(pattern), re.DOTALL)
        keys = self.store.keys(prefix, _PATTERN_SCAN)
        doomed = []
        for raw in keys:
            k = raw.decode("utf-8", "surrogatepass")[len(prefix) :]
            if regex.match(k):
                doomed.append(prefix + k)
        return int(self.store.delete(doomed))

    def clear(self, namespace: str | None) -> int:
        where = self.root if namespace is None else self.root + prefix_of(namespace)
        return int(self.store.delete_prefix(where))

    def health(self) -> TierHealth:
        """The filesystem's free space (`disk_health`), plus the store's weight against its
        bound: degraded from 90 % of max_bytes (evictions then run on most writes)."""
        health = disk_health(self.options.path)
        if health.status == "down":
            return health
        stats = self.store.stats()
        used, bound = int(stats["bytes"]), int(stats["max_bytes"])
        full = used >= 0.9 * bound
        return dataclasses.replace(
            health,
            status="degraded" if full else health.status,
            detail=f"store at {used} of {bound} bytes" if full else health.detail,
            used_bytes=used,
            max_bytes=bound,
        )

    def stats(self) -> dict[str, int]:
        out: dict[str, int] = self.store.stats()
        out["rejected"] += self.unencodable + self.too_long
        out["sets"] -= self.reserved_sets
        out["entries"] -= len(self.store.keys(RESERVED, 1 << 16))
        return out


def _reopen(ref: weakref.ref[DiskTier]) -> None:
    tier = ref()
    if tier is not None:
        tier.reopen_after_fork()
