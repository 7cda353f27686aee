"""The backup file format: a versioned header, checksummed chunks of records, a trailer.

Layout (integers big-endian)::

    b"SCBACKUP" u16 version
    u32 header length, header (JSON), u32 CRC-32 of the header
    frames: u8 kind, u32 length, u32 CRC-32 of the payload, payload
      kind b"C": a chunk, the records sealed by a `Codec` (msgpack, compressed, and
                 encrypted when the backup is) under the name ``backup:<id>:<chunk number>``,
                 so a chunk cannot be moved to another place or file unnoticed
      kind b"E": the trailer (JSON): counts, the change-log range, and a CRC-32 over the
                 frame headers before it (each holding its chunk's CRC), so a chunk missing,
                 repeated or moved is caught; the last frame, so a truncated file has none

A record is ``[kind, name, data, expire_at_ms, at_ms]`` (bytes name/data, 0 = none): "v" a
value (name: its key behind the tier's key prefix, data: its envelope), "g" a tag version
(name: the tag), and the change-log kinds of `changelog` replayed in order. Readers verify
the whole file (`verify`) before anything is restored.
"""

from __future__ import annotations

import json
import os
import struct
import uuid
import zlib
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path
from typing import Any, BinaryIO, NoReturn

from ..codec import Codec
from ..errors import BackupError, CodecError, TamperedDataError

__all__ = ["VERSION", "BackupError", "Header", "Reader", "Trailer", "Writer", "verify"]

MAGIC = b"SCBACKUP"
VERSION = 1
#: A chunk is sealed once it holds this many payload bytes or records.
CHUNK_BYTES = 1 << 20
CHUNK_RECORDS = 4096
_FRAME = struct.Struct(">cII")
_MAX_HEADER = 1 << 20

Record = list[Any]  # [kind: str, name: bytes, data: bytes, expire_at_ms: int, at_ms: int]


@dataclass
class Header:
    """What a backup is, written before its records."""

    source: str  # "redis" or "disk"
    key_prefix: str
    namespaces: list[str] | None
    encrypted: bool
    base: dict[str, Any] | None = None  # {"id", "path"} of the backup this one follows
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    version: int = VERSION

    def to_json(self) -> bytes:
        return json.dumps(self.__dict__, sort_keys=True).encode()


@dataclass
class Trailer:
    """What the backup holds, written after its records."""

    chunks: int = 0
    records: int = 0
    values: int = 0
    tags: int = 0
    changes: int = 0
    started_ms: int = 0  # Redis time when the scan began
    ended_ms: int = 0  # Redis time when it ended: the backup's point in time
    log_to: str | None = None  # last change-log entry included (None: no change log)
    chain_crc: int = 0


def _chunk_name(backup_id: str, number: int) -> str:
    return f"backup:{backup_id}:{number}"


class Writer:
    """Writes a backup to ``<path>.partial`` and renames it into place on `close`, so a failed
    backup never leaves a half file under the name."""

    def __init__(self, path: Path, header: Header, codec: Codec) -> None:
        self.path = path
        self.header = header
        self.trailer = Trailer()
        self.bytes = 0
        self._codec = codec
        self._partial = path.with_name(path.name + ".partial")
        self._file: BinaryIO = self._partial.open("wb")
        self._chain = 0
        self._pending: list[Record] = []
        self._pending_bytes = 0
        head = header.to_json()
        self._raw(MAGIC + struct.pack(">HI", VERSION, len(head)) + head)
        self._raw(struct.pack(">I", zlib.crc32(head)))

    def _raw(self, data: bytes) -> None:
        self._file.write(data)
        self.bytes += len(data)

    def _frame(self, kind: bytes, payload: bytes) -> None:
        head = _FRAME.pack(kind, len(payload), zlib.crc32(payload))
        if kind == b"C":
            self._chain = zlib.crc32(head, self._chain)
        self._raw(head)
        self._raw(payload)

    def add(self, record: Record) -> None:
        """Queues one record; a full chunk is sealed and written."""
        self.add_many([record])

    def add_many(self, records: Sequence[Record]) -> None:
        """Queues `records` in order; each chunk is sealed and written once full (the same
        chunks as one `add` each, found with a running sum rather than a step per record)."""
        kinds = [r[0] for r in records]
        values, tags = kinds.count("v"), kinds.count("g")
        self.trailer.values += values
        self.trailer.tags += tags
        self.trailer.changes += len(kinds) - values - tags
        sums = list(accumulate(len(r[1]) + len(r[2]) + 24 for r in records))
        start, base = 0, 0  # base: sums[start - 1]
        while start < len(records):
            # the first record that fills the chunk by bytes, or by count, or the last one
            full = bisect_left(sums, CHUNK_BYTES - self._pending_bytes + base, lo=start)
            end = min(full + 1, start + CHUNK_RECORDS - len(self._pending), len(records))
            self._pending.extend(records[start:end])
            self._pending_bytes += sums[end - 1] - base
            if self._pending_bytes >= CHUNK_BYTES or len(self._pending) >= CHUNK_RECORDS:
                self.flush()
            start, base = end, sums[end - 1]

    def flush(self) -> None:
        if not self._pending:
            return
        name = _chunk_name(self.header.id, self.trailer.chunks)
        self._frame(b"C", self._codec.encode(name, self._pending))
        self.trailer.chunks += 1
        self.trailer.records += len(self._pending)
        self._pending, self._pending_bytes = [], 0

    def close(self) -> None:
        """Writes the trailer, syncs the file and moves it into place."""
        self.flush()
        self.trailer.chain_crc = self._chain
        self._frame(b"E", json.dumps(self.trailer.__dict__, sort_keys=True).encode())
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        self._partial.replace(self.path)

    def abort(self) -> None:
        self._file.close()
        self._partial.unlink(missing_ok=True)


