"""Validation of the arguments every public entry point shares (no I/O, no state)."""

from __future__ import annotations

import datetime
import math
import sys
from numbers import Real
from typing import TYPE_CHECKING, TypeAlias

from .errors import ConfigError, InvalidTTLError

if TYPE_CHECKING:
    from typing_extensions import TypeIs

    from ._autottl import AutoTTL

#: Separates a namespace from the key inside the engine; namespaces may not contain it, so
#: the stored key "<namespace><SEP><key>" is unambiguous and a namespace is a key prefix.
NAMESPACE_SEP = "\x1f"

#: Entry bound used when neither max_entries nor max_bytes is given.
DEFAULT_MAX_ENTRIES = 100_000


def require_type(value: object, types: type | tuple[type, ...], name: str, what: str) -> None:
    """Raises TypeError naming `name` unless `value` is an instance of `types`."""
    if not isinstance(value, types) or (isinstance(value, bool) and bool not in _as_tuple(types)):
        msg = f"{name} must be {what}, not {type(value).__name__}"
        raise TypeError(msg)


def require_callable(value: object, name: str, what: str) -> None:
    """Raises TypeError naming `name` unless `value` is None or callable."""
    if value is not None and not callable(value):
        msg = f"{name} must be {what}, not {type(value).__name__}"
        raise TypeError(msg)


def _as_tuple(types: type | tuple[type, ...]) -> tuple[type, ...]:
    return types if isinstance(types, tuple) else (types,)


def is_auto_ttl(value: object) -> TypeIs[AutoTTL]:
    """Whether `value` is an `AutoTTL`, without importing its module: no instance can exist
    before it is loaded, and it (dataclasses, inspect) is not loaded by caches and cached
    functions that do not use AutoTTL (issue 17's import cost)."""
    module = sys.modules.get("stratacache._autottl")
    return module is not None and isinstance(value, module.AutoTTL)


#: What every TTL argument accepts: seconds (math.inf = never), a timedelta, or None.
TTL: TypeAlias = float | datetime.timedelta | None

#: The longest finite TTL, in seconds (about 31.7 million years), for every tier alike: Redis
#: refuses a PX whose deadline overflows a signed 64-bit count of milliseconds (~9.2e15 s from
#: now), and a TTL plus a stale window of this size each stays well below that.
MAX_TTL = 1e15


def check_ttl(ttl: object, name: str = "ttl") -> float | None:
    """Returns `ttl` in seconds if it is None, math.inf (never expires), or a number or a
    `datetime.timedelta` in [0, MAX_TTL].

    Raises:
        TypeError: `ttl` is neither a number nor a timedelta (bool is refused too).
        InvalidTTLError: `ttl` is negative, NaN, or finite and above MAX_TTL.
    """
    if ttl is None:
        return None
    if isinstance(ttl, datetime.timedelta):
        ttl = ttl.total_seconds()
    elif isinstance(ttl, bool) or not isinstance(ttl, Real):
        msg = f"{name} must be a number of seconds, a timedelta or None, not {type(ttl).__name__}"
        raise TypeError(msg)
    ttl = float(ttl)
    if not 0 <= ttl <= MAX_TTL and ttl != math.inf:
        msg = (
            f"{name} must be >= 0 and <= {MAX_TTL:.0e} seconds, or math.inf for no expiry, "
            f"got {ttl!r}"
        )
        raise InvalidTTLError(msg)
    return ttl


def check_positive(value: object, name: str) -> float:
    """Returns `value` as a float if it is a finite number > 0.

    Raises:
        TypeError: not a number (bool is refused too).
        ConfigError: zero, negative, NaN or infinite.
    """
    if isinstance(value, bool) or not isinstance(value, Real):
        msg = f"{name} must be a number, not {type(value).__name__}"
        raise TypeError(msg)
    number = float(value)
    if not 0 < number < math.inf:
        msg = f"{name} must be > 0 and finite, got {number!r}"
        raise ConfigError(msg)
    return number


def check_timing(timing: object) -> float:
    """The engine's timing rate for `timing=`: 0.0 (off) for None, else the fraction of calls
    whose latency goes into the histograms.

    Raises:
        TypeError: not a number or None.
        ConfigError: outside (0, 1].
    """
    if timing is None:
        return 0.0
    rate = check_positive(timing, "timing")
    if rate > 1.0:
        msg = f"timing must be a fraction of calls in (0, 1], got {rate!r}"
        raise ConfigError(msg)
    return rate


def check_bound(value: object, name: str) -> int:
    """Returns a capacity bound as an int (0 = unbounded when None).

    Raises:
        TypeError: not an int.
        ConfigError: zero or negative.
    """
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int):
        msg = f"{name} must be an int or None, not {type(value).__name__}"
        raise TypeError(msg)
    if value <= 0:
        msg = f"{name} must be > 0, got {value}"
        raise ConfigError(msg)
    return value


def check_namespace(namespace: object) -> str:
    """Returns the namespace if it is a str without the separator character.

    Raises:
        TypeError: not a str.
        ConfigError: contains the reserved separator.
    """
    if not isinstance(namespace, str):
        msg = f"namespace must be a str, not {type(namespace).__name__}"
        raise TypeError(msg)
    if NAMESPACE_SEP in namespace:
        msg = "namespace may not contain the character U+001F"
        raise ConfigError(msg)
    return namespace


def prefix_of(namespace: str) -> str:
    """The engine key prefix of a namespace."""
    return namespace + NAMESPACE_SEP


def check_text(key: str) -> None:
    """Raises ValueError if `key` (a str) holds a lone surrogate, which has no UTF-8 form; the
    message names its index, never the key. The L1 store raises the same (bind_store.cpp)."""
    if key.isascii():
        return
    try:
        key.encode("utf-8")
    except UnicodeEncodeError as e:
        msg = (
            f"cache key must be valid text: a lone surrogate at index {e.start} has no UTF-8 "
            "form (encode such keys first, e.g. as hex)"
        )
        raise ValueError(msg) from None
