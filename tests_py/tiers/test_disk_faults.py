"""The disk tier's bad inputs: a damaged or truncated store file, a full disk, a read-only
directory. Each is a clear error at construction or a counted miss/rejection later, never a
crash, and never lost data elsewhere. The mounts need root (skipped otherwise)."""

from __future__ import annotations

import gc
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

import stratacache
from stratacache import Cache, ConfigError, DiskError, DiskOptions

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root")


def mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True, capture_output=True, timeout=30)


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB tmpfs: a disk that fills up."""
    where = tmp_path / "small"
    where.mkdir()
    mount("-t", "tmpfs", "-o", "size=2m", "tmpfs", str(where))
    try:
        yield where
    finally:
        gc.collect()  # the caches' stores map files there
        subprocess.run(["umount", "-l", str(where)], check=True, timeout=30)


def test_a_garbage_store_file_is_a_clear_error(tmp_path: Path) -> None:
    opts = DiskOptions(tmp_path / "d")
    (opts.path / "data.mdb").write_bytes(b"\x00garbage" * 4096)
    with pytest.raises(DiskError, match="damaged or not an LMDB file"):
        Cache(disk=opts)


def test_a_truncated_store_file_is_a_clear_error(tmp_path: Path) -> None:
    opts = DiskOptions(tmp_path / "d", durability="sync")
    cache = Cache(disk=opts)
    for i in range(300):
        cache.set(f"k{i}", b"v" * 3000)
    del cache
    data = opts.path / "data.mdb"
    with data.open("r+b") as f:
        f.truncate(data.stat().st_size // 3)
    with pytest.raises(DiskError, match="truncated"):
        Cache(disk=opts)


def test_a_damaged_envelope_is_a_counted_miss_not_an_error(tmp_path: Path) -> None:
    opts = DiskOptions(tmp_path / "d")
    Cache(disk=opts).set("k", "value")
    cache = Cache(disk=opts)
    full, _ttl = cache._disk.store.get("\x1fk")
    cache._disk.store.set("\x1fk", full[: len(full) // 2], 60.0)  # a truncated envelope
    assert cache.get("k", "miss") == "miss"
    assert cache.stats().disk.corrupt == 1  # type: ignore[union-attr]


@needs_root
def test_a_full_disk_rejects_writes_and_keeps_what_it_holds(small_fs: Path) -> None:
    cache = Cache(disk=DiskOptions(small_fs / "d", max_bytes=64 << 20, durability="sync"))
    cache.set("first", "kept")
    for i in range(400):  # 400 x 10 KB > 2 MiB: the file system fills
        cache.set(f"k{i}", os.urandom(10_000))
    stats = cache.stats().disk
    assert stats is not None
    assert stats.rejected > 0
    assert cache.get("k399") is not None  # L1 still holds what the disk refused
    reader = Cache(disk=DiskOptions(small_fs / "d", max_bytes=64 << 20))
    got = [reader.get(f"k{i}") for i in range(400)]
    assert all(v is None or len(v) == 10_000 for v in got)  # nothing half-written


@needs_root
def test_a_read_only_directory_is_refused_at_construction(tmp_path: Path) -> None:
    opts = DiskOptions(tmp_path / "d")
    Cache(disk=opts).set("k", 1)
    ro = tmp_path / "ro"
    ro.mkdir()
    mount("--bind", str(opts.path), str(ro))
    try:
        mount("-o", "remount,bind,ro", str(ro))
        with pytest.raises(ConfigError, match="not writable"):
            DiskOptions(ro)
    finally:
        subprocess.run(["umount", "-l", str(ro)], check=True, timeout=30)
    assert Cache(disk=opts).get("k") == 1  # the data behind the mount is untouched


@needs_root
def test_an_unwritable_new_directory_is_refused(tmp_path: Path) -> None:
    ro = tmp_path / "ro"
    ro.mkdir()
    mount("-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(ro))
    try:
        with pytest.raises(ConfigError, match=r"not writable|cannot be created"):
            DiskOptions(ro / "sub")
        with pytest.raises(ConfigError, match="not writable"):
            DiskOptions(ro)
    finally:
        subprocess.run(["umount", "-l", str(ro)], check=True, timeout=30)


def test_disk_error_is_exported_and_an_oserror() -> None:
    assert issubclass(stratacache.DiskError, OSError)
    assert issubclass(stratacache.DiskError, stratacache.StratacacheError)