class Reader:
    """Reads a backup; `records` checks every checksum and seal as it goes and raises
    `BackupError` at the first fault (verify first: `verify` reads to the end)."""

    def __init__(self, path: Path, codec: Codec | None) -> None:
        self.path = path
        try:
            self._file: BinaryIO = path.open("rb")
        except OSError as exc:
            msg = f"cannot open backup {path}: {exc.strerror}"
            raise BackupError(msg) from None
        try:
            self.header = self._header()
        except BaseException:
            self._file.close()
            raise
        self.trailer: Trailer | None = None
        self._codec = codec if self.header.encrypted else Codec()

    def close(self) -> None:
        self._file.close()

    def _fail(self, what: str) -> NoReturn:
        msg = f"backup {self.path} is {what}; nothing was restored"
        raise BackupError(msg) from None

    def _read(self, size: int, what: str) -> bytes:
        data = self._file.read(size)
        if len(data) != size:
            self._fail(f"truncated ({what} cut short)")
        return data

    def _header(self) -> Header:
        if self._file.read(len(MAGIC)) != MAGIC:
            self._fail("not a stratacache backup (bad magic bytes)")
        version, size = struct.unpack(">HI", self._read(6, "header"))
        if version != VERSION:
            self._fail(f"format version {version}; this build reads version {VERSION}")
        if size > _MAX_HEADER:
            self._fail("corrupted (header length out of range)")
        head = self._read(size, "header")
        (crc,) = struct.unpack(">I", self._read(4, "header checksum"))
        if zlib.crc32(head) != crc:
            self._fail("corrupted (header checksum mismatch)")
        try:
            return Header(**json.loads(head))
        except (ValueError, TypeError):
            self._fail("corrupted (unreadable header)")

    def records(self) -> Iterator[Record]:
        """Every record in order; the trailer is checked at the end (`self.trailer`)."""
        chain, number, count = 0, 0, 0
        while True:
            kind, size, crc = _FRAME.unpack(self._read(_FRAME.size, "frame header"))
            if size > 256 << 20:
                self._fail(f"corrupted (chunk {number} length out of range)")
            payload = self._read(size, f"chunk {number}")
            if zlib.crc32(payload) != crc:
                self._fail(f"corrupted (chunk {number} checksum mismatch)")
            if kind == b"E":
                self._check_trailer(payload, chain, number, count)
                if self._file.read(1):
                    self._fail("corrupted (bytes after the trailer)")
                return
            if kind != b"C":
                self._fail(f"corrupted (unknown frame kind {kind!r})")
            chain = zlib.crc32(_FRAME.pack(kind, size, crc), chain)
            chunk = self._open(payload, number)
            count += len(chunk)
            yield from chunk
            number += 1

    def _open(self, payload: bytes, number: int) -> list[Record]:
        if self._codec is None:
            msg = f"backup {self.path} is encrypted: pass the codec holding its keys"
            raise BackupError(msg)
        try:
            chunk = self._codec.decode(_chunk_name(self.header.id, number), payload)
        except TamperedDataError as exc:
            cause = "sealed with another key, or altered" if self.header.encrypted else "altered"
            self._fail(f"{cause} (chunk {number}: {exc})")
        except CodecError as exc:
            self._fail(f"corrupted (chunk {number}: {exc})")
        if type(chunk) is not list or not _all_valid(chunk):
            self._fail(f"corrupted (chunk {number} holds malformed records)")
        return chunk

    def _check_trailer(self, payload: bytes, chain: int, chunks: int, records: int) -> None:
        try:
            trailer = Trailer(**json.loads(payload))
        except (ValueError, TypeError):
            self._fail("corrupted (unreadable trailer)")
        if (trailer.chunks, trailer.records, trailer.chain_crc) != (chunks, records, chain):
            self._fail("corrupted (chunks missing, reordered or altered)")
        self.trailer = trailer


def _all_valid(chunk: list[Any]) -> bool:
    """Every record of `chunk` is ``[str, bytes, bytes, int, int]`` (exact types: what the
    codec decodes; one loop rather than a call per record)."""
    for record in chunk:
        if (
            type(record) is not list
            or len(record) != 5
            or type(record[0]) is not str
            or type(record[1]) is not bytes
            or type(record[2]) is not bytes
            or type(record[3]) is not int
            or type(record[4]) is not int
        ):
            return False
    return True


def verify(path: Path, codec: Codec | None) -> tuple[Header, Trailer]:
    """Reads the whole backup, checking every checksum and seal; its header and trailer.

    Raises:
        BackupError: the file is missing, not a backup, truncated, corrupted or sealed with
            a key `codec` does not hold.
    """
    reader = Reader(path, codec)
    try:
        for _ in reader.records():
            pass
    finally:
        reader.close()
    assert reader.trailer is not None
    return reader.header, reader.trailer
