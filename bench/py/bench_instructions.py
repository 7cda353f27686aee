"""Instructions (callgrind) of the decorator hit and of the import, ours against the peers.

Wall-clock ratios on the shared 2-core machines move by 2x with the load; instruction counts do
not. Each figure is a difference of two `valgrind --tool=callgrind` runs of a fresh
interpreter (PYTHONHASHSEED=0, so dict probing is the same in every run):

* ``decorator-hit``: bench_l1.py's case (a cached ``f(a, b)`` of two ints, 5,000 pairs, every
  wrapper warmed on all of them), run for N1 and N2 hits; (Ir(N2) - Ir(N1)) / (N2 - N1) is one
  hit, the loop included; the ``(floor) loop only`` row is the loop without a call.
* ``l1``: bench_l1.py's store cases (get-hit and get-miss on a 200k cache holding 100k keys,
  Zipf(0.99) over them; set-insert-full cycling 100k keys through 50k; set-overwrite), our
  Cache with each policy against cachebox.LRUCache, one call per loop turn, by the same
  difference; ``(floor) loop only`` is the loop with no call. The scripts run from one fixed
  directory (``$TMPDIR/stratacache-l1-instructions``), so a before and an after taken apart
  see the same paths; a pair whose difference is not positive is taken again, then refused.
* ``import``: ``python -c "import X"`` minus ``python -c "pass"``, .pyc files written first
  (PYTHONDONTWRITEBYTECODE unset); ``first-use`` adds bench_import.py's first requests.

    python bench/py/bench_instructions.py [--before PYTHON] [--l1]

``--before`` names a second interpreter whose stratacache is the version to compare with
(e.g. the one installed from main); its rows are marked ``before``. Writes
bench/results/py_instructions.json, or with ``--l1`` only the l1 cases, to
bench/results/l1_py_instructions.json.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from _harness import with_load_average, write_results, zipf_ids
from bench_import import _FIRST_USE

N1, N2 = 20_000, 70_000

_HITS = """\
import functools, sys
import stratacache, cachebox

def _add(a, b):
    return a * 1000 + b

