"""Who wrote a heartbeat, and whether that process still runs (`gap.Heartbeat`).

Every worker of a disk tier runs on the disk's host, so a heartbeat can name its process:
its pid, the start time the kernel gives it (``/proc/<pid>/stat`` field 22, clock ticks since
boot: a pid reused by a later process has a later start time) and its pid namespace (the
inode of ``/proc/self/ns/pid``: pids of two containers sharing a volume do not compare).

`alive` then tells a record of a running process from one a kill -9 left behind, which looks
live for `gap.FRESH` seconds by its time alone. Where this cannot be told (no ``/proc``, another
pid namespace, a record of an older version), it answers None and the caller goes by time.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["Identity", "alive", "identity"]

#: (pid, start time in clock ticks since boot, pid namespace inode); zeros: unknown.
Identity = tuple[int, int, int]
_UNKNOWN: Identity = (0, 0, 0)
_mine: dict[int, Identity] = {}  # by pid: a forked child gets its own


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, start time) of `pid` from /proc, or None when it has no entry there."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return None
    # "pid (comm) state ...": comm may hold spaces and parentheses, so split after the last ")".
    fields = raw[raw.rfind(b")") + 2 :].split()
    try:
        return fields[0].decode("ascii", "replace"), int(fields[19])
    except (IndexError, ValueError):
        return None


def _namespace() -> int:
    try:
        return Path("/proc/self/ns/pid").stat().st_ino
    except OSError:
        return 0


def identity() -> Identity:
    """This process's identity (zeros where the system does not tell)."""
    pid = os.getpid()
    known = _mine.get(pid)
    if known is None:
        stat = _stat(pid)
        namespace = _namespace()
        known = _UNKNOWN if stat is None or not namespace else (pid, stat[1], namespace)
        _mine.clear()
        _mine[pid] = known
    return known


def alive(who: Identity) -> bool | None:
    """Whether the process `who` still runs: False when its pid is gone, a zombie, or taken by
    a later process; None when it cannot be told from here."""
    pid, start, namespace = who
    mine = identity()
    if not pid or not mine[0] or namespace != mine[2]:
        return None
    stat = _stat(pid)
    if stat is None:
        return False
    state, started = stat
    return state not in ("Z", "X", "x") and started == start
