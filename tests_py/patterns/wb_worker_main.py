"""A write-behind worker process for the kill -9 test (run as a script, not collected).

Usage: python wb_worker_main.py STREAM_URL STORE_URL STORE_NAME NAME LEASE

Its store applies a batch one key at a time with a short pause between keys, so a SIGKILL
lands in the middle of a batch: some keys applied, none acknowledged.
"""

from __future__ import annotations

import sys
import time
from typing import Any

import redis

from stratacache.patterns import WriteBehind


def main() -> None:
    stream_url, store_url, store_name, name, lease = sys.argv[1:6]
    client = redis.Redis.from_url(store_url, socket_timeout=5)

    def store(items: dict[str, Any]) -> None:
        for key, value in items.items():
            pipe = client.pipeline(transaction=True)
            pipe.hset(f"{store_name}:values", key, repr(value))
            pipe.rpush(f"{store_name}:log", f"{key}={value!r}")
            pipe.execute()
            time.sleep(0.002)

    wb = WriteBehind(stream_url, store, name=name, batch=50, partitions=2, lease=float(lease))
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    wb.work(duration=120)


if __name__ == "__main__":
    main()
