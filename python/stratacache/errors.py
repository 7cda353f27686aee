"""Exception classes of stratacache.

This module imports nothing from the package: the C++ extension loads it while the package is
still initialising, to translate engine error codes into these classes.
"""

from __future__ import annotations

__all__ = [
    "CodecError",
    "ConfigError",
    "CorruptDataError",
    "DataTooLargeError",
    "InvalidTTLError",
    "StratacacheError",
    "TamperedDataError",
    "TraceIOError",
    "ValueTooLargeError",
]


class StratacacheError(Exception):
    """Base class of every error stratacache raises itself."""


class ConfigError(StratacacheError, ValueError):
    """A constructor or configuration argument is out of range or inconsistent."""


class InvalidTTLError(StratacacheError, ValueError):
    """A TTL is negative, NaN, or not a number."""


class ValueTooLargeError(StratacacheError, ValueError):
    """A value weighs more than the cache can hold (raised only when the cache is strict)."""


class TraceIOError(StratacacheError, OSError):
    """A trace file could not be opened or read."""


class CodecError(StratacacheError):
    """Bytes could not be decoded into a value."""


class CorruptDataError(CodecError):
    """The bytes are malformed (truncated, wrong magic, bad structure)."""


class TamperedDataError(CodecError):
    """Authentication of the bytes failed (wrong key, modified bytes, moved to another key)."""


class DataTooLargeError(CodecError):
    """Decoding would exceed the configured maximum value size."""
