"""Import cost: `import stratacache` against `import cachebox` (issue 17), in fresh processes.

Each sample is one fresh interpreter (`python -c ...`, PYTHONDONTWRITEBYTECODE unset so the
.pyc files are used as in production) that reads its resident set size (VmRSS), times the
statement with perf_counter_ns, and reads VmRSS again (and the process's peak, ru_maxrss).
Two statements per library:

* ``import``: the bare import, what issue 17's "≤ 30 ms and ≤ 5 MB" is about;
* ``first use``: the import, then what a first request does: build a cache with defaults,
  one set and one get, decorate a function of two ints and call it twice (a miss, then a
  hit), so a cost the import defers but the first call pays is counted too.

The implementations run interleaved, `--rounds` rounds (≥ 9 by default) after one warm-up
round that also writes the .pyc files; reported are the medians. `python -X importtime` (the
tree of where the time goes) is printed with `--tree`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from typing import Any

from _harness import print_table, with_load_average, write_results

_PROBE = """\
import resource, time
def rss():
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
rss0 = rss()
t0 = time.perf_counter_ns()
{body}
t1 = time.perf_counter_ns()
rss1, peak = rss(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print({{"ns": t1 - t0, "rss": rss1 - rss0, "maxrss": peak}})
"""

_FIRST_USE = {
    "stratacache": (
        "import stratacache\n"
        "c = stratacache.Cache()\n"
        "c.set('k', 1)\n"
        "assert c.get('k') == 1\n"
        "@stratacache.cache\n"
        "def f(a, b):\n"
        "    return a + b\n"
        "assert f(1, 2) == 3 and f(1, 2) == 3\n"
    ),
    "cachebox": (
        "import cachebox\n"
        "c = cachebox.LRUCache(10_000)\n"
        "c['k'] = 1\n"
        "assert c.get('k') == 1\n"
        "@cachebox.cached(cachebox.LRUCache(10_000))\n"
        "def f(a, b):\n"
        "    return a + b\n"
        "assert f(1, 2) == 3 and f(1, 2) == 3\n"
    ),
}

#: (case, implementation, statement)
CONTENDERS = [
    ("import", "import stratacache", "import stratacache"),
    ("import", "import cachebox", "import cachebox"),
    ("import", "(floor) import json", "import json"),
    ("first-use", "stratacache: Cache() set get, @cache f twice", _FIRST_USE["stratacache"]),
    ("first-use", "cachebox: LRUCache set get, @cached f twice", _FIRST_USE["cachebox"]),
]
OURS = {"import stratacache", "stratacache: Cache() set get, @cache f twice"}


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # set on the dev machines; it defeats .pyc caching
    return env


def sample(statement: str) -> dict[str, int]:
    """One fresh interpreter running `statement` between two RSS readings."""
    code = _PROBE.format(body=statement)
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        env=_env(),
    )
    result: dict[str, int] = json.loads(out.stdout.strip().replace("'", '"'))
    return result


def measure(rounds: int) -> list[dict[str, Any]]:
    """Interleaved rounds, the order rotating, one warm-up round first; JSON rows."""
    samples: dict[str, list[dict[str, int]]] = {name: [] for _, name, _ in CONTENDERS}
    for _, _, statement in CONTENDERS:
        sample(statement)  # writes the .pyc files, warms the page cache
    for r in range(rounds):
        for j in range(len(CONTENDERS)):
            _, name, statement = CONTENDERS[(r + j) % len(CONTENDERS)]
            samples[name].append(sample(statement))
    rows: list[dict[str, Any]] = []
    for case in dict.fromkeys(c for c, _, _ in CONTENDERS):
        names = [name for c, name, _ in CONTENDERS if c == case]
        ours = next(name for name in names if name in OURS)
        med = {
            name: {k: statistics.median(s[k] for s in samples[name]) for k in ("ns", "rss")}
            for name in names
        }
        maxrss = {name: statistics.median(s["maxrss"] for s in samples[name]) for name in names}
        for name in names:
            rows.append(
                {
                    "case": case,
                    "impl": name,
                    "median_ns": round(med[name]["ns"], 1),
                    "ratio_vs_ours": round(med[name]["ns"] / med[ours]["ns"], 3),
                    "n": 1,
                    "params": {
                        "rounds": rounds,
                        "reference": ours,
                        "median_ms": round(med[name]["ns"] / 1e6, 2),
                        "median_rss_delta_mb": round(med[name]["rss"] / 2**20, 2),
                        "median_peak_rss_mb": round(maxrss[name] / 2**20, 2),
                        "rss_ratio_vs_ours": round(med[name]["rss"] / max(med[ours]["rss"], 1), 3),
                        "python": sys.version.split()[0],
                    },
                }
            )
    return rows


def print_tree(module: str) -> None:
    """`python -X importtime -c "import <module>"`, the 25 costliest lines by cumulative time."""
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        env=_env(),
    )
    lines = [ln for ln in out.stderr.splitlines() if ln.startswith("import time:") and "|" in ln]
    parsed = []
    for ln in lines[1:]:
        own_us, cumulative_us, name = ln.removeprefix("import time:").split("|")
        parsed.append((int(cumulative_us), int(own_us), name.rstrip()))
    for cumulative, own, name in sorted(parsed, reverse=True)[:25]:
        print(f"  {cumulative / 1000:8.2f} ms cumulative {own / 1000:7.2f} ms self  {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=11, help="interleaved rounds (>= 9)")
    parser.add_argument("--quick", action="store_true", help="9 rounds, no file written")
    parser.add_argument("--tree", action="store_true", help="print -X importtime's costliest")
    args = parser.parse_args()
    rounds = 9 if args.quick else args.rounds
    if rounds < 9:
        parser.error("the import case asks for at least 9 rounds")
    if args.tree:
        print("python -X importtime -c 'import stratacache':")
        print_tree("stratacache")
    rows = measure(rounds)
    with_load_average(rows)
    print_table(rows)
    for row in rows:
        p = row["params"]
        print(
            f"  {row['impl']:<48} {p['median_ms']:7.2f} ms  RSS +{p['median_rss_delta_mb']:.2f} MB"
            f"  (peak RSS of the process {p['median_peak_rss_mb']:.1f} MB)"
        )
    if not args.quick:
        print(f"\nwrote {write_results('import', rows)}")


if __name__ == "__main__":
    main()
