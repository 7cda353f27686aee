"""Issue 14: incremental backups of the disk tier carry what was removed since their base
(deletes, evictions, cleared namespaces, pattern invalidations) from the store's bounded
removal log (`cpp/disk/tomb_log.hpp`); a base older than the log's start is refused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import stratacache
from stratacache import BackupError
from stratacache.backup import disk_tier

from .test_disk import busy_store


@pytest.fixture
def disks(tmp_path: Path) -> Iterator[Any]:
    made: list[Any] = []

    def make(name: str, max_bytes: int = 1 << 26) -> Any:
        options = stratacache.DiskOptions(tmp_path / name, max_bytes=max_bytes, durability="none")
        cache = stratacache.Cache(disk=options, default_ttl=600)
        made.append(cache)
        return cache

    yield make
    for cache in made:
        cache.close()


def in_ns(cache: Any, namespace: str, key: str, value: Any) -> None:
    cache._driver.write(namespace, key, value, 600)


def on_disk(cache: Any, namespace: str, key: str) -> bool:
    return cache._disk.remaining(namespace, key) is not None


def test_an_incremental_carries_deletes_clears_and_patterns(disks: Any, tmp_path: Path) -> None:
    cache = disks("a")
    cache.set_many({f"k{i}": i for i in range(100)})
    for i in range(10):
        in_ns(cache, "users", f"u{i}", i)
        in_ns(cache, "orders", f"o{i}", i)
    cache.backup(tmp_path / "full.scb")
    assert cache.delete_many([f"k{i}" for i in range(0, 100, 10)]) == 10
    cache._disk.clear("users")  # a namespace cleared
    assert cache.invalidate_pattern("k1?") == 9  # k10 is already gone
    cache.set("k0", "written again after its delete")
    inc = cache.backup(tmp_path / "inc.scb", incremental_from=tmp_path / "full.scb")
    assert inc.changes >= 10 + 1 + 9 + 1

    fresh = disks("b")
    fresh.restore(tmp_path / "inc.scb")  # the full backup, then the increment
    want = {f"k{i}" for i in range(100) if i % 10 and not 10 <= i < 20} | {"k0"}
    assert {k for k in (f"k{i}" for i in range(100)) if on_disk(fresh, "", k)} == want
    assert fresh.get("k0") == "written again after its delete"
    assert not any(on_disk(fresh, "users", f"u{i}") for i in range(10))
    assert all(on_disk(fresh, "orders", f"o{i}") for i in range(10))


def test_evictions_since_the_base_are_not_revived(disks: Any, tmp_path: Path) -> None:
    cache = disks("a", max_bytes=1 << 18)
    cache.set_many({f"old{i}": "x" * 1000 for i in range(100)})
    cache.backup(tmp_path / "full.scb")
    cache.set_many({f"new{i}": "y" * 1000 for i in range(200)})  # evicts the old ones
    assert cache.stats().disk.evictions > 0
    kept = {k for k in (f"old{i}" for i in range(100)) if on_disk(cache, "", k)}
    cache.backup(tmp_path / "inc.scb", incremental_from=tmp_path / "full.scb")
    fresh = disks("b")
    fresh.restore(tmp_path / "inc.scb")
    assert {k for k in (f"old{i}" for i in range(100)) if on_disk(fresh, "", k)} == kept


def test_a_base_older_than_the_removal_log_is_refused(disks: Any, tmp_path: Path) -> None:
    cache = disks("a", max_bytes=1 << 16)  # the log's smallest bound: 64 KiB
    cache.set("keep", 1)
    cache.backup(tmp_path / "full.scb")
    for round_ in range(30):  # ~100 B of log per delete: far past the bound
        keys = [f"key-{round_}-{i:04d}-padding-padding-padding" for i in range(100)]
        cache._disk.store.delete(keys)  # deletes of absent keys are not logged ...
        cache.set_many(dict.fromkeys(keys, 0))
        cache.delete_many(keys)  # ... of present ones, they are
    _, _, _, floor = cache._disk.store.changes_since(0, 1, 1)
    assert floor > 0
    with pytest.raises(BackupError, match="removal log was trimmed past the base"):
        cache.backup(tmp_path / "inc.scb", incremental_from=tmp_path / "full.scb")
    assert not (tmp_path / "inc.scb").exists()
    full = cache.backup(tmp_path / "full2.scb")  # a full backup still works
    assert full.values == 1
    cache.delete("keep")
    inc = cache.backup(tmp_path / "inc2.scb", incremental_from=tmp_path / "full2.scb")
    assert inc.changes == 1  # and increments from it


def test_the_store_logs_removals_in_sequence_order(tmp_path: Path) -> None:
    store = stratacache._core.DiskStore(str(tmp_path), 1 << 20, "none")
    assert store.changes_since(0, 100, 1 << 20) == ([], 0, True, 0)
    store.set("a\x1f1", b"1", 600)
    store.set("a\x1f2", b"2", 600)
    store.delete(["a\x1f1", "a\x1fabsent"])
    store.delete_prefix("a\x1f")
    store.set("a\x1f1", b"again", 600)
    changes, seq, done, floor = store.changes_since(0, 100, 1 << 20)
    assert [(kind, key, data) for kind, key, data, _, _ in changes] == [
        ("k", b"a\x1f1", b""),  # seq 3 (the write of a/2 at 2 was removed by the prefix)
        ("p", b"a\x1f", b""),
        ("w", b"a\x1f1", b"again"),
    ]
    assert [s for *_, s in changes] == [3, 4, 5]  # a/2's removal is the prefix's
    assert (seq, done, floor) == (5, True, 0)
    first, seq, done, _ = store.changes_since(0, 1, 1 << 20)  # one per call: resumable
    assert (len(first), seq, done) == (1, 3, False)


def test_a_full_backup_carries_the_deletes_made_during_its_scan(disks: Any, tmp_path: Path) -> None:
    cache = disks("a")
    cache.set_many({f"k{i:04d}": i for i in range(3000)})
    # Another process deletes a key the scan has already passed.
    busy = busy_store(cache._disk.store, lambda: cache.delete("k0000"))
    info = stratacache.backup.backup(disk_tier.DiskSource(busy), tmp_path / "b.scb")
    assert (info.values, info.changes) == (3000, 1)
    fresh = disks("b")
    fresh.restore(tmp_path / "b.scb")
    assert fresh.get("k0000") is None
    assert fresh.get("k2999") == 2999


def test_a_restored_namespace_clear_drops_this_process_l1(disks: Any, tmp_path: Path) -> None:
    cache = disks("a")
    in_ns(cache, "users", "u", "before")
    cache.backup(tmp_path / "full.scb")
    cache._disk.clear("users")
    cache.backup(tmp_path / "inc.scb", incremental_from=tmp_path / "full.scb")
    target = disks("b")
    target.restore(tmp_path / "full.scb")
    target._local.fill("users", "u", "before", 600)  # read once: in its L1 too
    assert target._local.store.contains("users\x1f", "u")
    target.restore(tmp_path / "inc.scb")
    assert not on_disk(target, "users", "u")
    assert not target._local.store.contains("users\x1f", "u")


def test_a_disk_under_a_key_prefix_backs_up_namespaces_and_drops_l1(
    tmp_path: Path, redis_clean_url: str
) -> None:
    """With Redis, the disk's keys start with the key prefix ("sc:"): a namespace filter and
    the L1 drops of a restore look behind it."""
    with stratacache.Cache(redis=redis_clean_url, disk=tmp_path / "a", default_ttl=600) as a:
        a.set("x", "backed up")
        assert a._disk.root == "sc:"
        assert a.backup(tmp_path / "b.scb", namespaces=[a.namespace]).values == 1
        assert a.backup(tmp_path / "none.scb", namespaces=["other"]).values == 0
        a.set("x", "newer")  # in L1 and on disk
        assert a._local.store.contains(a._prefix, "x")
        a.restore(tmp_path / "b.scb")
        assert not a._local.store.contains(a._prefix, "x")
