"""Generates the sync twins of the asyncio Redis driver (STYLE.md section 6).

`python/stratacache/tiers/redis/driver_async.py` is the source; this script rewrites it into
`driver_sync.py` by dropping async/await and renaming the async types. `--check` exits 1 when
the committed sync file differs from what would be generated (CI runs it in `make lint`).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

TIERS = Path(__file__).resolve().parent.parent / "python" / "stratacache" / "tiers" / "redis"
PAIRS = [("driver_async.py", "driver_sync.py")]

RENAMES = [
    (r"\basync def\b", "def"),
    (r"\bawait ", ""),
    (r"\bAsyncRuntime\b", "SyncRuntime"),
    (r"\bAsyncRedisTier\b", "SyncRedisTier"),
    (r"\bAsyncTiered\b", "SyncTiered"),
    (r"\bexecutor_async\b", "executor_sync"),
    (r"The asyncio driver", "The sync driver"),
    (
        (
            r"This file is the\nsource of `driver_sync.py`, which `scripts/unasync.py` generates "
            r"from it \(CI checks that the\ntwo agree\): edit this one only."
        ),
        "Generated from\n`driver_async.py` by `scripts/unasync.py`: do not edit, edit the source.",
    ),
]


def generate(source: str) -> str:
    for pattern, replacement in RENAMES:
        source = re.sub(pattern, replacement, source)
    # Dropping async/await shortens lines: let ruff lay them out as `make format` would, so the
    # generated file is stable under formatting.
    formatted = subprocess.run(
        ["ruff", "format", "--stdin-filename", "driver_sync.py", "-"],
        input=source,
        capture_output=True,
        text=True,
        check=True,
    )
    return formatted.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if a sync file is stale")
    args = parser.parse_args()
    stale = []
    for src, dst in PAIRS:
        wanted = generate((TIERS / src).read_text())
        target = TIERS / dst
        if args.check:
            if not target.exists() or target.read_text() != wanted:
                stale.append(dst)
        else:
            target.write_text(wanted)
    if stale:
        print(f"stale generated files (run python scripts/unasync.py): {', '.join(stale)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
