"""Django cache backends side by side: StrataCache vs LocMemCache, django-redis and Django's
RedisCache -> bench/results/django.json (django_quick.json with --quick).

Every backend is built by Django from one CACHES setting and called through Django's API
(`caches[alias].get(...)`), so each row pays the same key making and validation. Cases:

* ``l1-get-hit`` / ``l1-set`` / ``l1-incr``: in-process; ours (L1 alone, the reference) vs
  LocMemCache (300 entries by default; both get MAX_ENTRIES = 20,000 here, above the 10,000 keys).
* ``redis-get-hit`` / ``redis-set`` / ``redis-incr``: one redis-server started here, pinned to
  CPU 0, this process to CPU 1. Ours with L1 + Redis (the reference: a get hit is served
  from L1, kept coherent by Redis pub/sub), ours with ``l1: False`` (every get reads Redis),
  django-redis (hiredis parser when installed) and Django's RedisCache. Our set also
  PUBLISHes its invalidation; our incr is a GET then a compare-and-set script (two round
  trips, the number lives inside the codec envelope), theirs one INCR.

Keys follow Zipf(0.99) over 10,000 ids; values are a dict of 100 random letters. Rows follow
`_harness`: ``ratio_vs_ours`` = peer time / our time (> 1: ours faster).
"""

from __future__ import annotations

import contextlib
import os
import random
import string
from pathlib import Path
from typing import Any

from _harness import (
    Case,
    Options,
    key_of,
    parse_options,
    print_table,
    run_case,
    sync_loop1,
    sync_loop2,
    write_results,
    zipf_ids,
)

from stratacache.testing.redis_servers import RedisServer

N_KEYS = 10_000
OURS = "stratacache.contrib.django.StrataCache"


def pin(server: RedisServer) -> dict[str, Any]:
    """Server threads on CPU 0, this process on CPU 1 (as bench_l2 does)."""
    if len(os.sched_getaffinity(0)) < 2:
        return {"placement": "unpinned (fewer than 2 CPUs)"}
    for task in Path(f"/proc/{server.pid}/task").iterdir():
        with contextlib.suppress(ProcessLookupError):
            os.sched_setaffinity(int(task.name), {0})
    os.sched_setaffinity(0, {1})
    return {"placement": "server CPU 0, client CPU 1"}


def configure(url: str) -> None:
    import django  # noqa: PLC0415
    from django.conf import settings  # noqa: PLC0415

    big = {"MAX_ENTRIES": 2 * N_KEYS}
    settings.configure(
        CACHES={
            "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
            "ours-l1": {"BACKEND": OURS, "LOCATION": "bench", "OPTIONS": big},
            "locmem": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "OPTIONS": big},
            "ours-redis": {"BACKEND": OURS, "LOCATION": url},
            "ours-redis-no-l1": {"BACKEND": OURS, "LOCATION": url, "OPTIONS": {"l1": False}},
            "django-redis": {
                "BACKEND": "django_redis.cache.RedisCache",
                "LOCATION": url,
                "KEY_PREFIX": "dr",
            },
            "django-builtin-redis": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": url,
                "KEY_PREFIX": "db",
            },
        }
    )
    django.setup()


def cases(aliases: list[str], prefix: str, n: int, opts: Options) -> list[Case]:
    from django.core.cache import caches  # noqa: PLC0415

    rng = random.Random(opts.seed)
    value = {"data": "".join(rng.choices(string.ascii_letters, k=100))}
    keys = [key_of(int(i)) for i in zipf_ids(N_KEYS, n, seed=opts.seed)]
    backends = {alias: caches[alias] for alias in aliases}
    for cache in backends.values():
        cache.set_many({key_of(i): value for i in range(N_KEYS)}, None)
        cache.set("counter", 0, None)
        for key in keys[:1000]:  # warm every L1 with the keys the run reads
            cache.get(key)
    get_hit = Case(f"{prefix}-get-hit", n, params={"keys": N_KEYS, "value": "dict-100B"})
    set_ = Case(f"{prefix}-set", n, params={"keys": N_KEYS, "value": "dict-100B"})
    incr = Case(f"{prefix}-incr", n, params={"keys": 1})
    pairs = [(k, value) for k in keys]
    counters = ["counter"] * n
    for alias, cache in backends.items():
        ours = alias == aliases[0]
        get_hit.add(alias, sync_loop1(cache.get, keys), ours=ours)
        set_.add(alias, sync_loop2(cache.set, pairs), ours=ours)
        incr.add(alias, sync_loop1(cache.incr, counters), ours=ours)
    return [get_hit, set_, incr]


def main() -> None:
    opts = parse_options(__doc__ or "")
    server = RedisServer().start()
    rows: list[dict[str, Any]] = []
    try:
        params = pin(server)
        params["load_average_1m"] = round(os.getloadavg()[0], 2)
        configure(server.url)
        l1 = cases(["ours-l1", "locmem"], "l1", opts.n, opts)
        remote = ["ours-redis", "ours-redis-no-l1", "django-redis", "django-builtin-redis"]
        redis_cases = cases(remote, "redis", max(opts.n // 150, 100), opts)
        for case in l1 + redis_cases:
            case.params.update(params)
            rows += run_case(case, opts)
    finally:
        from stratacache.contrib.django._config import close_shared  # noqa: PLC0415

        close_shared()
        server.stop()
    print_table(rows)
    path = write_results("django_quick" if opts.quick else "django", rows)
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
