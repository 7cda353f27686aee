"""Reading a trace file into what the analysis needs: a replay file the engine reads, the
requests per key and, where the trace has them, the request times."""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import os
import re
import shutil
import tempfile
import weakref
import zlib
from array import array
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, TYPE_CHECKING, cast

from .._extras import ProgressBar, progress_bar
from ..errors import CorruptDataError, StratacacheError, TraceIOError

if TYPE_CHECKING:
    from typing_extensions import Self

#: Trace formats `read_trace` recognises, by the name `Trace.format` reports.
FORMATS: tuple[str, ...] = ("ints", "keys", "csv")

_CHUNK = 1 << 22
# One integer key per line as the engine reads it, in one spelling per value (no leading
# zeros, no "-0") so that equal lines are equal keys; 18 digits keep every value in int64.
_INT_LINES = re.compile(rb"(?:(?:-?[1-9][0-9]{0,17}|0)\n)*")
_TIME_COLUMNS = ("time", "timestamp", "ts", "t")
_MAX_LINE = 1 << 16


class Trace:
    """A trace read into memory, with a replay file for `simulate` and `miss_ratio_curve`.

    Formats: "ints" (one integer key per line, plain or gzip: the format of `shared/traces`,
    replayed from the file itself), "keys" (one key per line, any text; blank lines skipped),
    "csv" (a header naming a `time` column, seconds or ISO 8601, and a `key` column). Keys of
    the last two are renamed to integers in order of first appearance, which keeps every hit
    ratio, into a temporary replay file removed by `close()` (or when the Trace is collected).

    Attributes:
        path: the file read.
        format: one of `FORMATS`.
        replay_path: one integer key per line, what the engine replays.
        requests: requests (lines or rows) of the trace.
        distinct_keys: distinct keys among them.
        frequencies: requests of each key, most requested first.
        keys: the key id of each request (ids in order of first appearance), for timed traces.
        times: seconds from the first request to each request, for timed traces (else None).
    """

    def __init__(
        self,
        path: Path,
        fmt: str,
        replay_path: Path,
        counts: Counter[bytes] | Counter[int],
        *,
        keys: array[int] | None = None,
        times: array[float] | None = None,
        workdir: Path | None = None,
    ) -> None:
        self.path = path
        self.format = fmt
        self.replay_path = replay_path
        self.frequencies: tuple[int, ...] = tuple(sorted(counts.values(), reverse=True))
        self.requests = sum(self.frequencies)
        self.distinct_keys = len(self.frequencies)
        self.keys = keys
        self.times = times
        self._cleanup = (
            weakref.finalize(self, shutil.rmtree, workdir, ignore_errors=True)
            if workdir is not None
            else None
        )

    @property
    def duration(self) -> float | None:
        """Seconds from the first request to the last, for timed traces (else None)."""
        return self.times[-1] if self.times else None

    def close(self) -> None:
        """Removes the temporary replay file, if one was written. Idempotent."""
        if self._cleanup is not None:
            self._cleanup()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"Trace({str(self.path)!r}, format={self.format!r}, requests={self.requests}, "
            f"distinct_keys={self.distinct_keys}, timed={self.times is not None})"
        )


def read_trace(path: str | os.PathLike[str], *, progress: bool = False) -> Trace:
    """Reads a trace file, detecting its format (see `Trace`), gzip-compressed or plain.

    Args:
        path: the trace file.
        progress: show a progress bar (on stderr, only when it is a terminal).

    Returns:
        The trace; `close()` it (or use it as a context manager) to remove its replay file.

    Raises:
        TypeError: path is not a str or path-like.
        TraceIOError: the file cannot be opened or read.
        CorruptDataError: the file is not a trace of a known format (not text, a bad CSV row,
            times going back, a truncated gzip stream) or holds no requests.
        MissingExtraError: progress is set and tqdm (the `cli` extra) is not installed.
    """
    p = Path(os.fspath(path))
    try:
        with _opened(p, progress=False) as (stream, _):
            first = stream.readline(_MAX_LINE)
    except (OSError, EOFError, zlib.error) as e:
        raise _error(p, e) from e
    csv_columns = _csv_columns(first)
    try:
        with _opened(p, progress) as (stream, tick):
            if csv_columns is not None:
                return _read_csv(p, stream, tick, *csv_columns)
            counts = _count_int_lines(p, stream, tick)
            if counts is not None:
                return _finish(Trace(p, "ints", p, counts))
        with _opened(p, progress) as (stream, tick):
            return _read_keys(p, stream, tick)
    except (OSError, EOFError, zlib.error) as e:
        raise _error(p, e) from e


def _error(path: Path, e: OSError | EOFError | zlib.error) -> StratacacheError:
    if isinstance(e, OSError) and not isinstance(e, gzip.BadGzipFile):
        return TraceIOError(f"cannot read trace '{path}': {e.strerror or e}")
    return CorruptDataError(f"cannot read trace '{path}': damaged gzip data ({e})")


@contextlib.contextmanager
def _opened(path: Path, progress: bool) -> Iterator[tuple[io.BufferedIOBase, _Tick]]:
    size = path.stat().st_size
    with path.open("rb") as raw:
        gzipped = raw.read(2) == b"\x1f\x8b"
        raw.seek(0)
        stream: io.BufferedIOBase = gzip.GzipFile(fileobj=raw, mode="rb") if gzipped else raw
        bar = progress_bar(
            progress,
            "read_trace(progress=True)",
            total=size,
            unit="B",
            unit_scale=True,
            desc=f"reading {path.name}",
            disable=None,
            leave=False,
        )
        try:
            yield stream, _Tick(raw, bar)
        finally:
            bar.close()
            stream.close()


