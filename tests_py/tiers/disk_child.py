"""A child process for the disk tier's multi-process tests (run as a script, never imported
by pytest: its name does not start with test_). Modes:

  write DIR PREFIX COUNT DURABILITY ACKS MAX_BYTES   sets PREFIX0.. and appends each key to
      ACKS once set returned (an acknowledged write); COUNT 0 = until killed (bounded: 60 s)
  mixed DIR PREFIX COUNT OTHERS                      writes its keys, reads every prefix's,
      prints JSON {"read": n, "bad": [...]}
  read DIR PREFIX COUNT SIZE                         prints JSON {"found": n, "bad": [...],
      "disk_hits": h} from a fresh cache (empty L1)
  beat DIR URL                                       a coherent cache with Redis at URL sets
      "k", prints "ready" once its heartbeat is on disk, then waits to be killed (60 s)
"""

# ruff: noqa: T201, PLR0917 - a script: its results go to stdout, its arguments come from argv

from __future__ import annotations

import json
import os
import sys
import time

import stratacache


def value_of(key: str, size: int = 200) -> str:
    """The one value a key may hold: anything else read back is corruption."""
    return (key + "|") * (size // (len(key) + 1) + 1)


def cache(path: str, durability: str = "flush", max_bytes: int = 1 << 24) -> stratacache.Cache:
    return stratacache.Cache(
        disk=stratacache.DiskOptions(path, max_bytes=max_bytes, durability=durability)
    )


def write(path: str, prefix: str, count: int, durability: str, acks: str, max_bytes: int) -> None:
    c = cache(path, durability, max_bytes)
    fd = os.open(acks, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    deadline = time.monotonic() + 60
    i = 0
    while (count == 0 or i < count) and time.monotonic() < deadline:
        key = f"{prefix}{i}"
        c.set(key, value_of(key, 1000))
        os.write(fd, (key + "\n").encode())  # one write(2): the ack survives a kill -9
        i += 1


def mixed(path: str, prefix: str, count: int, others: list[str]) -> None:
    c = cache(path)
    reader = cache(path)  # L1 of its own, so its reads go to the disk
    bad, read = [], 0
    for i in range(count):
        key = f"{prefix}{i}"
        c.set(key, value_of(key))
        for other in others:
            k = f"{other}{i}"
            got = reader.get(k)
            if got is not None:
                read += 1
                if got != value_of(k):
                    bad.append(k)
    print(json.dumps({"read": read, "bad": bad}))


def read(path: str, prefix: str, count: int, size: int) -> None:
    c = cache(path)
    bad, found = [], 0
    for i in range(count):
        key = f"{prefix}{i}"
        got = c.get(key)
        if got is not None:
            found += 1
            if got != value_of(key, size):
                bad.append(key)
    disk = c.stats().disk
    print(json.dumps({"found": found, "bad": bad, "disk_hits": disk.hits if disk else 0}))


def beat(path: str, url: str) -> None:
    c = stratacache.Cache(redis=url, disk=path, default_ttl=60)
    deadline = time.monotonic() + 30
    while not c._stats().l2.coherent and time.monotonic() < deadline:
        time.sleep(0.01)
    c.set("k", "old")
    while not c._disk.store.keys("\x1fstratacache\x1fbeat\x1f", 4):
        if time.monotonic() > deadline:
            sys.exit("no heartbeat within 30 s")
        time.sleep(0.01)
    print("ready", flush=True)
    time.sleep(60)


if __name__ == "__main__":
    mode, args = sys.argv[1], sys.argv[2:]
    if mode == "write":
        write(args[0], args[1], int(args[2]), args[3], args[4], int(args[5]))
    elif mode == "mixed":
        mixed(args[0], args[1], int(args[2]), args[3].split(","))
    elif mode == "beat":
        beat(args[0], args[1])
    else:
        read(args[0], args[1], int(args[2]), int(args[3]))
