"""A separate process for the live-restore tests (run as a script, never collected).

``child.py URL read N SECONDS``: reads keys k0..k<N-1> in batches until a line arrives on
stdin or SECONDS pass; every value must be ``old-<i>`` or ``new-<i>``; prints JSON counts.
``child.py URL l1``: holds key x in its L1 and answers ``get`` lines with the value it sees.
``child.py DIR disk-read N SECONDS``: as ``read``, from the disk tier in DIR, every read from
the store itself (no L1 between).
"""

from __future__ import annotations

import json
import select
import sys
import time

import stratacache


def _say(value: object) -> None:
    sys.stdout.write(f"{value}\n")
    sys.stdout.flush()


def _read(url: str, n: int, seconds: float) -> None:
    counts = {"reads": 0, "errors": 0, "wrong": 0, "new": 0}
    keys = [f"k{i}" for i in range(n)]
    with stratacache.Cache(redis=url, l1=False) as cache:
        _say("ready")
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not select.select([sys.stdin], [], [], 0)[0]:
            for start in range(0, n, 100):
                try:
                    found = cache.get_many(keys[start : start + 100])
                except Exception:  # noqa: BLE001 - counted: the test asserts there are none
                    counts["errors"] += 1
                    continue
                for key, value in found.items():
                    counts["reads"] += 1
                    if value == "new-" + key[1:]:
                        counts["new"] += 1
                    elif value != "old-" + key[1:]:
                        counts["wrong"] += 1
        l2 = cache.stats().l2
        assert l2 is not None
        counts["errors"] += l2.errors + l2.corrupt + l2.skipped_reads
    _say(json.dumps(counts))


def _disk_read(path: str, n: int, seconds: float) -> None:
    from stratacache.tiers.chain import MISS  # noqa: PLC0415 - only this mode needs them
    from stratacache.tiers.disk.tier import DiskTier  # noqa: PLC0415

    counts = {"reads": 0, "errors": 0, "wrong": 0, "new": 0, "missing": 0}
    keys = [f"k{i}" for i in range(n)]
    tier = DiskTier(stratacache.DiskOptions(path), stratacache.Codec())
    _say("ready")
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not select.select([sys.stdin], [], [], 0)[0]:
        for start in range(0, n, 100):
            try:
                found = tier.read_many("", keys[start : start + 100])
            except Exception:  # noqa: BLE001 - counted: the test asserts there are none
                counts["errors"] += 1
                continue
            for key, (value, _) in zip(keys[start : start + 100], found, strict=True):
                counts["reads"] += 1
                if value is MISS:
                    counts["missing"] += 1
                elif value == "new-" + key[1:]:
                    counts["new"] += 1
                elif value != "old-" + key[1:]:
                    counts["wrong"] += 1
    counts["errors"] += tier.stats()["corrupt"]
    _say(json.dumps(counts))


def _l1(url: str) -> None:
    with stratacache.Cache(redis=url, default_ttl=600) as cache:
        _say(cache.get("x"))
        for line in sys.stdin:
            if line.strip() != "get":
                break
            _say(cache.get("x"))


if __name__ == "__main__":
    if sys.argv[2] == "read":
        _read(sys.argv[1], int(sys.argv[3]), float(sys.argv[4]))
    elif sys.argv[2] == "disk-read":
        _disk_read(sys.argv[1], int(sys.argv[3]), float(sys.argv[4]))
    else:
        _l1(sys.argv[1])
