"""DiskOptions: where the disk tier lives, how large it may grow and how durable its writes are;
validated at construction so a bad directory fails there, not at the first write."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..._options import require_type
from ...errors import ConfigError

__all__ = ["DURABILITIES", "MARKER", "DiskOptions", "check_directory"]

DURABILITIES = ("none", "flush", "sync")
#: The file that marks a directory as a stratacache disk tier (format version on its first line).
MARKER = "stratacache-disk"
_MARKER_TEXT = "stratacache disk tier, format 1 (LMDB)\n"
_OURS = frozenset({MARKER, "data.mdb", "lock.mdb"})
_PROBE = ".stratacache-probe-"
_DEFAULT_MAX_BYTES = 1 << 30
_MIN_MAX_BYTES = 1 << 16


class DiskOptions:
    """The disk tier of a cache: `Cache(disk=DiskOptions(path, ...))` (or `disk=path`).

    Args:
        path: a directory (created if missing) that holds nothing but this tier's files; every
            process of the host that opens it shares the same entries.
        max_bytes: bound on the bytes the entries weigh (default 1 GiB); the oldest writes are
            evicted first. The files may reach about twice this (LMDB's copy-on-write pages).
        durability: "none" (the OS writes back: survives a process crash, not a power cut),
            "flush" (default: data synced per write, the meta page lazily) or "sync" (every
            write synced before it returns).

    Raises:
        TypeError: path is not a str or os.PathLike, max_bytes not an int, durability not a str.
        ConfigError: path is not a directory, is read-only, holds files this tier did not
            write (another program's), or max_bytes / durability is out of range.
    """

    __slots__ = ("durability", "max_bytes", "path")

    def __init__(
        self,
        path: str | os.PathLike[str],
        max_bytes: int = _DEFAULT_MAX_BYTES,
        durability: str = "flush",
    ) -> None:
        require_type(path, (str, os.PathLike), "disk path", "a str or os.PathLike")
        require_type(max_bytes, int, "max_bytes", "an int")
        if not _MIN_MAX_BYTES <= max_bytes <= 1 << 44:
            msg = f"disk max_bytes must be in [65536, 2**44], got {max_bytes}"
            raise ConfigError(msg)
        require_type(durability, str, "durability", "a str")
        if durability not in DURABILITIES:
            msg = f'durability must be "none", "flush" or "sync", not {durability!r}'
            raise ConfigError(msg)
        self.path = check_directory(Path(os.fspath(path)))
        self.max_bytes = max_bytes
        self.durability = durability

    @classmethod
    def of(cls, disk: Any) -> DiskOptions:
        """`disk=` of a cache as DiskOptions (a path gets the defaults)."""
        return disk if isinstance(disk, DiskOptions) else cls(disk)

    def __repr__(self) -> str:
        return (
            f"DiskOptions({str(self.path)!r}, max_bytes={self.max_bytes}, "
            f"durability={self.durability!r})"
        )


def check_directory(path: Path) -> Path:
    """`path` made ready for the tier: created if missing, writable, ours or empty, marked."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        msg = f"disk path {str(path)!r} is not a directory"
        raise ConfigError(msg) from None
    except OSError as e:
        msg = f"disk path {str(path)!r} cannot be created: {e.strerror}"
        raise ConfigError(msg) from None
    if not path.is_dir():
        msg = f"disk path {str(path)!r} is not a directory"
        raise ConfigError(msg)
    # Probe files are another process's marker or write check in flight: not foreign.
    names = {p.name for p in path.iterdir() if not p.name.startswith(_PROBE)}
    if names and MARKER not in names:
        msg = (
            f"disk path {str(path)!r} holds files stratacache did not write "
            f"({', '.join(sorted(names)[:3])}...): give the tier a directory of its own"
        )
        raise ConfigError(msg)
    foreign = sorted(names - _OURS)
    if foreign:
        msg = f"disk path {str(path)!r} holds files another program wrote: {', '.join(foreign[:3])}"
        raise ConfigError(msg)
    marker = path / MARKER
    try:
        if MARKER in names:
            if not marker.read_text(encoding="utf-8", errors="replace").startswith(
                _MARKER_TEXT[:24]
            ):
                msg = f"disk path {str(path)!r}: {MARKER} is not a stratacache marker"
                raise ConfigError(msg)
            probe = path / f"{_PROBE}{os.getpid()}"  # can we write here? (root ignores modes)
            probe.touch()
            probe.unlink()
        else:  # written aside and renamed: a racing process sees no marker or a whole one
            aside = path / f"{_PROBE}{os.getpid()}"
            aside.write_text(_MARKER_TEXT, encoding="utf-8")
            aside.replace(marker)
    except OSError as e:
        msg = f"disk path {str(path)!r} is not writable: {e.strerror}"
        raise ConfigError(msg) from None
    return path
