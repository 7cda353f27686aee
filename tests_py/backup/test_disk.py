"""Backups of the disk tier: round trips with TTLs, expiry, damaged files, wrong keys,
namespaces, incremental backups, the batched scans underneath, and this process's L1."""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import stratacache
from stratacache import BackupError, ConfigError
from stratacache.backup import disk_tier

from ..conftest import call
from .test_backup import _damage


@pytest.fixture
def disks(tmp_path: Path) -> Iterator[Any]:
    """Factory of caches over a disk directory under tmp_path (the class is a parameter)."""
    made: list[Any] = []

    def make(name: str, cls: type[Any] = stratacache.Cache, **kwargs: Any) -> Any:
        kwargs.setdefault("default_ttl", 600)
        # No fsync per set: the fills are thousands of single-key writes.
        cache = cls(disk=_fast(tmp_path / name), **kwargs)
        made.append(cache)
        return cache

    yield make
    for cache in made:
        if isinstance(cache, stratacache.Cache):
            cache.close()


def _fast(path: Path, max_bytes: int = 1 << 30) -> stratacache.DiskOptions:
    return stratacache.DiskOptions(path, max_bytes=max_bytes, durability="none")


def _entries(cache: Any) -> dict[bytes, tuple[bytes, int]]:
    """Every live entry of the cache's store: key -> (envelope, absolute expiry ms)."""
    out: dict[bytes, tuple[bytes, int]] = {}
    for prefix in ("",):
        after = b""
        for _ in range(10_000):
            batch, after, done = cache._disk.store.scan(prefix, after, 1000, 8 << 20)
            out.update({k: (e, x) for k, e, x, _ in batch})
            if done:
                return out
    msg = "scan did not finish"
    raise AssertionError(msg)


def _fill(cache: Any, n: int = 2500) -> dict[str, Any]:
    values = {f"k{i}": {"n": i, "blob": os.urandom(50)} for i in range(n)}  # > one scan batch
    cache.set_many(values)
    cache.set("forever", "f", ttl=math.inf)
    cache.set("big", os.urandom(3 << 20), ttl=300)  # a batch of its own (the byte bound)
    return values


def test_round_trip_keeps_values_and_absolute_expiry(disks: Any, tmp_path: Path) -> None:
    cache = disks("a", max_entries=10_000)
    values = _fill(cache)
    before = _entries(cache)
    info = cache.backup(tmp_path / "full.scb")
    assert (info.values, info.tags, info.incremental) == (len(values) + 2, 0, False)
    assert not (tmp_path / "full.scb.partial").exists()

    fresh = disks("b")
    done = fresh.restore(tmp_path / "full.scb")
    assert done.applied == len(values) + 2
    assert _entries(fresh) == before  # the same envelopes, the same expiry to the millisecond
    assert fresh.get_many(list(values)) == values
    assert fresh.ttl("forever") == math.inf
    assert 0 < fresh.ttl("big") <= 300


async def test_async_cache_round_trip(disks: Any, tmp_path: Path) -> None:
    cache = disks("a", cls=stratacache.AsyncCache)
    await cache.set("x", [1, 2, 3])
    await cache.backup(tmp_path / "b.scb")
    fresh = disks("b", cls=stratacache.AsyncCache)
    assert (await fresh.restore(tmp_path / "b.scb")).applied == 1
    assert await call(fresh.get("x")) == [1, 2, 3]


def test_expired_entries_are_not_restored(disks: Any, tmp_path: Path) -> None:
    cache = disks("a")
    cache.set("short", 1, ttl=0.3)
    cache.set("long", 2, ttl=300)
    assert cache.backup(tmp_path / "b.scb").values == 2
    deadline = time.monotonic() + 5
    while cache._disk.store.ttl("\x1fshort") is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert cache._disk.store.ttl("\x1fshort") is None

    fresh = disks("b")
    assert fresh.restore(tmp_path / "b.scb").applied == 1
    assert fresh.get("short") is None
    assert fresh.get("long") == 2
    assert fresh.stats().disk.entries == 1
    assert cache.backup(tmp_path / "later.scb").values == 1  # a backup skips it too


