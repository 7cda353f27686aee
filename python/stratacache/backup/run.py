"""Backups and restores over any `Source` / `Sink`: full and incremental backups, chains of
them, and point-in-time restores replaying the change log up to the time asked.

A full backup is a snapshot plus the change-log entries written while it was taken (so it
restores to one point, `Trailer.ended_ms`, even though the scan took time). An incremental
backup holds the change-log entries after its base's last one. A restore verifies every file
of the chain first (checksums, seals, the chain's ids) and writes nothing if one fails.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from .._options import check_namespace
from ..codec import Codec
from ..errors import ConfigError
from . import changelog
from ._overlap import prefetch
from .format import BackupError, Header, Reader, Trailer, Writer, verify
from .source import Record, Sink, Source

__all__ = ["BackupInfo", "RestoreInfo", "backup", "restore"]

#: progress(records done, records in all or None when unknown, bytes done)
Progress = Callable[[int, "int | None", int], None]
#: Records handed to a sink at once.
RESTORE_BATCH = 2000
#: Records handed to a backup's writer at once.
WRITE_BATCH = 1000
_SNAPSHOT = ("v", "g")
_PROBE = b"stratacache backup encryption probe " * 3


@dataclass(frozen=True)
class BackupInfo:
    """What `backup` wrote."""

    path: Path
    id: str
    incremental: bool
    values: int
    tags: int
    changes: int
    bytes: int
    seconds: float
    point_ms: int  # the time it restores to (Redis clock, unix milliseconds)


@dataclass(frozen=True)
class RestoreInfo:
    """What `restore` did."""

    files: int
    records: int
    applied: int
    seconds: float


def _sealer(encrypt: bool | Codec, compression: str | None) -> Codec:
    if isinstance(encrypt, Codec):
        probe = encrypt.encode("probe", _PROBE)
        if _PROBE in probe:
            msg = "encrypt: the codec does not encrypt whole values (needs encryption_keys)"
            raise ConfigError(msg)
        return encrypt
    if encrypt is not False:
        msg = "encrypt must be False or a stratacache.Codec holding encryption_keys"
        raise TypeError(msg)
    return Codec(compression=compression, compress_threshold=0)  # type: ignore[arg-type]


def _namespaces(namespaces: Iterable[str] | None) -> list[str] | None:
    if namespaces is None:
        return None
    if isinstance(namespaces, str):
        msg = "namespaces must be a sequence of namespaces, not one str"
        raise TypeError(msg)
    return sorted({check_namespace(ns) for ns in namespaces})


def backup(
    source: Source,
    path: str | Path,
    *,
    namespaces: Iterable[str] | None = None,
    incremental_from: str | Path | None = None,
    encrypt: bool | Codec = False,
    compression: str | None = "lz4",
    progress: Progress | None = None,
) -> BackupInfo:
    """Writes a backup of `source` to `path` (see `Cache.backup`)."""
    started = time.perf_counter()
    path = Path(path)
    names = _namespaces(namespaces)
    codec = _sealer(encrypt, compression)
    base = None if incremental_from is None else _base(source, Path(incremental_from), encrypt)
    header = Header(source.kind, source.key_prefix, names, encrypt is not False, base=base)
    writer = Writer(path, header, codec)
    try:
        trailer = writer.trailer
        trailer.started_ms = source.now_ms()
        after = base["log_to"] if base else source.log_position()
        if base is None:
            _write_all(writer, source.snapshot(names), progress)
        trailer.ended_ms = source.now_ms()
        if after is not None:
            _write_all(writer, source.changes_since(after, names), progress)
            trailer.log_to = source.last_id
        writer.close()
    except BaseException:
        writer.abort()
        raise
    point = max(trailer.ended_ms, _id_ms(trailer.log_to))
    return BackupInfo(
        path,
        header.id,
        base is not None,
        trailer.values,
        trailer.tags,
        trailer.changes,
        writer.bytes,
        time.perf_counter() - started,
        point,
    )


def _write_all(writer: Writer, records: Iterator[Record], progress: Progress | None) -> None:
    """Hands `records` to `writer` in batches of `WRITE_BATCH` (progress after each)."""
    trailer = writer.trailer
    while batch := list(islice(records, WRITE_BATCH)):
        writer.add_many(batch)
        if progress is not None:
            progress(trailer.values + trailer.tags + trailer.changes, None, writer.bytes)


def _id_ms(entry_id: str | None) -> int:
    """The time of a change-log id (0 for none, or a disk tier's ``seq:<n>`` position)."""
    if entry_id is None or entry_id.startswith("seq:"):
        return 0
    return changelog.parse_id(entry_id)[0]


def _base(source: Source, base: Path, encrypt: bool | Codec) -> dict[str, str]:
    header, trailer = verify(base, encrypt if isinstance(encrypt, Codec) else None)
    if header.key_prefix != source.key_prefix or header.source != source.kind:
        msg = f"incremental_from: {base} is a backup of another tier or key prefix"
        raise BackupError(msg)
    if trailer.log_to is None:
        msg = (
            f"incremental_from: {base} holds no change-log position; incremental backups "
            "need RedisOptions(change_log=True) since before the base backup"
        )
        raise BackupError(msg)
    return {"id": header.id, "path": str(base.resolve()), "log_to": trailer.log_to}


def _chain(path: Path, codec: Codec | None) -> list[tuple[Path, Header, Trailer]]:
    """The backups to apply, oldest first, each verified."""
    chain: list[tuple[Path, Header, Trailer]] = []
    while True:
        header, trailer = verify(path, codec)
        chain.append((path, header, trailer))
        if header.base is None:
            return chain[::-1]
        if len(chain) > 10_000:
            msg = f"backup chain of {chain[0][0]} is longer than 10,000 files"
            raise BackupError(msg)
        path = _find_base(path, header.base)


def _find_base(child: Path, base: dict[str, object]) -> Path:
    stored = Path(str(base["path"]))
    for candidate in (child.parent / stored.name, stored):
        if candidate.is_file():
            with _open(candidate) as reader:
                if reader.header.id == base["id"]:
                    return candidate
    msg = (
        f"backup {child} follows backup {base['id']} ({stored.name}), found neither next to it "
        f"nor at {stored}; nothing was restored"
    )
    raise BackupError(msg)


class _open:
    def __init__(self, path: Path) -> None:
        self.reader = Reader(path, None)

    def __enter__(self) -> Reader:
        return self.reader

    def __exit__(self, *exc: object) -> None:
        self.reader.close()


def at_ms(at: object) -> int | None:
    """`at` (unix seconds or an aware datetime) in milliseconds."""
    if at is None:
        return None
    if isinstance(at, dt.datetime):
        if at.tzinfo is None:
            msg = "at must be an aware datetime (with tzinfo) or unix seconds"
            raise ValueError(msg)
        return math.floor(at.timestamp() * 1000)
    if not isinstance(at, (int, float)) or isinstance(at, bool) or not math.isfinite(at):
        msg = "at must be unix seconds (a finite number) or an aware datetime"
        raise TypeError(msg)
    return math.floor(at * 1000)


def restore(
    sink: Sink,
    path: str | Path,
    *,
    at: float | dt.datetime | None = None,
    codec: Codec | None = None,
    progress: Progress | None = None,
) -> RestoreInfo:
    """Restores the backup at `path` (and the backups it follows) into `sink`."""
    started = time.perf_counter()
    until = at_ms(at)
    chain = _chain(Path(path), codec)
    for file, header, _ in chain:
        if header.key_prefix != sink.key_prefix or header.source != sink.kind:
            msg = (
                f"backup {file} is of key prefix {header.key_prefix!r} on {header.source}; "
                f"this cache uses {sink.key_prefix!r} on {sink.kind}"
            )
            raise BackupError(msg)
    _check_at(chain, until)
    total = sum(t.records for _, _, t in chain)
    done = applied = 0
    for batch in prefetch(_batches(chain, codec, until)):  # read + verified on a thread
        applied += sink.write(batch)
        done += len(batch)
        if progress is not None:
            progress(done, total, 0)
    if progress is not None and done == 0:
        progress(done, total, 0)
    return RestoreInfo(len(chain), done, applied, time.perf_counter() - started)


def _batches(
    chain: list[tuple[Path, Header, Trailer]], codec: Codec | None, until: int | None
) -> Iterator[list[Record]]:
    """The records of `chain` to apply (up to `until`), in batches of `RESTORE_BATCH`."""
    batch: list[Record] = []
    for file, _, _ in chain:
        reader = Reader(file, codec)
        try:
            for record in reader.records():
                if until is not None and record[0] not in _SNAPSHOT and record[4] > until:
                    break
                batch.append(record)
                if len(batch) >= RESTORE_BATCH:
                    yield batch
                    batch = []
        finally:
            reader.close()
    if batch:
        yield batch


def _check_at(chain: list[tuple[Path, Header, Trailer]], until: int | None) -> None:
    if until is None:
        return
    first, last = chain[0][2], chain[-1][2]
    newest = max(last.ended_ms, _id_ms(last.log_to))
    if until < first.ended_ms:
        msg = (
            f"at is before the full backup's point in time ({first.ended_ms} ms): a restore "
            "can only move forward from a full backup"
        )
        raise ValueError(msg)
    if until > newest:
        msg = f"at is after the newest change these backups hold ({newest} ms)"
        raise ValueError(msg)
