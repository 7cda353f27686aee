"""Memory per entry of each L1 container, beyond its keys and values.

Each implementation runs in a fresh subprocess: it pre-creates N key strings and N value
strings (kept alive in lists, so they are not counted), reads the resident set size from
/proc/self/statm, inserts the N entries, and reads it again. The delta divided by N is what the
container itself costs per entry. Our store copies each key's bytes into C++, so for ours the
row "net" subtracts the mean encoded key length; `overhead_bytes()` is the store's own account.
Further cases pad every key to 16, 32 or 64 characters ("memory-per-entry-long-keys" is the
32-character one): past 15 bytes our store keeps a key's bytes in its shard's key slab, outside
the entry. Short keys sit in the entry's 16-byte key field, so their "net" row subtracts bytes
that cost nothing extra; a long key costs its bytes rounded up to 8, so its net row is close to
the short keys' raw row.

Run alone it measures 1M and 200k entries with every key length and writes
bench/results/memory.json (`--quick`: 200k, one repeat, printed only); bench_l1.py includes the
short and 32-character rows in bench/results/l1.json.
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

from _harness import key_of, print_table, with_load_average, write_results

CASE = "memory-per-entry"
LONG_CASE = "memory-per-entry-long-keys"
LONG_KEY = 32
KEY_LENGTHS = (0, 16, LONG_KEY, 64)


def case_of(key_len: int) -> str:
    """The case name of keys padded to `key_len` characters (0: as they are)."""
    if key_len == 0:
        return CASE
    return LONG_CASE if key_len == LONG_KEY else f"{CASE}-{key_len}-char-keys"


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
    return _rows(runs, n, repeats, case_of(key_len))


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
    rows: list[dict[str, Any]] = []
    for n in (200_000,) if quick else (1_000_000, 200_000):
        for key_len in KEY_LENGTHS:
            case_rows = measure(n, 1 if quick else 3, key_len)
            with_load_average(case_rows)
            print_rows(case_rows)
            rows += case_rows
    if not quick:
        print(f"\nwrote {write_results('memory', rows)}")


if __name__ == "__main__":
    main()
