"""Generates the sync twins of the asyncio Redis driver and executor (STYLE.md section 6).

`python/stratacache/tiers/redis/{driver,executor}_async.py` are the sources; this script
rewrites each into its `_sync.py` twin by dropping async/await and renaming the async types.
`--check` exits 1 when a committed sync file differs from what would be generated (CI runs it
in `make lint`).

Markers, for the parts one side has and the other has not (each on a line of its own, at the
indentation of the code it brackets; the marker lines never reach the sync file):

    # unasync: async-only begin
    ...code only the asyncio file has (dropped from the sync file)...
    # unasync: async-only end

    # unasync: sync-only begin
    # ...code only the sync file has, written as comments: each line loses its first
    # "# " (a bare "#" becomes a blank line) and is code in the sync file...
    # unasync: sync-only end

A single async-only line may instead end in `# unasync: async-only`. Imports only the asyncio
side uses need no marker: the sync file is passed through ruff's unused-import and isort fixes
before `ruff format`, so a sync-only import can be written as one more `from x import y` line.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

TIERS = Path(__file__).resolve().parent.parent / "python" / "stratacache" / "tiers" / "redis"
PAIRS = [("driver_async.py", "driver_sync.py"), ("executor_async.py", "executor_sync.py")]

MARKER = re.compile(r"^\s*# unasync: (async-only|sync-only) (begin|end)\s*$")
ASYNC_LINE = re.compile(r"\s*# unasync: async-only\s*$")
COMMENTED = re.compile(r"^(\s*)#(?: (.*))?$")

RENAMES = [
    (r"\basync def\b", "def"),
    (r"\basync for\b", "for"),
    (r"\basync with\b", "with"),
    (r"\bawait ", ""),
    (r"\basyncio\.sleep\b", "time.sleep"),
    (r"\bAwaitable\[(\w+)\]", r"\1"),
    (r"\bAsyncRuntime\b", "SyncRuntime"),
    (r"\bAsyncRedisTier\b", "SyncRedisTier"),
    (r"\bAsyncCap\b", "SyncCap"),
    (r"\bAsyncTiered\b", "SyncTiered"),
    (r"\bAsyncDriver\b", "Driver"),
    (r"\.executor_async\b", ".executor_sync"),
    (r"redis\.asyncio client", "sync redis-py client"),
    (r"The asyncio driver", "The sync driver"),
    (
        (
            r"This file is the\nsource of `driver_sync.py`, which `scripts/unasync.py` generates "
            r"from it \(CI checks that the\ntwo agree\): edit this one only."
        ),
        "Generated from\n`driver_async.py` by `scripts/unasync.py`: do not edit, edit the source.",
    ),
]


class MarkerError(ValueError):
    """A marker out of place: unbalanced, nested, or a sync-only line that is not a comment."""


def strip_markers(source: str, name: str) -> str:
    """`source` as the sync side sees it: async-only parts dropped, sync-only ones uncommented."""
    out: list[str] = []
    block: str | None = None
    dangling = 0  # the number of the last single async-only line dropped
    for number, line in enumerate(source.splitlines(keepends=True), start=1):
        where = f"{name}:{number}"
        found = MARKER.match(line)
        if found:
            kind, edge = found.groups()
            if (edge == "begin") != (block is None) or (edge == "end" and block != kind):
                msg = f"{where}: unexpected '# unasync: {kind} {edge}'"
                raise MarkerError(msg)
            block = kind if edge == "begin" else None
        elif block == "async-only":
            continue
        elif ASYNC_LINE.search(line):
            # A dropped last argument leaves the one before it with a trailing comma, which
            # would keep ruff from joining the call or signature again: drop that comma too.
            dangling = number
            continue
        elif dangling == number - 1 and line.lstrip().startswith(")") and out:
            out[-1] = re.sub(r",(\s*)$", r"\1", out[-1])
            out.append(line)
        elif block == "sync-only":
            text = line.rstrip("\n")
            commented = COMMENTED.match(text)
            if commented is None:
                msg = f"{where}: a sync-only line must be a comment: {text!r}"
                raise MarkerError(msg)
            indent, code = commented.groups()
            out.append(f"{indent}{code}\n" if code else "\n")
        else:
            out.append(line)
    if block is not None:
        msg = f"{name}: '# unasync: {block} begin' is never closed"
        raise MarkerError(msg)
    return "".join(out)


def _ruff(args: list[str], source: str, name: str) -> str:
    done = subprocess.run(
        ["ruff", *args, "--stdin-filename", name, "-"],
        input=source,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def generate(source: str, name: str = "driver_sync.py") -> str:
    """The sync file `name` generated from the asyncio `source`."""
    source = strip_markers(source, name)
    for pattern, replacement in RENAMES:
        source = re.sub(pattern, replacement, source)
    # Imports only the asyncio side used go, sync-only ones join their block; then ruff lays
    # the shorter lines out as `make format` would, so the file is stable under formatting.
    fixes = ["check", "--select", "F401,I", "--fix", "--exit-zero", "--quiet"]
    source = _ruff(fixes, source, name)
    return _ruff(["format"], source, name)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if a sync file is stale")
    args = parser.parse_args()
    stale = []
    for src, dst in PAIRS:
        wanted = generate((TIERS / src).read_text(), dst)
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
