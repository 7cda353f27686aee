"""Full backups of the Redis tier: round trips, expiry, damaged files, encryption."""

from __future__ import annotations

import asyncio
import math
import os
import struct
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import redis

import stratacache
from stratacache.backup import BackupError

from ..conftest import call
from .conftest import keys_of, raw


async def _fill(cache: Any) -> dict[str, Any]:
    values = {f"k{i}": {"n": i, "blob": os.urandom(64)} for i in range(300)}
    for key, value in values.items():
        await call(cache.set(key, value))
    await call(cache.invalidate_tags("grp"))  # the tag's version key exists from now on
    await call(cache.set("tagged", "t-value", tags=["grp"]))
    await call(cache.set("forever", "f", ttl=math.inf))
    return values


async def test_round_trip(tiered: Callable[..., Any], redis_clean_url: str, tmp_path: Path) -> None:
    cache = tiered(redis_clean_url)
    values = await _fill(cache)
    before = keys_of(redis_clean_url)
    info = await call(cache.backup(tmp_path / "full.scb"))
    assert info.values == len(values) + 2
    assert info.tags == 1
    assert (tmp_path / "full.scb").is_file()
    assert not (tmp_path / "full.scb.partial").exists()
    raw(redis_clean_url).flushall()

    done = await call(cache.restore(tmp_path / "full.scb"))
    assert done.applied == len(values) + 3
    assert keys_of(redis_clean_url) == before
    reader = tiered(redis_clean_url)  # a fresh L1: every read comes from Redis
    for key, value in values.items():
        assert await call(reader.get(key)) == value
    assert await call(reader.get("tagged")) == "t-value"
    assert raw(redis_clean_url).pttl(cache._tier.rkey("", "forever")) == -1
    await call(reader.invalidate_tags("grp"))  # the restored tag version still governs
    assert await call(tiered(redis_clean_url).get("tagged")) is None


async def test_expiry_is_absolute(
    tiered: Callable[..., Any], redis_clean_url: str, tmp_path: Path
) -> None:
    cache = tiered(redis_clean_url)
    await call(cache.set("short", 1, ttl=0.3))
    await call(cache.set("long", 2, ttl=300))
    client = raw(redis_clean_url)
    pttl_before = client.pttl(cache._tier.rkey("", "long"))
    await call(cache.backup(tmp_path / "b.scb"))
    deadline = time.monotonic() + 5
    while client.exists(cache._tier.rkey("", "short")) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    client.flushall()

    await call(cache.restore(tmp_path / "b.scb"))
    assert not client.exists(cache._tier.rkey("", "short"))  # expired meanwhile: not restored
    assert 0 < client.pttl(cache._tier.rkey("", "long")) <= pttl_before
    assert await call(tiered(redis_clean_url).get("long")) == 2


