"""``stratacache backup`` and ``stratacache restore``: `Cache.backup` / `Cache.restore` of a
Redis tier (``--redis URL``) or a disk tier (``--disk DIR``) from the shell, with tqdm
progress bars (the `cli` extra)."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import Any

from .._extras import require
from ..errors import StratacacheError

__all__ = ["add_commands", "run"]


def add_commands(commands: Any) -> None:
    """Adds the two subcommands to the `stratacache` parser's subparsers."""
    backup = commands.add_parser(
        "backup",
        help="back up what a Redis or disk tier holds to a file (full or incremental)",
        description="Writes the entries under one key prefix of a Redis tier (SCAN on every "
        "primary in bounded batches), or of a disk tier, to PATH: absolute expiry times, "
        "checksummed chunks.",
    )
    _common(backup)
    backup.add_argument(
        "--namespace",
        action="append",
        dest="namespaces",
        metavar="NS",
        help="only this namespace (repeatable; default: all)",
    )
    backup.add_argument(
        "--incremental-from",
        metavar="BASE",
        help="save only the changes since backup BASE (Redis: needs change_log=True; "
        "disk: the entries written since BASE)",
    )
    backup.add_argument("--compression", choices=("lz4", "zstd", "none"), default="lz4")
    restore = commands.add_parser(
        "restore",
        help="restore a backup (and the backups it follows) into a Redis or disk tier",
        description="Verifies PATH and its base backups whole, then writes them into the tier "
        "in bounded batches (Redis: announcing what it overwrites to the other processes).",
    )
    _common(restore)
    restore.add_argument(
        "--at",
        type=_time,
        metavar="TIME",
        help="restore the state at TIME: unix seconds or ISO 8601 with offset (Redis only)",
    )


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", help="the backup file")
    tier = parser.add_mutually_exclusive_group(required=True)
    tier.add_argument("--redis", metavar="URL", help="the Redis tier's URL")
    tier.add_argument("--disk", metavar="DIR", help="the disk tier's directory")
    parser.add_argument("--key-prefix", default="sc:", help="the Redis tier's key prefix (sc:)")
    parser.add_argument(
        "--max-bytes",
        type=int,
        default=1 << 30,
        metavar="N",
        help="the disk tier's max_bytes, as the application opens it (default 1 GiB): a "
        "restore evicts to keep this bound",
    )
    parser.add_argument(
        "--encryption-key-file",
        metavar="FILE",
        help="a 32-byte key (raw or 64 hex digits): encrypt / decrypt with it",
    )


def _time(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        pass
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        msg = f"not unix seconds nor an ISO 8601 time: {text!r}"
        raise argparse.ArgumentTypeError(msg) from None
    if when.tzinfo is None:
        msg = "an ISO 8601 time needs its UTC offset (e.g. 2026-01-01T12:00:00+00:00)"
        raise argparse.ArgumentTypeError(msg)
    return when.timestamp()


def _key(path: str) -> bytes:
    data = Path(path).read_bytes()
    text = data.strip()
    if len(text) == 64:
        try:
            return bytes.fromhex(text.decode("ascii"))
        except (UnicodeDecodeError, ValueError):
            pass
    if len(data) != 32:
        msg = f"{path} holds neither 32 raw bytes nor 64 hex digits"
        raise StratacacheError(msg)
    return data


def run(args: argparse.Namespace) -> int:
    """Runs `backup` or `restore`; the exit status (1 with the error on stderr)."""
    name = f"stratacache {args.command}"
    try:
        tqdm = require("tqdm", "cli", name).tqdm
        from ..codec import Codec  # noqa: PLC0415 - the CLI imports the package lazily

        key = _key(args.encryption_key_file) if args.encryption_key_file else None
        codec = Codec(encryption_keys=key) if key else Codec()
        with _cache(args, codec) as cache:
            bar = tqdm(unit=" records", desc=args.command, file=sys.stderr)
            try:
                message = _execute(args, cache, codec if key else False, bar)
            finally:
                bar.close()
    except (StratacacheError, OSError, ValueError) as e:
        sys.stderr.write(f"{name}: error: {e}\n")
        return 1
    except KeyboardInterrupt:
        sys.stderr.write(f"{name}: interrupted\n")
        return 130
    sys.stdout.write(message + "\n")
    return 0


def _cache(args: argparse.Namespace, codec: Any) -> Any:
    """The cache over the tier the command names."""
    from ..caches import Cache  # noqa: PLC0415

    if args.disk is not None:
        from ..tiers.disk import DiskOptions  # noqa: PLC0415

        return Cache(disk=DiskOptions(args.disk, max_bytes=args.max_bytes), codec=codec)
    from ..tiers.redis.config import RedisOptions  # noqa: PLC0415

    options = RedisOptions(key_prefix=args.key_prefix, fail_open=False, coherence="pubsub")
    return Cache(redis=args.redis, redis_options=options, codec=codec, l1=False)


def _execute(args: argparse.Namespace, cache: Any, encrypt: Any, bar: Any) -> str:
    def progress(done: int, total: int | None, written: int) -> None:
        if total is not None and bar.total != total:
            bar.total = total
        if written:
            bar.set_postfix_str(f"{written / 1e6:.1f} MB", refresh=False)
        bar.update(done - bar.n)

    if args.command == "backup":
        compression = None if args.compression == "none" else args.compression
        info = cache.backup(
            args.path,
            args.namespaces,
            args.incremental_from,
            encrypt=encrypt,
            compression=compression,
            progress=progress,
        )
        kind = "incremental" if info.incremental else "full"
        return (
            f"wrote {kind} backup {info.path}: {info.values} values, {info.tags} tag versions, "
            f"{info.changes} changes, {info.bytes / 1e6:.1f} MB in {info.seconds:.1f} s"
        )
    done = cache.restore(args.path, args.at, progress=progress)
    return (
        f"restored {done.applied} of {done.records} records from {done.files} file(s) "
        f"in {done.seconds:.1f} s"
    )
