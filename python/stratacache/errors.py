"""Exception classes of stratacache.

This module imports nothing from the package: the C++ extension loads it while the package is
still initialising, to translate engine error codes into these classes.
"""

from __future__ import annotations

__all__ = [
    "BackupError",
    "CodecError",
    "ConfigError",
    "CorruptDataError",
    "DataTooLargeError",
    "DiskError",
    "InvalidTTLError",
    "MissingExtraError",
    "RedisAuthError",
    "RedisTLSError",
    "StratacacheError",
    "TamperedDataError",
    "TierUnavailableError",
    "TraceIOError",
    "UnknownVersionError",
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


class DiskError(StratacacheError, OSError):
    """The disk tier's store could not be opened or used: a damaged or truncated store file,
    or an I/O failure (a full disk is not one: its writes are counted as rejected)."""


class BackupError(StratacacheError, ValueError):
    """A backup file that cannot be restored: not a backup, another format version,
    truncated, corrupted, sealed with another key, or a chain whose base is missing."""


class RedisAuthError(ConfigError):
    """Redis refused the cache's credentials or ACL permissions (misconfiguration, raised at
    connect time rather than hidden as misses)."""


class RedisTLSError(ConfigError):
    """A TLS connection to Redis could not be set up at construction: certificate not trusted,
    issued for another host name, or no TLS on the other side (misconfiguration, raised even
    with fail_open rather than hidden as an outage)."""


class TierUnavailableError(StratacacheError, ConnectionError):
    """A tier did not answer and the cache (or namespace) is configured to fail closed."""


class CodecError(StratacacheError):
    """Bytes could not be decoded into a value."""


class CorruptDataError(CodecError):
    """The bytes are malformed (truncated, wrong magic, bad structure)."""


class TamperedDataError(CodecError):
    """Authentication of the bytes failed (wrong key, modified bytes, moved to another key)."""


class DataTooLargeError(CodecError):
    """Decoding would exceed the configured maximum value size."""


class UnknownVersionError(CodecError):
    """The bytes are an envelope of a format version this build cannot read."""


class SerializationError(CodecError, TypeError):
    """A value holds an object the serializer cannot represent; the message names its path."""


class MissingExtraError(StratacacheError, ImportError):
    """An optional dependency is not installed; the message names the `pip install` line.

    Attributes:
        name: the module that is missing (as on `ImportError`).
        extra: the stratacache extra that installs it.
        pip_line: the command that installs it, e.g. ``pip install 'stratacache[redis]'``.
    """

    def __init__(self, module: str, extra: str, feature: str | None = None) -> None:
        self.extra = extra
        self.pip_line = f"pip install 'stratacache[{extra}]'"
        what = feature or "this feature"
        super().__init__(
            f"{what} needs {module}, which is not installed: {self.pip_line}", name=module
        )
