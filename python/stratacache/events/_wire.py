"""Events on the invalidation channel: the frame another process's events arrive in.

A frame is `MAGIC` followed by an envelope of the cache's codec (its default one, for a
mapping of codecs) under the key ``<key_prefix>events``, holding
``[origin, sequence, kind, name, namespace, keys, tags, pattern, payload, time_ms]``. So a
signing or encrypting codec signs or encrypts events as it does values, and its size, depth
and item limits bound what a hostile frame can make us build. MAGIC starts with a NUL byte,
which no JSON text does: coherence messages (`plan.Message`, JSON) never look like a frame,
and a process of an older version counts a frame as a malformed message and ignores it.
"""

from __future__ import annotations

import time
from typing import Any

from ..tiers.redis.plan import EVENT_MAGIC
from ._event import KINDS, Event

__all__ = ["MAGIC", "decode", "encode", "frame_key"]

MAGIC = EVENT_MAGIC


def frame_key(key_prefix: str) -> str:
    """The key event envelopes are bound to (AAD of an encrypting codec)."""
    return key_prefix + "events"


def encode(codec: Any, key: str, event: Event) -> bytes:
    """The frame of `event`.

    Raises:
        SerializationError, DataTooLargeError: the payload cannot be encoded by the codec.
    """
    body = [
        event.origin,
        event.seq,
        event.kind,
        event.name,
        event.namespace,
        list(event.keys),
        list(event.tags),
        event.pattern,
        event.payload,
        int(event.time * 1000),
    ]
    envelope: bytes = codec.encode_entry(key, body)
    return MAGIC + envelope


def decode(codec: Any, key: str, data: bytes) -> Event | None:
    """The event in a frame, or None for bytes that are not one we wrote (forged, tampered,
    truncated, too large, or of the wrong shape). What a registered type's decoder raises
    propagates (the caller counts it too)."""
    entry, reason = codec.try_decode_entry(key, data[len(MAGIC) :])
    if reason is not None:
        return None
    body = entry.value
    if not isinstance(body, (list, tuple)) or len(body) != 10:
        return None
    origin, seq, kind, name, namespace, keys, tags, pattern, payload, at_ms = body
    if not (isinstance(origin, str) and isinstance(seq, int) and kind in KINDS):
        return None
    if not (isinstance(name, str) and isinstance(namespace, (str, type(None)))):
        return None
    if not (_strings(keys) and _strings(tags) and isinstance(pattern, (str, type(None)))):
        return None
    if not isinstance(at_ms, int) or isinstance(seq, bool):
        return None
    return Event(
        kind,
        name,
        namespace,
        tuple(keys),
        tuple(tags),
        pattern,
        payload,
        origin=origin,
        local=False,
        seq=seq,
        time=at_ms / 1000 if at_ms else time.time(),
    )


def _strings(items: object) -> bool:
    return isinstance(items, (list, tuple)) and all(isinstance(i, str) for i in items)
