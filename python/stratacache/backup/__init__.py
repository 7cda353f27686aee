"""Backups and restores of a cache's shared tier (`Cache.backup`, `Cache.restore`, and the
``stratacache backup`` / ``restore`` commands).

`format` is the file, `source` the protocol a tier implements, `redis_tier` and `disk_tier`
the Redis and disk tiers' implementations, `changelog` the stream that a Redis tier's
incremental backups and point-in-time restores read, and `run` the orchestration.

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
from .disk_tier import DiskSink, DiskSource
from .format import BackupError
from .redis_tier import RedisSink, RedisSource
from .run import BackupInfo, Progress, RestoreInfo, backup, restore
from .source import Source

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
        msg = "backup and restore need a shared tier: build the cache with redis=... or disk=..."
        raise ConfigError(msg)
    if parts.sync is None:
        msg = "backup and restore need a sync twin of the cache's Redis client"
        raise ConfigError(msg)
    return tier, parts.sync


def _codec(default: Codec, given: bool | Codec | None) -> Codec | None:
    if given is True or given is None:
        return default
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
    disk = getattr(cache, "_disk", None)
    source: Source
    if disk is not None:
        default: Codec = disk.codec
        source = DiskSource(disk.store, disk.root)
    else:
        tier, client = _tier_of(cache)
        default = tier.codecs[None]
        source = RedisSource(client, tier.prefix, change_log=tier.options.change_log)
    if encrypt is True:
        encrypt = default
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
    disk = getattr(cache, "_disk", None)
    if disk is not None:
        return _restore_disk(cache, disk, path, at=at, codec=codec, progress=progress)
    tier, client = _tier_of(cache)

    def announce(op: str, namespace: str, items: Sequence[str]) -> None:
        tier.apply(Message(tier.origin, op, namespace, tuple(items)))  # this process's L1
        if tier.options.coherence is not None:  # the other processes'
            client.publish(tier.channel, tier.message(op, namespace, items))

    sink = RedisSink(client, tier.prefix, announce)
    return restore(sink, path, at=at, codec=_codec(tier.codecs[None], codec), progress=progress)


def _restore_disk(
    cache: Any,
    disk: Any,
    path: str | Path,
    *,
    at: float | dt.datetime | None,
    codec: Codec | None,
    progress: Progress | None,
) -> RestoreInfo:
    if at is not None:
        msg = (
            "at= needs a change log, which only a Redis tier keeps (RedisOptions(change_log="
            "True)); a disk tier restores the newest state its backups hold"
        )
        raise ConfigError(msg)
    local = cache._local  # the L1 this process reads before the disk

    def announce(op: str, namespace: str, items: Sequence[str]) -> None:
        if op == "k":
            local.delete(namespace, items)
        else:  # "n", "a": a removed prefix
            local.clear(namespace if op == "n" else None)

    sink = DiskSink(disk.store, announce, disk.root)
    return restore(sink, path, codec=_codec(disk.codec, codec), progress=progress)
