"""Issue 14: a worker killed without `close()` leaves a heartbeat that looks live for
`gap.FRESH` seconds; it names its process (`tiers/disk/process.py`), so the next start treats
it as ended and does not keep a disk that missed a delete. Real child processes, kill -9."""

from __future__ import annotations

import os
import select
import signal
import struct
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import stratacache
from stratacache.tiers.disk import gap, process
from stratacache.tiers.disk.options import DiskOptions
from stratacache.tiers.disk.tier import DiskTier

CHILD = str(Path(__file__).with_name("disk_child.py"))


def start_child(directory: Path, url: str) -> subprocess.Popen[str]:
    """A worker (`disk_child.py beat`) that is coherent, has set "k" and has beaten once."""
    proc = subprocess.Popen(
        [sys.executable, CHILD, "beat", str(directory), url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], 60)
    line = proc.stdout.readline() if ready else ""
    if line.strip() != "ready":
        proc.kill()
        _, err = proc.communicate(timeout=30)
        msg = f"the child did not get ready: {line!r} {err}"
        raise AssertionError(msg)
    return proc


def heartbeats(directory: Path) -> list[tuple[float, bool]]:
    """The host's records as a new process reads them (the cache's key prefix is the root)."""
    tier = DiskTier(DiskOptions(directory), codec=None, root="sc:")
    return gap.Heartbeat(tier).records()


def test_a_killed_workers_heartbeat_counts_as_ended_and_the_next_start_clears(
    tmp_path: Path, redis_clean_url: str, wait_until: Callable[..., bool]
) -> None:
    other = stratacache.Cache(redis=redis_clean_url, disk=tmp_path / "elsewhere", default_ttl=60)
    assert wait_until(lambda: other._stats().l2.coherent, timeout=10)
    try:
        directory = tmp_path / "d"
        child = start_child(directory, redis_clean_url)
        try:
            [(_, ended)] = heartbeats(directory)
            assert not ended  # a running worker's record is live
            os.kill(child.pid, signal.SIGKILL)
        finally:
            child.kill()
            child.communicate(timeout=30)
        assert other.delete("k") is True  # another host deletes k: nobody here hears it
        [(at, ended)] = heartbeats(directory)
        # By its time alone the record still looks live; by its process it is ended.
        assert time.time() - at < gap.FRESH, "the machine is too slow for this check"
        assert ended
        back = stratacache.Cache(redis=redis_clean_url, disk=directory, default_ttl=60)
        try:
            assert wait_until(lambda: back._stats().l2.coherent, timeout=10)
            assert back._disk.remaining(back.namespace, "k") is None  # cleared before serving
            assert back.get("k") is None
        finally:
            back.close()
    finally:
        other.close()


def test_a_live_workers_record_stays_live_while_it_beats(
    tmp_path: Path, redis_clean_url: str, wait_until: Callable[..., bool]
) -> None:
    directory = tmp_path / "d"
    child = start_child(directory, redis_clean_url)
    try:
        back = stratacache.Cache(redis=redis_clean_url, disk=directory, default_ttl=60)
        try:
            assert wait_until(lambda: back._stats().l2.coherent, timeout=10)
            # Kept: the running worker's subscriber covered the time since its start.
            assert back._disk.remaining(back.namespace, "k") is not None
            assert back.get("k") == "old"
        finally:
            back.close()
    finally:
        child.kill()
        child.communicate(timeout=30)


def test_a_pid_taken_by_another_process_is_not_alive() -> None:
    pid, start, namespace = me = process.identity()
    if not pid:  # no /proc: records go by time, as before
        assert process.alive(me) is None
        return
    assert process.alive(me) is True
    assert process.alive((pid, start + 1, namespace)) is False  # a reused pid
    assert process.alive((pid, start, namespace + 1)) is None  # another pid namespace
    assert process.alive((0, 0, 0)) is None  # a record that names no process
    zombie = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 30
    gone = (zombie.pid, *process.identity()[1:])
    while time.monotonic() < deadline:  # exited, not yet reaped: a zombie is not alive
        stat = Path(f"/proc/{zombie.pid}/stat").read_text()
        if stat[stat.rfind(")") + 2] == "Z":
            break
        time.sleep(0.01)
    assert process.alive((zombie.pid, _start_of(zombie.pid), gone[2])) is False
    zombie.wait(timeout=30)
    assert process.alive((zombie.pid, 1, gone[2])) is False  # reaped: no entry


def _start_of(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat[stat.rfind(")") + 2 :].split()[19])


def test_records_of_an_older_version_are_judged_by_time(tmp_path: Path) -> None:
    tier = DiskTier(DiskOptions(tmp_path / "d"), codec=None, root="sc:")
    key = "\x1fstratacache\x1fbeat\x1fsc:\x1fold-worker"
    now = time.time()
    tier.store.set(key, struct.pack("<d?", now, False), 60.0)  # no pid: cannot be checked
    tier.store.set(key + "2", b"\x00" * 5, 60.0)  # no record at all: skipped
    records: list[Any] = gap.Heartbeat(tier).records()
    assert records == [(now, False)]