def _damage(path: Path, how: str) -> None:
    data = bytearray(path.read_bytes())
    if how == "flip":
        data[len(data) // 2] ^= 0x40
    elif how == "truncate-half":
        del data[len(data) // 2 :]
    elif how == "truncate-last-byte":
        del data[-1:]
    elif how == "header":
        data[12] ^= 0x01
    elif how == "magic":
        data[0:8] = b"NOTABACK"
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("how", ["flip", "truncate-half", "truncate-last-byte", "header", "magic"])
async def test_damaged_backup_restores_nothing(
    tiered: Callable[..., Any], redis_clean_url: str, tmp_path: Path, how: str
) -> None:
    cache = tiered(redis_clean_url)
    for i in range(5000):  # several chunks, so a fault in the middle leaves good ones before
        await call(cache.set(f"k{i}", "v" * 300))
    await call(cache.backup(tmp_path / "b.scb"))
    raw(redis_clean_url).flushall()
    _damage(tmp_path / "b.scb", how)

    with pytest.raises(BackupError, match="nothing was restored"):
        await call(cache.restore(tmp_path / "b.scb"))
    assert keys_of(redis_clean_url) == set()


async def test_encrypted_round_trip_and_wrong_key(
    tiered: Callable[..., Any], redis_clean_url: str, tmp_path: Path
) -> None:
    key = os.urandom(32)
    cache = tiered(redis_clean_url, codec=stratacache.Codec(encryption_keys=key))
    secret = "the plaintext that must not be in the file " * 4
    await call(cache.set("s", secret))
    await call(cache.set("n", 7, ttl=None))
    await call(cache.backup(tmp_path / "e.scb", encrypt=True))
    assert secret.encode()[:40] not in (tmp_path / "e.scb").read_bytes()
    raw(redis_clean_url).flushall()

    other = tiered(redis_clean_url, codec=stratacache.Codec(encryption_keys=os.urandom(32)))
    with pytest.raises(BackupError, match="another key"):
        await call(other.restore(tmp_path / "e.scb"))
    plain = tiered(redis_clean_url)
    with pytest.raises(BackupError):
        await call(plain.restore(tmp_path / "e.scb"))
    assert keys_of(redis_clean_url) == set()

    await call(cache.restore(tmp_path / "e.scb"))
    fresh = tiered(redis_clean_url, codec=stratacache.Codec(encryption_keys=key))
    assert await call(fresh.get("s")) == secret


async def test_encrypt_needs_an_encrypting_codec(
    tiered: Callable[..., Any], redis_clean_url: str, tmp_path: Path
) -> None:
    cache = tiered(redis_clean_url)
    with pytest.raises(stratacache.ConfigError, match="does not encrypt"):
        await call(cache.backup(tmp_path / "x.scb", encrypt=True))
    assert not (tmp_path / "x.scb").exists()
    assert not (tmp_path / "x.scb.partial").exists()


async def test_namespaces_only(
    tiered: Callable[..., Any], redis_clean_url: str, tmp_path: Path
) -> None:
    users = tiered(redis_clean_url, namespace="users")
    pages = tiered(redis_clean_url, namespace="pages")
    await call(users.set("u1", "alice"))
    await call(pages.set("p1", "home"))
    info = await call(users.backup(tmp_path / "u.scb", namespaces=["users"]))
    assert info.values == 1
    raw(redis_clean_url).flushall()
    await call(users.restore(tmp_path / "u.scb"))
    assert await call(tiered(redis_clean_url, namespace="users").get("u1")) == "alice"
    assert await call(tiered(redis_clean_url, namespace="pages").get("p1")) is None


async def test_other_prefix_refused(
    tiered: Callable[..., Any], redis_clean_url: str, tmp_path: Path
) -> None:
    cache = tiered(redis_clean_url)
    await call(cache.set("a", 1))
    await call(cache.backup(tmp_path / "b.scb"))
    other = tiered(redis_clean_url, redis_options=stratacache.RedisOptions(key_prefix="zz:"))
    with pytest.raises(BackupError, match="key prefix"):
        await call(other.restore(tmp_path / "b.scb"))


async def test_without_a_tier(cache_cls: type[Any], tmp_path: Path) -> None:
    cache = cache_cls()
    with pytest.raises(stratacache.ConfigError, match="redis="):
        await call(cache.backup(tmp_path / "b.scb"))


def test_cluster_round_trip(
    redis_cluster_clean: stratacache.testing.redis_servers.RedisClusterGroup, tmp_path: Path
) -> None:
    url = redis_cluster_clean.url
    with stratacache.Cache(redis=url, default_ttl=60) as cache:
        for i in range(600):  # spread over every primary's slots
            cache.set(f"key-{i}", i)
        info = cache.backup(tmp_path / "c.scb")
        assert info.values == 600
        redis_cluster_clean.flushall()
        cache.restore(tmp_path / "c.scb")
    with stratacache.Cache(redis=url) as fresh:
        assert fresh.get_many([f"key-{i}" for i in range(600)]) == {
            f"key-{i}": i for i in range(600)
        }
    for node in redis_cluster_clean.primaries:  # every primary got its share back
        client = redis.Redis(host=node.address[0], port=node.address[1])
        try:
            assert client.dbsize() > 0
        finally:
            client.close()


def _frames(data: bytes) -> tuple[bytes, list[bytes]]:
    """(everything before the first frame, each frame) of a backup file."""
    (size,) = struct.unpack(">I", data[10:14])
    at = 14 + size + 4
    head, frames = data[:at], []
    while at < len(data):
        (length,) = struct.unpack(">I", data[at + 1 : at + 5])
        frames.append(data[at : at + 9 + length])
        at += 9 + length
    return head, frames


async def test_moved_chunks_refused(
    tiered: Callable[..., Any], redis_clean_url: str, tmp_path: Path
) -> None:
    cache = tiered(redis_clean_url)
    for i in range(10_000):
        await call(cache.set(f"k{i}", "v" * 200))
    await call(cache.backup(tmp_path / "b.scb"))
    raw(redis_clean_url).flushall()
    head, frames = _frames((tmp_path / "b.scb").read_bytes())
    assert len(frames) >= 3  # two chunks and the trailer at least
    swapped = [frames[1], frames[0], *frames[2:]]
    repeated = [frames[0], frames[0], *frames[2:]]
    for name, order in (("swapped", swapped), ("repeated", repeated)):
        (tmp_path / name).write_bytes(head + b"".join(order))
        with pytest.raises(BackupError, match="missing, reordered or altered"):
            await call(cache.restore(tmp_path / name))
    assert keys_of(redis_clean_url) == set()


async def test_namespaces_must_be_a_collection(
    tiered: Callable[..., Any], redis_clean_url: str, tmp_path: Path
) -> None:
    cache = tiered(redis_clean_url)
    with pytest.raises(TypeError, match="not one str"):
        await call(cache.backup(tmp_path / "b.scb", namespaces="users"))
    with pytest.raises(TypeError, match="encrypt"):
        await call(cache.backup(tmp_path / "b.scb", encrypt="yes"))
    with pytest.raises(TypeError, match="unix seconds"):
        await call(cache.restore(tmp_path / "b.scb", at="yesterday"))
