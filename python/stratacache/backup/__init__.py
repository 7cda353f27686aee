"""Backups and restores of a cache's shared tier (`Cache.backup`, `Cache.restore`, and the
``stratacache backup`` / ``restore`` commands).

`format` is the file, `source` the protocol a tier implements, `redis_tier` the Redis tier's
implementation, `changelog` the stream that incremental backups and point-in-time restores
read, and `run` the orchestration.

Limits: a restore writes into Redis directly, not through the change log, so take a full
backup after a restore before the next incremental one. The log entry of a change is
appended right after the change (one more round trip), so two processes writing one key
within that window may log in the other order than Redis applied them. A Cluster backup
during a slot migration may miss the keys being moved. A restore merges: keys the backup
does not hold are left as they are (clear first for an exact copy).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ..codec import Codec
from ..errors import ConfigError
from ..tiers.redis.plan import Message
from .format import BackupError
from .redis_tier import RedisSink, RedisSource
from .run import BackupInfo, Progress, RestoreInfo, backup, restore

__all__ = [
    "BackupError",
    "BackupInfo",
    "RestoreInfo",
    "backup",
    "backup_cache",
    "restore",
    "restore_cache",
]


def _tier_of(cache: Any) -> tuple[Any, Any]:
    """(TierState, sync client) of a cache with a Redis tier."""
    tier, parts = getattr(cache, "_tier", None), getattr(cache, "_parts", None)
    if tier is None or parts is None:
        msg = "backup and restore need a shared tier: build the cache with redis=..."
        raise ConfigError(msg)
    if parts.sync is None:
        msg = "backup and restore need a sync twin of the cache's Redis client"
        raise ConfigError(msg)
    return tier, parts.sync


def _codec(tier: Any, given: bool | Codec | None) -> Codec | None:
    if given is True or given is None:
        codec: Codec = tier.codecs[None]
        return codec
    return given or None


def backup_cache(
    cache: Any,
    path: str | Path,
    namespaces: Iterable[str] | None = None,
    incremental_from: str | Path | None = None,
    *,
    encrypt: bool | Codec = False,
    compression: str | None = "lz4",
    progress: Progress | None = None,
) -> BackupInfo:
    """`Cache.backup` (sync: AsyncCache runs it on a thread)."""
    tier, client = _tier_of(cache)
    if encrypt is True:
        encrypt = tier.codecs[None]
    source = RedisSource(client, tier.prefix, change_log=tier.options.change_log)
    return backup(
        source,
        path,
        namespaces=namespaces,
        incremental_from=incremental_from,
        encrypt=encrypt,
        compression=compression,
        progress=progress,
    )


def restore_cache(
    cache: Any,
    path: str | Path,
    at: float | dt.datetime | None = None,
    *,
    codec: Codec | None = None,
    progress: Progress | None = None,
) -> RestoreInfo:
    """`Cache.restore` (sync: AsyncCache runs it on a thread)."""
    tier, client = _tier_of(cache)

    def announce(op: str, namespace: str, items: Sequence[str]) -> None:
        tier.apply(Message(tier.origin, op, namespace, tuple(items)))  # this process's L1
        if tier.options.coherence is not None:  # the other processes'
            client.publish(tier.channel, tier.message(op, namespace, items))

    sink = RedisSink(client, tier.prefix, announce)
    return restore(sink, path, at=at, codec=_codec(tier, codec), progress=progress)