@pytest.mark.parametrize("how", ["flip", "truncate-half", "truncate-last-byte", "header"])
def test_damaged_backup_restores_nothing(disks: Any, tmp_path: Path, how: str) -> None:
    cache = disks("a")
    cache.set_many({f"k{i}": "v" * 300 for i in range(6000)})  # chunks before the fault
    cache.backup(tmp_path / "b.scb")
    _damage(tmp_path / "b.scb", how)
    fresh = disks("b")
    with pytest.raises(BackupError, match="nothing was restored"):
        fresh.restore(tmp_path / "b.scb")
    assert fresh.stats().disk.entries == 0


def test_encrypted_backup_needs_its_key(disks: Any, tmp_path: Path) -> None:
    key = os.urandom(32)
    cache = disks("a", codec=stratacache.Codec(encryption_keys=key))
    secret = "the plaintext that must not be in the file " * 4
    cache.set("s", secret)
    cache.backup(tmp_path / "e.scb", encrypt=True)
    assert secret.encode()[:40] not in (tmp_path / "e.scb").read_bytes()

    wrong = disks("b", codec=stratacache.Codec(encryption_keys=os.urandom(32)))
    with pytest.raises(BackupError, match="another key"):
        wrong.restore(tmp_path / "e.scb")
    plain = disks("c")
    with pytest.raises(BackupError, match="encrypted"):
        plain.restore(tmp_path / "e.scb", codec=None)
    assert wrong.stats().disk.entries == plain.stats().disk.entries == 0
    right = disks("d", codec=stratacache.Codec(encryption_keys=key))
    right.restore(tmp_path / "e.scb")
    assert right.get("s") == secret


def test_namespaces_filter(disks: Any, tmp_path: Path) -> None:
    cache = disks("a")
    cache.set("x", "default ns")
    for ns in ("users", "orders", "users2"):
        cache._driver.write(ns, "x", ns, 600)
    info = cache.backup(tmp_path / "b.scb", namespaces=["users", "orders"])
    assert info.values == 2
    fresh = disks("b")
    fresh.restore(tmp_path / "b.scb")
    assert {k.split(b"\x1f")[0] for k in _entries(fresh)} == {b"users", b"orders"}
    with pytest.raises(TypeError, match="not one str"):
        cache.backup(tmp_path / "c.scb", namespaces="users")


def test_incremental_holds_what_was_written_since(disks: Any, tmp_path: Path) -> None:
    cache = disks("a")
    cache.set_many({f"k{i}": i for i in range(1500)})
    cache.backup(tmp_path / "full.scb")
    cache.set_many({f"k{i}": -i for i in range(0, 1500, 3)})  # rewritten since
    cache.set("new", "n")
    cache.set("gone", "g", ttl=0.2)  # written since, expired before the restore
    inc = cache.backup(tmp_path / "inc.scb", incremental_from=tmp_path / "full.scb")
    assert inc.incremental
    assert inc.changes == 500 + 2
    time.sleep(0.3)

    fresh = disks("b")
    fresh.set("gone", "older value the expired write replaced")
    fresh.restore(tmp_path / "inc.scb")  # the full backup, then the increment
    want = {f"k{i}": (-i if i % 3 == 0 else i) for i in range(1500)}
    assert fresh.get_many(list(want)) == want
    assert fresh.get("new") == "n"
    assert fresh.get("gone") is None

    nothing = cache.backup(tmp_path / "inc2.scb", incremental_from=tmp_path / "inc.scb")
    assert nothing.changes == 0


def test_incremental_of_another_store_is_refused(disks: Any, tmp_path: Path) -> None:
    big = disks("a")
    big.set_many({f"k{i}": i for i in range(100)})
    big.backup(tmp_path / "full.scb")
    small = disks("b")
    small.set("one", 1)
    with pytest.raises(BackupError, match="recreated, or is another one"):
        small.backup(tmp_path / "inc.scb", incremental_from=tmp_path / "full.scb")
    assert not (tmp_path / "inc.scb").exists()


def test_at_is_redis_only(disks: Any, tmp_path: Path) -> None:
    cache = disks("a")
    cache.set("x", 1)
    cache.backup(tmp_path / "b.scb")
    with pytest.raises(ConfigError, match="at= needs a change log"):
        cache.restore(tmp_path / "b.scb", at=time.time())