class _Tick:
    """Moves a progress bar to the position reached in the (compressed) file."""

    def __init__(self, raw: IO[bytes], bar: ProgressBar) -> None:
        self._raw, self._bar = raw, bar

    def __call__(self) -> None:
        self._bar.update(self._raw.tell() - self._bar.n)


def _line_chunks(path: Path, stream: io.BufferedIOBase, tick: _Tick) -> Iterator[bytes]:
    """Chunks of whole lines, each ending with a newline (one is added at the end if missing)."""
    rest = b""
    while block := stream.read(_CHUNK):
        tick()
        data = rest + block
        cut = data.rfind(b"\n") + 1
        rest = data[cut:]
        if len(rest) > _MAX_LINE:
            msg = f"{path}: a line longer than {_MAX_LINE} bytes: not a trace of keys"
            raise CorruptDataError(msg)
        if cut:
            yield data[:cut]
    if rest:
        yield rest + b"\n"


def _count_int_lines(path: Path, stream: io.BufferedIOBase, tick: _Tick) -> Counter[bytes] | None:
    """Requests per key of an "ints" trace, or None as soon as a line is not one."""
    counts: Counter[bytes] = Counter()
    for chunk in _line_chunks(path, stream, tick):
        if not _INT_LINES.fullmatch(chunk):
            return None
        lines = chunk.split(b"\n")
        lines.pop()
        counts.update(lines)
    return counts


def _read_keys(path: Path, stream: io.BufferedIOBase, tick: _Tick) -> Trace:
    ids: dict[bytes, int] = {}
    order = array("q")
    counts: Counter[int] = Counter()
    for chunk in _line_chunks(path, stream, tick):
        if b"\x00" in chunk:
            msg = f"{path}: binary data (a NUL byte), not a text trace"
            raise CorruptDataError(msg)
        try:
            chunk.decode("utf-8")
        except UnicodeDecodeError as e:
            msg = f"{path}: not UTF-8 text ({e.reason} at a byte of value {chunk[e.start]:#x})"
            raise CorruptDataError(msg) from None
        for line in chunk.split(b"\n"):
            key = line.rstrip(b"\r")
            if key:
                i = ids.get(key)
                if i is None:
                    i = ids[key] = len(ids)
                order.append(i)
    counts.update(order)
    return _finish(_renamed(path, "keys", order, counts))


def _csv_columns(first: bytes) -> tuple[int, int] | None:
    """(time column, key column) if `first` is a CSV header naming both, else None."""
    try:
        header = next(csv.reader([first.decode("utf-8").strip()]))
    except (UnicodeDecodeError, StopIteration, csv.Error):
        return None
    names = [h.strip().lower() for h in header]
    time_col = next((names.index(n) for n in _TIME_COLUMNS if n in names), None)
    if time_col is None or "key" not in names or len(names) < 2:
        return None
    return time_col, names.index("key")


def _read_csv(
    path: Path, stream: io.BufferedIOBase, tick: _Tick, time_col: int, key_col: int
) -> Trace:
    text = io.TextIOWrapper(cast("IO[bytes]", stream), encoding="utf-8", newline="")
    rows = csv.reader(text)
    ids: dict[str, int] = {}
    order, times = array("q"), array("d")
    start = last = None
    try:
        next(rows)  # the header
        for row in rows:
            if not row:
                continue
            line = rows.line_num
            if len(row) <= max(time_col, key_col):
                msg = f"{path}:{line}: expected a time and a key, got {','.join(row)[:60]!r}"
                raise CorruptDataError(msg)
            t = _seconds(path, line, row[time_col])
            if last is not None and t < last:
                msg = f"{path}:{line}: time goes back ({row[time_col]!r} after an earlier row)"
                raise CorruptDataError(msg)
            if start is None:
                start = t
            last = t
            key = row[key_col]
            i = ids.get(key)
            if i is None:
                i = ids[key] = len(ids)
            order.append(i)
            times.append(t - start)
            if not line & 0xFFFF:
                tick()
    except UnicodeDecodeError as e:
        msg = f"{path}: not UTF-8 text ({e.reason})"
        raise CorruptDataError(msg) from None
    except csv.Error as e:
        msg = f"{path}:{rows.line_num}: {e}"
        raise CorruptDataError(msg) from None
    finally:
        text.detach()
    counts: Counter[int] = Counter(order)
    return _finish(_renamed(path, "csv", order, counts, times))


def _seconds(path: Path, line: int, text: str) -> float:
    """A time field as seconds: a number as it is, or an ISO 8601 date-time (naive: UTC)."""
    text = text.strip()
    try:
        return float(text)
    except ValueError:
        pass
    try:
        stamp = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError:
        msg = f"{path}:{line}: time {text[:40]!r} is neither seconds nor an ISO 8601 date-time"
        raise CorruptDataError(msg) from None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=timezone.utc)
    return stamp.timestamp()


def _renamed(
    path: Path,
    fmt: str,
    order: array[int],
    counts: Counter[int],
    times: array[float] | None = None,
) -> Trace:
    """A Trace whose replay file holds `order`, written to a temporary directory."""
    workdir = Path(tempfile.mkdtemp(prefix="stratacache-trace-"))
    replay = workdir / "replay.txt"
    step = 1 << 20
    with replay.open("w", encoding="ascii") as out:
        for i in range(0, len(order), step):
            out.write("\n".join(map(str, order[i : i + step])))
            out.write("\n")
    timed = times is not None
    return Trace(
        path, fmt, replay, counts, keys=order if timed else None, times=times, workdir=workdir
    )


def _finish(trace: Trace) -> Trace:
    if trace.requests == 0:
        trace.close()
        msg = f"trace '{trace.path}' holds no requests"
        raise CorruptDataError(msg)
    return trace
