"""The disk tier with real processes: four sharing one directory, kill -9 in the middle of
writes (the store reopens, serves no corrupt value, and with durability="sync" keeps every
acknowledged write; the byte bound holds), and a warm restart served from disk at once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import stratacache

CHILD = str(Path(__file__).with_name("disk_child.py"))
_TIMEOUT = 120


def spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, CHILD, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def finish(proc: subprocess.Popen[str]) -> dict[str, object]:
    out, err = proc.communicate(timeout=_TIMEOUT)
    assert proc.returncode == 0, err
    result: dict[str, object] = json.loads(out)
    return result


def acked(path: Path) -> list[str]:
    return path.read_text().split() if path.exists() else []


def wait_acks(path: Path, proc: subprocess.Popen[str], at_least: int) -> None:
    deadline = time.monotonic() + 60
    while len(acked(path)) < at_least and time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        time.sleep(0.02)
    assert len(acked(path)) >= at_least


def kill(proc: subprocess.Popen[str]) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=_TIMEOUT)  # reaps it and closes its pipes


def test_four_processes_write_and_read_one_directory(tmp_path: Path) -> None:
    disk = tmp_path / "disk"  # not created: the four race to create and mark it
    prefixes = ["p0-", "p1-", "p2-", "p3-"]
    procs = [
        spawn("mixed", str(disk), p, "300", ",".join(q for q in prefixes if q != p))
        for p in prefixes
    ]
    results = [finish(p) for p in procs]
    assert all(r["bad"] == [] for r in results)
    for p in prefixes:  # every write of every process is there, intact, for a fifth one
        r = finish(spawn("read", str(disk), p, "300", "200"))
        assert r == {"found": 300, "bad": [], "disk_hits": 300}


def test_kill_9_keeps_every_acknowledged_sync_write(tmp_path: Path) -> None:
    disk, acks = tmp_path / "disk", tmp_path / "acks"
    stratacache.DiskOptions(disk)
    proc = spawn("write", str(disk), "k", "0", "sync", str(acks), str(1 << 24))
    wait_acks(acks, proc, 100)
    kill(proc)
    written = acked(acks)
    r = finish(spawn("read", str(disk), "k", str(len(written) + 5), "1000"))
    assert r["bad"] == []
    # Every acknowledged write is there; at most the one in flight beyond them.
    assert len(written) <= int(r["found"]) <= len(written) + 1  # type: ignore[call-overload]
    cache = stratacache.Cache(disk=disk)
    for key in written:
        assert cache.get(key) is not None
    assert cache.stats().disk.corrupt == 0  # type: ignore[union-attr]


def test_kill_9_leaves_the_store_bounded_and_uncorrupted(tmp_path: Path) -> None:
    disk, acks, bound = tmp_path / "disk", tmp_path / "acks", 1 << 18
    stratacache.DiskOptions(disk)
    proc = spawn("write", str(disk), "k", "0", "none", str(acks), str(bound))
    wait_acks(acks, proc, 1500)  # far more than the bound holds: eviction was running
    kill(proc)
    n = len(acked(acks))
    r = finish(spawn("read", str(disk), "k", str(n + 5), "1000"))
    assert r["bad"] == []
    assert 0 < int(r["found"]) < n  # type: ignore[call-overload]
    cache = stratacache.Cache(disk=stratacache.DiskOptions(disk, max_bytes=bound))
    stats = cache.stats().disk
    assert stats is not None
    assert stats.bytes <= bound
    assert stats.entries * 1000 <= bound
    cache.set("after", "the crash")  # writable again: the dead writer's lock was recovered
    assert stratacache.Cache(disk=disk).get("after") == "the crash"


def test_a_restarted_process_serves_from_disk_at_once(tmp_path: Path) -> None:
    disk, acks = tmp_path / "disk", tmp_path / "acks"
    stratacache.DiskOptions(disk)
    proc = spawn("write", str(disk), "w", "50", "flush", str(acks), str(1 << 24))
    proc.communicate(timeout=_TIMEOUT)
    assert proc.returncode == 0
    r = finish(spawn("read", str(disk), "w", "50", "1000"))
    assert r == {"found": 50, "bad": [], "disk_hits": 50}


def test_a_forked_child_uses_the_store_its_parent_opened(tmp_path: Path) -> None:
    cache = stratacache.Cache(disk=tmp_path / "disk")
    cache.set("parent", "before the fork")
    pid = os.fork()
    if pid == 0:  # the child: its own LMDB environment, opened at the fork
        code = 1
        try:
            child = stratacache.Cache(disk=tmp_path / "disk")
            if child.get("parent") == "before the fork":
                cache.set("child", "from the child")
                code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert stratacache.Cache(disk=tmp_path / "disk").get("child") == "from the child"
    cache.set("parent", "after the fork")  # the parent's environment was left alone
    assert stratacache.Cache(disk=tmp_path / "disk").get("parent") == "after the fork"
