"""The raw ceiling of the disk-tier backup cases (py-lmdb, run as a subprocess so it never
opens an environment the benchmark process holds open, which LMDB forbids):

``_raw_lmdb.py dump DIR FILE``: every (key, record) of the store's ``entries`` database from
one read transaction, length-prefixed into FILE, fsynced; ``_raw_lmdb.py load FILE DIR``:
those records put into a new environment in one write transaction, synced at commit. No
codec, checksum or compression: a copy of the bytes and nothing else.
"""

from __future__ import annotations

import os
import struct
import sys
from collections.abc import Iterator
from pathlib import Path

import lmdb

_LEN = struct.Struct("<II")


def dump(directory: str, path: str) -> None:
    env = lmdb.open(directory, readonly=True, lock=True, max_dbs=4, readahead=False)
    db = env.open_db(b"entries", create=False)
    with env.begin(db=db, buffers=True) as txn, Path(path).open("wb", buffering=1 << 20) as out:
        for key, value in txn.cursor():
            out.write(_LEN.pack(len(key), len(value)))
            out.write(key)
            out.write(value)
        out.flush()
        os.fsync(out.fileno())
    env.close()


def _records(path: str) -> Iterator[tuple[bytes, bytes]]:
    data = Path(path).read_bytes()
    i = 0
    while i < len(data):
        klen, vlen = _LEN.unpack_from(data, i)
        i += _LEN.size
        yield data[i : i + klen], data[i + klen : i + klen + vlen]
        i += klen + vlen


def load(path: str, directory: str) -> None:
    Path(directory).mkdir(parents=True, exist_ok=True)
    env = lmdb.open(directory, map_size=8 << 30, max_dbs=4, readahead=False)
    db = env.open_db(b"entries")
    with env.begin(write=True, db=db) as txn:
        txn.cursor().putmulti(_records(path))
    env.close()


if __name__ == "__main__":
    (dump if sys.argv[1] == "dump" else load)(sys.argv[2], sys.argv[3])