def test_restore_drops_overwritten_keys_from_this_process_l1(disks: Any, tmp_path: Path) -> None:
    cache = disks("a")
    cache.set("x", "new")
    cache.backup(tmp_path / "b.scb")
    cache.set("x", "old")  # in L1 and on disk
    cache._disk.store.set("\x1fx", cache._disk.codec.encode("\x1fx", "sneaky"), 600)
    assert cache.get("x") == "old"  # L1 still serves it
    cache.restore(tmp_path / "b.scb")
    assert cache.get("x") == "new"


def test_restore_keeps_the_store_bound(tmp_path: Path) -> None:
    with stratacache.Cache(disk=_fast(tmp_path / "a"), default_ttl=600) as cache:
        cache.set_many({f"k{i}": os.urandom(1000) for i in range(1000)})  # ~1.1 MB
        cache.backup(tmp_path / "b.scb")
    small = _fast(tmp_path / "b", max_bytes=1 << 18)
    with stratacache.Cache(disk=small, default_ttl=600) as fresh:
        done = fresh.restore(tmp_path / "b.scb")
        stats = fresh.stats().disk
        assert done.applied == 1000
        assert stats.bytes <= 1 << 18
        assert 0 < stats.entries < 1000
        assert stats.evictions > 0
        assert fresh.get("k999") is not None  # the newest writes stay


def test_backup_of_another_tier_is_refused(
    disks: Any, redis_clean_url: str, tmp_path: Path
) -> None:
    cache = disks("a")
    cache.set("x", 1)
    cache.backup(tmp_path / "disk.scb")
    with stratacache.Cache(redis=redis_clean_url) as tiered:
        with pytest.raises(BackupError, match="on disk; this cache uses"):
            tiered.restore(tmp_path / "disk.scb")
        tiered.set("y", 2)
        tiered.backup(tmp_path / "redis.scb")
    with pytest.raises(BackupError, match="on redis; this cache uses"):
        cache.restore(tmp_path / "redis.scb")
    with pytest.raises(BackupError, match="another tier"):
        cache.backup(tmp_path / "inc.scb", incremental_from=tmp_path / "redis.scb")


def test_scan_batches_resume_and_bound(tmp_path: Path) -> None:
    store = stratacache._core.DiskStore(str(tmp_path), 1 << 24, "none")
    for i in range(50):
        store.set(f"a\x1f{i:02d}", b"x" * 100, 600)
        store.set(f"b\x1f{i:02d}", b"y" * 100, 600)
    store.set("a\x1fdead", b"z", 0.05)
    time.sleep(0.1)
    seen, after, calls, done = [], b"", 0, False
    while not done and calls < 100:
        batch, after, done = store.scan("a\x1f", after, 7, 1 << 20)
        calls += 1
        assert len(batch) <= 7
        seen += [k for k, _, _, _ in batch]
    assert seen == [f"a\x1f{i:02d}".encode() for i in range(50)]  # no expired, no b
    assert calls == 8
    batch, _, _ = store.scan("", b"", 100, 250)  # the byte bound: at least one entry
    assert len(batch) == 3
    top = store.sequence()
    store.set("b\x1f07", b"new", 600)
    changed, seq, done, floor = store.changes_since(top, 10, 1 << 20)
    assert [(w, k, e) for w, k, e, _, _ in changed] == [("w", b"b\x1f07", b"new")]
    assert (seq, done, floor) == (top + 1, True, 0)
    assert store.put_many([(b"c\x1f1", b"c", 0), (b"c\x1f2", b"c", 1)]) == 1  # expired: skipped
    assert store.get("c\x1f1") == (b"c", math.inf)
    with pytest.raises(ConfigError, match=r"1\.\.511 bytes"):
        store.put_many([(b"", b"c", 0)])


def test_position_round_trip() -> None:
    assert disk_tier.parse_position(disk_tier.position(42)) == 42
    with pytest.raises(BackupError, match="not a disk tier's position"):
        disk_tier.parse_position("1700000000000-0")


