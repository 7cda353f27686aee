"""Restores into a live Redis: readers in another process keep working, and other processes'
L1 copies of what a restore overwrites are dropped."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import stratacache

CHILD = Path(__file__).with_name("child.py")


def _child(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(CHILD), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def _line(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None
    return proc.stdout.readline().strip()


def _stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=10)
    for pipe in (proc.stdin, proc.stdout):
        if pipe is not None:
            pipe.close()


def test_restore_under_load_leaves_readers_working(redis_clean_url: str, tmp_path: Path) -> None:
    n = 20_000
    with stratacache.Cache(redis=redis_clean_url, default_ttl=600, l1=False) as cache:
        cache.set_many({f"k{i}": f"new-{i}" for i in range(n)})
        cache.backup(tmp_path / "b.scb")
        cache.set_many({f"k{i}": f"old-{i}" for i in range(n)})  # the live data, overwritten
        reader = _child(redis_clean_url, "read", str(n), "120")
        try:
            assert _line(reader) == "ready"
            done = cache.restore(tmp_path / "b.scb")
            assert done.applied == n
            assert reader.stdin is not None
            reader.stdin.write("stop\n")
            reader.stdin.flush()
            counts = json.loads(_line(reader))
        finally:
            _stop(reader)
        assert counts["reads"] > 0
        assert counts["errors"] == 0
        assert counts["wrong"] == 0
        assert cache.get_many([f"k{i}" for i in range(n)]) == {
            f"k{i}": f"new-{i}" for i in range(n)
        }


def test_restore_drops_other_processes_l1(redis_clean_url: str, tmp_path: Path) -> None:
    with stratacache.Cache(redis=redis_clean_url, default_ttl=600) as cache:
        cache.set("x", "new")
        cache.backup(tmp_path / "b.scb")
        cache.set("x", "old")
        holder = _child(redis_clean_url, "l1")
        try:
            assert _line(holder) == "old"  # now in the child's L1
            quiet = stratacache.RedisOptions(coherence=None)
            with stratacache.Cache(redis=redis_clean_url, redis_options=quiet) as sneaky:
                sneaky.set("x", "unannounced")  # Redis changes, no message: L1 still serves old
            assert holder.stdin is not None
            holder.stdin.write("get\n")
            holder.stdin.flush()
            assert _line(holder) == "old"

            cache.restore(tmp_path / "b.scb")
            seen = "old"
            for _ in range(100):  # the message is asynchronous: bounded polling
                holder.stdin.write("get\n")
                holder.stdin.flush()
                seen = _line(holder)
                if seen != "old":
                    break
            assert seen == "new"
            holder.stdin.write("end\n")
            holder.stdin.flush()
        finally:
            _stop(holder)
        assert cache.get("x") == "new"  # this process's L1 too
