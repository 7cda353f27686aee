"""Instructions (callgrind) of the decorator hit and of the import, ours against the peers.

Wall-clock ratios on the shared 2-core machines move by 2x with the load; instruction counts do
not. Each figure is a difference of two `valgrind --tool=callgrind` runs of a fresh
interpreter (PYTHONHASHSEED=0, so dict probing is the same in every run):

* ``decorator-hit``: bench_l1.py's case (a cached ``f(a, b)`` of two ints, 5,000 pairs, every
  wrapper warmed on all of them), run for N1 and N2 hits; (Ir(N2) - Ir(N1)) / (N2 - N1) is one
  hit, the loop included; the ``(floor) loop only`` row is the loop without a call.
* ``import``: ``python -c "import X"`` minus ``python -c "pass"``, .pyc files written first
  (PYTHONDONTWRITEBYTECODE unset); ``first-use`` adds bench_import.py's first requests.

    python bench/py/bench_instructions.py [--before PYTHON]

``--before`` names a second interpreter whose stratacache is the version to compare with
(e.g. the one installed from main); its rows are marked ``before``. Writes
bench/results/py_instructions.json.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from _harness import with_load_average, write_results
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


def _row(case: str, impl: str, ir: float, label: str) -> dict[str, Any]:
    return {
        "case": case,
        "impl": impl,
        "instructions": round(ir, 1),
        "params": {"version": label, "method": "callgrind, PYTHONHASHSEED=0", "n": [N1, N2]},
    }


def with_ratios(rows: list[dict[str, Any]]) -> None:
    """ratio_vs_ours = peer / ours within each (version, case); hits net of the loop floor."""
    for row in rows:
        same = [r for r in rows if r["params"]["version"] == row["params"]["version"]]
        same = [r for r in same if r["case"] == row["case"]]
        ours = next(r for r in same if "stratacache" in r["impl"])
        floor = next((r["instructions"] for r in same if r["impl"].startswith("(floor)")), 0.0)
        mine, theirs = ours["instructions"] - floor, row["instructions"] - floor
        row["ratio_vs_ours"] = round(theirs / mine, 3) if mine else None
        if floor:
            row["params"]["net_of_loop"] = round(theirs, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--before", help="an interpreter with the version to compare with")
    args = parser.parse_args()
    rows = measure(sys.executable, "after")
    if args.before:
        rows += measure(args.before, "before")
    with_ratios(rows)
    with_load_average(rows)
    for row in rows:
        print(
            f"  {row['params']['version']:<6} {row['case']:<14} {row['impl']:<28}"
            f" {row['instructions']:>14,.1f} Ir  {row['ratio_vs_ours']}x"
        )
    print(f"\nwrote {write_results('py_instructions', rows)}")


if __name__ == "__main__":
    main()