def test_restore_while_another_process_reads(tmp_path: Path) -> None:
    from .test_live import _child, _line, _stop  # noqa: PLC0415 - the live tests' helpers

    n = 10_000
    with stratacache.Cache(disk=_fast(tmp_path / "d"), default_ttl=600) as cache:
        cache.set_many({f"k{i}": f"new-{i}" for i in range(n)})
        cache.backup(tmp_path / "b.scb")
        cache.set_many({f"k{i}": f"old-{i}" for i in range(n)})  # the live data, overwritten
        reader = _child(str(tmp_path / "d"), "disk-read", str(n), "120")
        try:
            assert _line(reader) == "ready"
            done = cache.restore(tmp_path / "b.scb")
            assert done.applied == n
            assert reader.stdin is not None
            time.sleep(0.2)  # a last pass that sees the restored values
            reader.stdin.write("stop\n")
            reader.stdin.flush()
            counts = json.loads(_line(reader))
        finally:
            _stop(reader)
        assert counts["reads"] > n
        assert counts["errors"] == counts["wrong"] == counts["missing"] == 0
        assert counts["new"] > 0
        assert cache.get_many([f"k{i}" for i in range(n)]) == {
            f"k{i}": f"new-{i}" for i in range(n)
        }


def test_cli_backup_and_restore_of_a_disk_tier(tmp_path: Path) -> None:
    from .test_cli import _run  # noqa: PLC0415 - the CLI tests' runner

    key = os.urandom(32)
    (tmp_path / "key").write_text(key.hex())
    codec = stratacache.Codec(encryption_keys=key)
    with stratacache.Cache(disk=_fast(tmp_path / "a"), codec=codec, default_ttl=600) as cache:
        cache.set_many({f"k{i}": i for i in range(1500)})
    path = tmp_path / "cli.scb"
    key_args = ("--encryption-key-file", str(tmp_path / "key"))
    done = _run("backup", "--disk", str(tmp_path / "a"), *key_args, str(path))
    assert done.returncode == 0, done.stderr
    assert "full backup" in done.stdout
    assert "1500 values" in done.stdout

    done = _run("restore", "--disk", str(tmp_path / "b"), str(path))  # no key
    assert done.returncode == 1
    assert "sealed with another key" in done.stderr
    assert "nothing was restored" in done.stderr
    done = _run("restore", "--disk", str(tmp_path / "b"), "--at", "0", *key_args, str(path))
    assert done.returncode == 1
    assert "at= needs a change log" in done.stderr
    done = _run("restore", "--disk", str(tmp_path / "b"), *key_args, str(path))
    assert done.returncode == 0, done.stderr
    assert "restored 1500 of 1500 records" in done.stdout
    with stratacache.Cache(disk=tmp_path / "b", codec=codec) as fresh:
        assert fresh.get_many([f"k{i}" for i in range(1500)]) == {f"k{i}": i for i in range(1500)}
    done = _run("backup", str(path))
    assert done.returncode == 2  # argparse: one of --redis / --disk is required
    assert "--redis" in done.stderr


def busy_store(store: Any, act: Callable[[], Any]) -> Any:
    """`store`, whose second `scan` call runs `act` first (a change behind the cursor)."""

    class Busy:
        def __init__(self) -> None:
            self.calls = 0

        def __getattr__(self, name: str) -> Any:
            return getattr(store, name)

        def scan(self, *args: Any) -> Any:
            self.calls += 1
            if self.calls == 2:
                act()
            return store.scan(*args)

    return Busy()


def test_writes_during_the_scan_are_in_the_full_backup(disks: Any, tmp_path: Path) -> None:
    cache = disks("a")
    cache.set_many({f"k{i:04d}": i for i in range(3000)})
    # Another writer lands behind the scan's cursor after its first batch.
    busy = busy_store(cache._disk.store, lambda: cache.set("k0000", "rewritten during the scan"))
    info = stratacache.backup.backup(disk_tier.DiskSource(busy), tmp_path / "b.scb")
    assert (info.values, info.changes) == (3000, 1)
    fresh = disks("b")
    fresh.restore(tmp_path / "b.scb")
    assert fresh.get("k0000") == "rewritten during the scan"
    assert fresh.get("k2999") == 2999
