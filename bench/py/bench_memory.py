"""Memory per entry of each L1 container, beyond its keys and values.

Each implementation runs in a fresh subprocess: it pre-creates N key strings and N value
strings (kept alive in lists, so they are not counted), reads the resident set size from
/proc/self/statm, inserts the N entries, and reads it again. The delta divided by N is what the
container itself costs per entry. Our store copies each key's bytes into C++, so for ours the
row "net" subtracts the mean encoded key length; `overhead_bytes()` is the store's own account.
A second case, "memory-per-entry-long-keys", pads every key to LONG_KEY characters: past 15
bytes our store keeps a key's bytes in a heap block of their own.

Run alone it prints its table; bench_l1.py includes its rows in bench/results/l1.json.
"""

from __future__ import annotations

import gc
import json
import os
import statistics
import subprocess
import sys
from collections.abc import Callable
from typing import Any

from _harness import key_of, print_table

CASE = "memory-per-entry"
LONG_CASE = "memory-per-entry-long-keys"
LONG_KEY = 32


def _rss_bytes() -> int:
    with open("/proc/self/statm", encoding="ascii") as f:  # noqa: PTH123
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _fill_ours(policy: str) -> Callable[[list[str], list[str], int], Any]:
    def fill(keys: list[str], values: list[str], capacity: int) -> Any:
        import stratacache  # noqa: PLC0415

        cache = stratacache.Cache(max_entries=capacity, policy=policy)
        setter = cache.set
        for k, v in zip(keys, values, strict=True):
            setter(k, v)
        return cache

    return fill


def _fill_mapping(factory: Callable[[int], Any]) -> Callable[[list[str], list[str], int], Any]:
    def fill(keys: list[str], values: list[str], capacity: int) -> Any:
        container = factory(capacity)
        for k, v in zip(keys, values, strict=True):
            container[k] = v
        return container

    return fill


def _factories() -> dict[str, Callable[[list[str], list[str], int], Any]]:
    import cachebox  # noqa: PLC0415
    import cachetools  # noqa: PLC0415
    import lru  # noqa: PLC0415

    import stratacache  # noqa: PLC0415

    table: dict[str, Callable[[list[str], list[str], int], Any]] = {}
    for policy in (stratacache.DEFAULT_POLICY, *stratacache.POLICIES):
        table[f"stratacache[{policy}]"] = _fill_ours(policy)
    table["cachebox.LRUCache"] = _fill_mapping(cachebox.LRUCache)
    table["cachetools.LRUCache"] = _fill_mapping(cachetools.LRUCache)
    table["lru-dict LRU"] = _fill_mapping(lru.LRU)
    table["dict (floor)"] = _fill_mapping(lambda _capacity: {})
    return table


def child(impl: str, n: int, key_len: int = 0) -> dict[str, Any]:
    """Measures one implementation in this process; returns its numbers."""
    keys = [key_of(i).ljust(key_len, "-") for i in range(n)]
    values = [f"value:{i}" for i in range(n)]
    key_bytes = sum(len(k.encode()) for k in keys) / n
    # Room for every key: a sharded store splits max_entries per shard and would evict early.
    capacity = n + n // 4
    fill = _factories()[impl]
    gc.collect()
    before = _rss_bytes()
    container = fill(keys, values, capacity)
    gc.collect()
    after = _rss_bytes()
    held = len(container)
    result: dict[str, Any] = {
        "impl": impl,
        "raw": (after - before) / n,
        "held": held,
        "key_bytes": key_bytes,
    }
    store = getattr(container, "_store", None)
    if store is not None:
        result["net"] = result["raw"] - key_bytes
        result["accounted"] = store.overhead_bytes() / max(held, 1)
    return result


def measure(n: int, repeats: int, key_len: int = 0) -> list[dict[str, Any]]:
    """Runs every implementation `repeats` times, interleaved, each in a fresh subprocess;
    keys are padded to `key_len` characters (0: as they are)."""
    impls = list(_factories())
    runs: dict[str, list[dict[str, Any]]] = {impl: [] for impl in impls}
    for _ in range(repeats):
        for impl in impls:
            out = subprocess.run(
                [sys.executable, __file__, "--child", impl, str(n), str(key_len)],
                check=True,
                capture_output=True,
                text=True,
                timeout=600,
            )
            runs[impl].append(json.loads(out.stdout))
    return _rows(runs, n, repeats, LONG_CASE if key_len else CASE)


def _rows(
    runs: dict[str, list[dict[str, Any]]], n: int, repeats: int, case: str
) -> list[dict[str, Any]]:
    import stratacache  # noqa: PLC0415

    reference = f"stratacache[{stratacache.DEFAULT_POLICY}]"
    medians: list[tuple[str, float, dict[str, Any]]] = []
    for impl, results in runs.items():
        params: dict[str, Any] = {
            "repeats": repeats,
            "held": min(r["held"] for r in results),
            "key_bytes_mean": round(results[0]["key_bytes"], 2),
        }
        medians.append((impl, statistics.median(r["raw"] for r in results), params))
        if "net" in results[0]:
            net = statistics.median(r["net"] for r in results)
            params["accounted_overhead_bytes"] = round(results[0]["accounted"], 2)
            medians.append((f"{impl} net of key bytes", net, {**params, "net": True}))
    ours = next(value for impl, value, _ in medians if impl == f"{reference} net of key bytes")
    return [
        {
            "case": case,
            "impl": impl,
            "median_bytes": round(value, 2),
            "ratio_vs_ours": round(value / ours, 3),
            "n": n,
            "params": {**params, "reference": f"{reference} net of key bytes"},
        }
        for impl, value, params in medians
    ]


def print_rows(rows: list[dict[str, Any]]) -> None:
    """The table, then our store's own accounting of its overhead."""
    print_table(rows)
    for row in rows:
        accounted = row["params"].get("accounted_overhead_bytes")
        if accounted is not None and not row["params"].get("net"):
            print(f"  {row['impl']}: Store.overhead_bytes() / entries = {accounted:.1f} B")


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        print(json.dumps(child(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))))
        return
    quick = "--quick" in sys.argv
    for key_len in (0, LONG_KEY):
        print_rows(measure(200_000 if quick else 1_000_000, 1 if quick else 3, key_len))


if __name__ == "__main__":
    main()
