"""Backup and restore throughput of a Redis tier against `redis-cli` on the same data ->
bench/results/backup.json (backup_quick.json with --quick).

One redis-server started here holds N entries written through ``Cache`` (envelopes of
random bytes, so lz4 finds nothing to compress; one hour TTL). Cases, per value size:

* ``backup-<size>``: ``Cache.backup(path)`` (per primary, one script call per SCAN step of
  1000 keys returning their values and PTTLs, fetched on a thread while the previous batch is
  written; lz4 chunks, CRC-32, fsync) against ``redis-cli --rdb`` (the server forks and
  streams its RDB snapshot: the ceiling, it does no per-key round trip);
* ``restore-<size>``: ``Cache.restore(path)`` into the flushed server (the whole file is
  verified first, then SET ... PXAT by script calls of 1000 and a coherence message each)
  against ``redis-cli --pipe`` fed the same SET ... PXAT commands as raw RESP (Redis's
  documented mass insertion, the ceiling; built beforehand, not timed).

The disk tier (``disk-*`` cases, `_backup_disk.py`): a store of N entries written through
``Cache(disk=...)``; ``Cache.backup`` against ``mdb_dump -s entries`` (lmdb-utils: LMDB's
own dump of the same database, no codec, no checksums: the ceiling), and ``Cache.restore``
into an empty directory against ``mdb_load`` of that dump into an empty directory.

Rows follow `_harness`: ``median_ns`` per key, ``ratio_vs_ours`` = peer time / ours (< 1:
the peer is faster), plus ``ops_per_s`` (keys/s), ``params.mb_per_s`` (bytes of the
envelopes per second) and ``params.load_avg_1m`` (the host's load when the case ended: the
machine is shared). ``--tier disk`` (or ``redis``) runs one tier and keeps the other's rows
of the results file.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import redis
from _backup_disk import disk_cases
from _harness import (
    RESULTS_DIR,
    Case,
    Options,
    parse_options,
    print_table,
    run_case,
    write_results,
)

import stratacache
from stratacache.testing.redis_servers import RedisServer


def _fill(url: str, n: int, size: int) -> int:
    """Writes n entries of `size` random bytes; returns the envelopes' total bytes."""
    with stratacache.Cache(redis=url, l1=False, default_ttl=3600) as cache:
        for start in range(0, n, 1000):
            cache.set_many(
                {f"user:{i}": os.urandom(size) for i in range(start, min(n, start + 1000))}
            )
    client = redis.Redis.from_url(url)
    try:
        total = 0
        for key in client.scan_iter(count=1000):
            total += int(client.strlen(key))
        return total
    finally:
        client.close()


def _resp(url: str, path: Path) -> None:
    """The SET ... PXAT commands that recreate what the server holds, as raw RESP."""
    client = redis.Redis.from_url(url)
    now_ms = int(time.time() * 1000)
    with path.open("wb") as out:
        for key in client.scan_iter(count=1000):
            data, pttl = client.get(key), client.pttl(key)
            if data is None or pttl < 0:
                continue
            parts = [b"SET", key, data, b"PXAT", str(now_ms + pttl + 600_000).encode()]
            out.write(b"*%d\r\n" % len(parts))
            for part in parts:
                out.write(b"$%d\r\n%s\r\n" % (len(part), part))
    client.close()


def _timed(fn: Any) -> int:
    t0 = time.perf_counter_ns()
    fn()
    return time.perf_counter_ns() - t0


def _cases(server: RedisServer, opts: Options, size: int, workdir: Path) -> list[dict[str, Any]]:
    n = max(1000, opts.n // (1 if size <= 1000 else 20))
    client = redis.Redis.from_url(server.url)
    client.flushall()
    total = _fill(server.url, n, size)
    cli = shutil.which("redis-cli") or "redis-cli"
    port = str(server.port)
    ours_file, rdb_file, resp_file = workdir / "b.scb", workdir / "dump.rdb", workdir / "cmds.resp"
    cache = stratacache.Cache(redis=server.url, l1=False)
    params = {"value_bytes": size, "keys": n, "envelope_bytes": total}

    backup = Case(f"backup-{size}B", n, params=params)
    backup.add(
        "stratacache Cache.backup", lambda: _timed(lambda: cache.backup(ours_file)), ours=True
    )
    rdb = [cli, "-p", port, "--rdb", str(rdb_file)]
    backup.add(
        "redis-cli --rdb (ceiling)",
        lambda: _timed(lambda: subprocess.run(rdb, check=True, capture_output=True)),
    )
    rows = run_case(backup, opts)
    cache.backup(ours_file)
    _resp(server.url, resp_file)

    def ours_restore() -> int:
        client.flushall()
        return _timed(lambda: cache.restore(ours_file))

    def pipe_restore() -> int:
        client.flushall()
        with resp_file.open("rb") as feed:
            run = lambda: subprocess.run(
                [cli, "-p", port, "--pipe"], stdin=feed, check=True, capture_output=True
            )
            return _timed(run)

    restore = Case(f"restore-{size}B", n, params=params)
    restore.add("stratacache Cache.restore", ours_restore, ours=True)
    restore.add("redis-cli --pipe SET PXAT (ceiling)", pipe_restore)
    rows += run_case(restore, opts)
    cache.close()
    client.close()
    load = round(os.getloadavg()[0], 2)
    for row in rows:
        row["params"]["load_avg_1m"] = load
        seconds = row["median_ns"] * n / 1e9
        row["ops_per_s"] = round(n / seconds, 1)
        row["params"]["mb_per_s"] = round(total / seconds / 1e6, 2)
        row["params"]["file_bytes"] = (
            (
                ours_file
                if "stratacache" in row["impl"]
                else rdb_file
                if "rdb" in row["impl"]
                else resp_file
            )
            .stat()
            .st_size
        )
    return rows


def main() -> None:
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--tier", choices=("all", "redis", "disk"), default="all")
    known, rest = pre.parse_known_args()
    opts = parse_options(__doc__ or "", rest)
    name = "backup_quick" if opts.quick else "backup"
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        if known.tier in ("all", "redis"):
            with RedisServer() as server:
                for size in (100, 10_000):
                    rows += _cases(server, opts, size, Path(tmp))
        if known.tier in ("all", "disk"):
            for size in (100, 10_000):
                rows += disk_cases(opts, size, Path(tmp))
    print_table(rows)
    for row in rows:
        print(
            f"  {row['case']:<20} {row['impl']:<40} {row['ops_per_s']:>12,.0f} keys/s "
            f"{row['params']['mb_per_s']:>8.1f} MB/s"
        )
    if known.tier != "all":  # the other tier's rows stay as they were measured
        old = RESULTS_DIR / f"{name}.json"
        kept = json.loads(old.read_text()) if old.is_file() else []
        other = [r for r in kept if r["case"].startswith("disk-") != (known.tier == "disk")]
        rows = other + rows
    path = write_results(name, rows)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
