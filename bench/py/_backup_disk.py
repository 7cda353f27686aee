"""The disk-tier cases of bench_backup.py: ``Cache.backup`` / ``Cache.restore`` of a disk tier
against ``mdb_dump`` / ``mdb_load`` (lmdb-utils: text dumps) and a raw copy of the records
with py-lmdb (`_raw_lmdb.py`) on the same store; a peer whose tool is missing is left out."""

from __future__ import annotations

import gc
import importlib.util
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from _harness import Case, Options, run_case

import stratacache

RAW = [sys.executable, str(Path(__file__).with_name("_raw_lmdb.py"))]


def _fill(path: Path, n: int, size: int) -> tuple[Any, int]:
    """A cache over a new store of n entries of `size` random bytes (one hour TTL); the
    envelopes' total bytes."""
    options = stratacache.DiskOptions(path, max_bytes=4 << 30, durability="none")
    cache = stratacache.Cache(disk=options, default_ttl=3600, max_entries=1000)
    for start in range(0, n, 1000):
        cache.set_many({f"user:{i}": os.urandom(size) for i in range(start, min(n, start + 1000))})
    store, after, total = cache._disk.store, b"", 0
    while True:
        batch, after, done = store.scan("", after, 1000, 8 << 20)
        total += sum(len(e) for _, e, _, _ in batch)
        if done:
            return cache, total


def _timed(fn: Any) -> int:
    t0 = time.perf_counter_ns()
    fn()
    return time.perf_counter_ns() - t0


class _Fresh:
    """Empty directories for the restores, one per run (removed after the next run)."""

    def __init__(self, root: Path) -> None:
        self.root, self.count = root, 0

    def __call__(self) -> Path:
        self.count += 1
        old = self.root / f"r{self.count - 2}"
        if old.exists():
            shutil.rmtree(old)
        return self.root / f"r{self.count}"


def _run(cmd: list[str]) -> int:
    return _timed(lambda: subprocess.run(cmd, check=True, capture_output=True))


class _Files:
    """Where each contender's backup of one store goes."""

    def __init__(self, root: Path) -> None:
        self.source = root / "source"
        self.ours, self.dump, self.raw = root / "b.scb", root / "entries.dump", root / "raw"

    def of(self, impl: str) -> Path:
        return self.ours if "stratacache" in impl else self.raw if "py-lmdb" in impl else self.dump


def _backup_case(cache: Any, files: _Files, n: int, params: dict[str, Any]) -> Case:
    case = Case(f"disk-backup-{params['value_bytes']}B", n, params=params)
    case.add(
        "stratacache Cache.backup", lambda: _timed(lambda: cache.backup(files.ours)), ours=True
    )
    mdb_dump = shutil.which("mdb_dump")
    if mdb_dump:
        dump = [mdb_dump, "-s", "entries", "-f", str(files.dump), str(files.source)]
        case.add("mdb_dump -s entries (ceiling)", lambda: _run(dump))
    if importlib.util.find_spec("lmdb") is not None:
        raw = [*RAW, "dump", str(files.source), str(files.raw)]
        case.add("py-lmdb raw copy (ceiling)", lambda: _run(raw))
    return case


def _restore_case(root: Path, files: _Files, n: int, params: dict[str, Any]) -> Case:
    fresh = _Fresh(root)

    def ours() -> int:
        target = stratacache.Cache(disk=stratacache.DiskOptions(fresh(), max_bytes=4 << 30))
        t0 = time.perf_counter_ns()
        target.restore(files.ours)
        elapsed = time.perf_counter_ns() - t0
        target.close()
        del target
        gc.collect()  # the store closes with its last reference
        return elapsed

    def mdb_load(tool: str) -> int:
        target = fresh()
        target.mkdir()
        return _run([tool, "-s", "entries", "-f", str(files.dump), str(target)])

    case = Case(f"disk-restore-{params['value_bytes']}B", n, params=params)
    case.add("stratacache Cache.restore", ours, ours=True)
    tool = shutil.which("mdb_load")
    if tool and files.dump.exists():
        case.add("mdb_load -s entries (ceiling)", lambda: mdb_load(tool))
    if files.raw.exists():
        case.add(
            "py-lmdb raw load (ceiling)", lambda: _run([*RAW, "load", str(files.raw), str(fresh())])
        )
    return case


def disk_cases(opts: Options, size: int, workdir: Path) -> list[dict[str, Any]]:
    """The backup and restore cases of one value size."""
    n = max(1000, opts.n // (1 if size <= 1000 else 20))
    root = workdir / f"disk-{size}"
    root.mkdir()
    files = _Files(root)
    cache, total = _fill(files.source, n, size)
    params = {"value_bytes": size, "keys": n, "envelope_bytes": total}
    rows = run_case(_backup_case(cache, files, n, params), opts)
    cache.backup(files.ours)
    rows += run_case(_restore_case(root, files, n, {**params, "restore_durability": "flush"}), opts)
    cache.close()
    load = round(os.getloadavg()[0], 2)
    for row in rows:
        seconds = row["median_ns"] * n / 1e9
        row["ops_per_s"] = round(n / seconds, 1)
        row["params"]["mb_per_s"] = round(total / seconds / 1e6, 2)
        row["params"]["file_bytes"] = files.of(row["impl"]).stat().st_size
        row["params"]["load_avg_1m"] = load
    return rows