def main(impl, n):
    pairs = [(i % 100, i // 100 % 50) for i in range(5000)]
    cap = 10_000
    stratacache.configure(max_entries=cap)
    f = {
        "@stratacache.cache": lambda: stratacache.cache(_add),
        "@Cache().cache()": lambda: stratacache.Cache(max_entries=cap).cache()(_add),
        "@Cache(policy='lru').cache()": lambda: (
            stratacache.Cache(max_entries=cap, policy="lru").cache()(_add)
        ),
        "functools.lru_cache": lambda: functools.lru_cache(maxsize=cap)(_add),
        "cachebox.cached(LRUCache)": lambda: cachebox.cached(cachebox.LRUCache(cap))(_add),
        "(floor) loop only": lambda: None,
    }[impl]()
    if f is None:
        for _ in range(n // len(pairs)):
            for a, b in pairs:
                pass
        return
    for a, b in pairs:
        f(a, b)
    for _ in range(n // len(pairs)):
        for a, b in pairs:
            f(a, b)

main(sys.argv[1], int(sys.argv[2]))
"""
_L1 = """\
import array, sys
import stratacache, cachebox

def main(impl, case, n, ids_file):
    keys = [f"user:{i}" for i in range(100_000)]
    values = [f"value:{i}" for i in range(100_000)]
    ids = array.array("I")
    with open(ids_file, "rb") as f:
        ids.frombytes(f.read())
    cap = 50_000 if case == "set-insert-full" else 200_000
    floor = impl == "(floor) loop only"
    if impl == "cachebox.LRUCache":
        c = cachebox.LRUCache(cap)
        get, set_ = c.get, c.__setitem__
    elif not floor:
        c = stratacache.Cache(max_entries=cap, policy=impl.split("(")[1].rstrip(")"))
        get, set_ = c.get, c.set
    if case == "set-insert-full":
        pool = list(zip(keys, values))
        for k, v in pool[cap:] if not floor else ():
            set_(k, v)
        items = [pool[i % len(pool)] for i in range(n + (1 << 16))]
        runs = items[: 1 << 16], items[1 << 16 :]  # a warm-up of 2^16 sets, then n
    elif case == "set-overwrite":
        items = [(keys[i], values[i]) for i in ids]
        runs = (items,) * (1 + n // len(items))  # one warm-up pass, then n calls
    else:
        seq = [keys[i] for i in ids] if case == "get-hit" else [f"user:{100_000 + i}" for i in ids]
        for k in seq:
            hash(k)
        runs = (seq,) * (1 + n // len(seq))
    if not floor and case != "set-insert-full":
        for k, v in zip(keys, values):
            set_(k, v)
    if floor and case.startswith("get"):
        for part in runs:
            for k in part:
                pass
    elif floor:
        for part in runs:
            for k, v in part:
                pass
    elif case.startswith("get"):
        for part in runs:
            for k in part:
                get(k)
    else:
        for part in runs:
            for k, v in part:
                set_(k, v)

main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4])
"""
L1_CASES = ("get-hit", "get-miss", "set-insert-full", "set-overwrite")
L1_IMPLS = (
    "stratacache Cache (tinylfu)",
    "stratacache Cache (lru)",
    "stratacache Cache (s3fifo)",
    "cachebox.LRUCache",
    "(floor) loop only",
)
L1_N1, L1_N2 = 1 << 16, 3 << 16
HIT_IMPLS = (
    "@stratacache.cache",
    "@Cache().cache()",
    "@Cache(policy='lru').cache()",
    "functools.lru_cache",
    "cachebox.cached(LRUCache)",
    "(floor) loop only",
)
IMPORTS = {
    "import stratacache": "import stratacache",
    "import cachebox": "import cachebox",
    "first use: stratacache": _FIRST_USE["stratacache"],
    "first use: cachebox": _FIRST_USE["cachebox"],
}


def _env() -> dict[str, str]:
    env = dict(os.environ, PYTHONHASHSEED="0")
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def total_ir(python: str, args: list[str]) -> int:
    """Instructions of one run of `python args` under callgrind."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "cg.out"
        subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", python, *args],
            env=_env(),
            check=True,
            capture_output=True,
            timeout=900,
        )
        for line in out.read_text().splitlines():
            if line.startswith(("summary:", "totals:")):
                return int(line.split()[1])
    msg = f"no totals in callgrind output for {args}"
    raise RuntimeError(msg)


def measure(python: str, label: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "hits.py"
        script.write_text(_HITS, encoding="utf-8")
        for impl in HIT_IMPLS:
            a = total_ir(python, [str(script), impl, str(N1)])
            b = total_ir(python, [str(script), impl, str(N2)])
            rows.append(_row("decorator-hit", impl, (b - a) / (N2 - N1), label))
    subprocess.run([python, "-c", "\n".join(IMPORTS.values())], env=_env(), check=True)
    floor = total_ir(python, ["-c", "pass"])
    for name, code in IMPORTS.items():
        case = "import" if name.startswith("import") else "first-use"
        rows.append(_row(case, name, total_ir(python, ["-c", code]) - floor, label))
    return rows


# The l1 scripts live in one fixed directory, so runs taken at different times (a before and an
# after, two sessions) see the same paths: argv and sys.path strings feed dict layouts.
L1_DIR = Path(tempfile.gettempdir()) / "stratacache-l1-instructions"


def l1_pair(python: str, args: list[str]) -> float:
    """Instructions of one call: (Ir(L1_N2) - Ir(L1_N1)) / (L1_N2 - L1_N1). A figure of zero or
    below cannot be one call's cost: the pair is taken once more, and an error raised if it
    repeats, rather than written as a result."""
    for _ in range(2):
        a = total_ir(python, [args[0], args[1], args[2], str(L1_N1), args[3]])
        b = total_ir(python, [args[0], args[1], args[2], str(L1_N2), args[3]])
        per_call = (b - a) / (L1_N2 - L1_N1)
        if per_call > 0:
            return per_call
        print(f"  impossible pair {a:,} / {b:,} for {args[1:3]}: taken again", file=sys.stderr)
    msg = f"callgrind gave {per_call:.1f} instructions per call for {args[1:3]} twice"
    raise RuntimeError(msg)


def measure_l1(python: str, label: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    L1_DIR.mkdir(exist_ok=True)
    script = L1_DIR / "l1.py"
    script.write_text(_L1, encoding="utf-8")
    ids = L1_DIR / "ids.bin"  # bench_l1.py's Zipf(0.99) over 100k keys, 2^16 requests
    ids.write_bytes(zipf_ids(100_000, 1 << 16).astype("<u4").tobytes())
    for case in L1_CASES:
        for impl in L1_IMPLS:
            row = _row(case, impl, l1_pair(python, [str(script), impl, case, str(ids)]), label)
            row["params"]["n"] = [L1_N1, L1_N2]
            rows.append(row)
            print(f"  {label:<6} {case:<16} {impl:<28} {row['instructions']:>9,.1f} Ir")
    return rows


def _row(case: str, impl: str, ir: float, label: str) -> dict[str, Any]:
    return {
        "case": case,
        "impl": impl,
        "instructions": round(ir, 1),
        "params": {"version": label, "method": "callgrind, PYTHONHASHSEED=0", "n": [N1, N2]},
    }


def with_ratios(rows: list[dict[str, Any]]) -> None:
    """ratio_vs_ours = peer / ours within each (version, case), net of the loop floor; in the
    l1 cases, cachebox / that row (each policy of ours is held against cachebox)."""
    for row in rows:
        same = [r for r in rows if r["params"]["version"] == row["params"]["version"]]
        same = [r for r in same if r["case"] == row["case"]]
        ours = next(r for r in same if "stratacache" in r["impl"])
        floor = next((r["instructions"] for r in same if r["impl"].startswith("(floor)")), 0.0)
        net = row["instructions"] - floor
        mine, theirs = ours["instructions"] - floor, net
        if row["case"] in L1_CASES:
            peer = next(r for r in same if r["impl"] == "cachebox.LRUCache")
            mine, theirs = net, peer["instructions"] - floor
        row["ratio_vs_ours"] = round(theirs / mine, 3) if mine else None
        if floor:
            row["params"]["net_of_loop"] = round(net, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--before", help="an interpreter with the version to compare with")
    parser.add_argument("--l1", action="store_true", help="only the L1 store cases")
    args = parser.parse_args()
    run = measure_l1 if args.l1 else measure
    rows = run(sys.executable, "after")
    if args.before:
        rows += run(args.before, "before")
    with_ratios(rows)
    with_load_average(rows)
    for row in rows:
        print(
            f"  {row['params']['version']:<6} {row['case']:<14} {row['impl']:<28}"
            f" {row['instructions']:>14,.1f} Ir  {row['ratio_vs_ours']}x"
        )
    print(f"\nwrote {write_results('l1_py_instructions' if args.l1 else 'py_instructions', rows)}")


if __name__ == "__main__":
    main()
