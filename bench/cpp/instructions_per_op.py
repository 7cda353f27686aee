"""Instructions per operation of bench_store cases, by difference of two callgrind runs.

    python bench/cpp/instructions_per_op.py build/bench/bench/cpp/bench_store [--out FILE]

Each case runs twice under `valgrind --tool=callgrind` with STRATACACHE_BENCH_ITERATIONS set to
N1 and N2; the setup (key generation, filling the store) is the same in both runs, so
(Ir(N2) - Ir(N1)) / (N2 - N1) is the cost of one operation alone. Instruction counts do not
depend on the machine's load, unlike wall-clock times.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

CASES = [
    "BM_GetHit<st::LruPolicy>",
    "BM_GetHit<st::TinyLfuPolicy>",
    "BM_GetHit<st::S3FifoPolicy>",
    "BM_GetMiss<st::LruPolicy>",
    "BM_GetMiss<st::TinyLfuPolicy>",
    "BM_GetMiss<st::S3FifoPolicy>",
    "BM_SetFull<st::LruPolicy>",
    "BM_SetFull<st::TinyLfuPolicy>",
    "BM_SetFull<st::S3FifoPolicy>",
    "BM_GetHitTiming/0",
    "BM_GetHitTiming/64",
]
N1, N2 = 100_000, 300_000


def total_ir(binary: str, case: str, iterations: int) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "cg.out"
        env = dict(os.environ, STRATACACHE_BENCH_ITERATIONS=str(iterations))
        subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={out}",
                binary,
                f"--benchmark_filter=^{re.escape(case)}/iterations:",
            ],
            env=env,
            check=True,
            capture_output=True,
            timeout=600,
        )
        for line in out.read_text().splitlines():
            if line.startswith(("summary:", "totals:")):
                return int(line.split()[1])
    msg = f"no totals in callgrind output for {case}"
    raise RuntimeError(msg)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("binary")
    parser.add_argument("--out", help="JSON file to write the figures to")
    parser.add_argument("--filter", default="", help="only cases containing this text")
    args = parser.parse_args()
    rows = []
    for case in CASES:
        if args.filter not in case:
            continue
        per_op = (total_ir(args.binary, case, N2) - total_ir(args.binary, case, N1)) / (N2 - N1)
        rows.append({"case": case, "instructions_per_op": round(per_op, 1)})
        print(f"{case:36s} {per_op:8.1f}", flush=True)
    if args.out:
        Path(args.out).write_text(json.dumps(rows, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
