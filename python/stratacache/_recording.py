"""Access recording of a cache's L1: option checks, the trace export and the live curve.

A cache created with ``record=R`` logs a sample of its L1 accesses in a bounded ring: a key is
in the sample or out of it by its hash (as in SHARDS, Waldspurger et al., FAST 2015), so a
sampled key keeps every one of its accesses and memory stays flat whatever the key space.

Trace file (``export_trace``), format v1, gzip-compressed text::

    # stratacache-trace v1 sample_rate=<R>
    <t_ns> <op> <key_hash> <ns_hash>

one line per record after the header, oldest first: t_ns the monotonic clock in nanoseconds,
op one of ``h`` (get hit), ``m`` (get miss), ``s`` (set), ``d`` (delete or invalidation),
key_hash the 64-bit key hash and ns_hash the 32-bit namespace hash, both unsigned decimal.
`stratacache.simulate` and `stratacache.miss_ratio_curve` read such a file: its reads (h and
m) are the requests, keyed by their hash. The file is a sample: a curve drawn from it at
sample_rate 1 is in entries of the sample, which `miss_ratio_curve` below scales back.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from numbers import Real
from typing import TYPE_CHECKING, Any

from ._options import check_bound, require_type
from .errors import ConfigError

if TYPE_CHECKING:  # mrc (pathlib, dataclasses) loads with the first curve, not every cache
    from .mrc import MissRatioCurve

__all__ = ["DEFAULT_RECORD_CAPACITY", "check_recording", "export_trace", "recorded_curve"]

#: Records the ring holds when `record_capacity` is not given (32 bytes each: 8 MiB).
DEFAULT_RECORD_CAPACITY = 1 << 18

_MIN_RATE = 2.0**-24
_MAX_CAPACITY = 1 << 32


def check_recording(record: object, record_capacity: object) -> tuple[float, int]:
    """The engine's (rate, capacity) for the cache options; (0.0, 0) when recording is off.

    Raises:
        TypeError: record is not a number or record_capacity not an int.
        ConfigError: record outside (0, 1] (or below 2**-24), record_capacity <= 0 or above
            2**32, or record_capacity given without record.
    """
    if record is None:
        if record_capacity is not None:
            msg = "record_capacity needs record=<sample rate> too"
            raise ConfigError(msg)
        return 0.0, 0
    if isinstance(record, bool) or not isinstance(record, Real):
        msg = f"record must be a sample rate in (0, 1] or None, not {type(record).__name__}"
        raise TypeError(msg)
    rate = float(record)
    if not _MIN_RATE <= rate <= 1.0:
        msg = f"record must be a sample rate in (0, 1] (at least 2**-24), got {record!r}"
        raise ConfigError(msg)
    capacity = check_bound(record_capacity, "record_capacity") or DEFAULT_RECORD_CAPACITY
    if capacity > _MAX_CAPACITY:
        msg = f"record_capacity must be at most 2**32 records, got {capacity}"
        raise ConfigError(msg)
    return rate, capacity


def export_trace(store: Any, path: str | os.PathLike[str]) -> int:
    """Writes the store's records to `path` (format in the module docstring); returns how many."""
    require_type(path, (str, os.PathLike), "path", "a str or os.PathLike")
    from pathlib import Path  # noqa: PLC0415

    return int(store.export_trace(str(Path(path))))


def recorded_curve(store: Any, policy: str, sizes: Iterable[int] | None) -> MissRatioCurve:
    """The miss-ratio curve of the recorded reads, in entries of the whole cache.

    The sample is replayed exactly at sample scale; a cache of S entries is modelled by one of
    round(S * R) entries of the sample (at least 1), and sizes are reported at full scale.
    """
    from .mrc import MissRatioCurve, _check_sizes  # noqa: PLC0415

    require_type(policy, str, "policy", "a str")
    info = store.recording()
    if info is None:
        msg = "recording is off: create the cache with record=<sample rate>"
        raise ConfigError(msg)
    rate = float(info["sample_rate"])
    wanted = _check_sizes(sizes)
    scaled = sorted({max(1, round(s * rate)) for s in wanted})
    core = store.recorded_miss_ratio_curve(policy, scaled)
    if core.requests == 0:
        return MissRatioCurve((), (), policy, rate, 0, 0, 0)
    by_sample_size = dict(zip(core.sizes, core.miss_ratios, strict=True))
    if wanted:
        points = sorted({s: by_sample_size[max(1, round(s * rate))] for s in wanted}.items())
    else:
        points = [(round(s / rate), m) for s, m in by_sample_size.items()]
    return MissRatioCurve(
        sizes=tuple(s for s, _ in points),
        miss_ratios=tuple(m for _, m in points),
        policy=core.policy,
        sample_rate=rate,
        requests=round(core.requests / rate),
        sampled_requests=core.requests,
        distinct_keys=round(core.distinct_keys / rate),
    )
