"""What every tier of a cache's chain shares: the miss marker, a cached function's load
request, tag and key-pattern validation, the L1 pattern drop (no I/O, no Redis), and the
contract between two links (`UpperLink`).

The chain is L1 (`tiers/local.py`), then the lower tiers in order: L1 -> disk -> Redis when
both are configured (`tiers/disk/link.py` is the disk link between L1 and Redis). A
cache holds one driver, the lowest link, and calls it through `local.Driver` (`AsyncDriver`
in an AsyncCache); each link's calls cover its own tier and every link above it, so the
lowest link's calls cover the whole chain. A tiered link holds the link above it as `upper`
(the Redis link: `TierState.upper`, read by `SyncTiered`/`AsyncTiered`) and reaches it only
through `UpperLink`: values it reads or writes are backfilled with `upper.fill`, and deletes,
clears and pattern invalidations (its own and those other processes announce) go to
`upper.delete`/`upper.clear`/`upper.invalidate_pattern` before its own tier.

Inserting a link, e.g. a disk tier between L1 and Redis, therefore changes no cache:

1. The new link implements `UpperLink` (for the link below it) and `local.Driver` /
   `local.AsyncDriver` (for the cache, when it is the lowest link): each call does its own
   tier's part and passes the call on to its own `upper`, the L1 `LocalDriver`. Its `read`
   looks in its tier (the cache has looked in L1 already) and on a hit `fill`s its upper.
2. `UpperLink` calls are plain calls, also from AsyncTiered and from the subscriber thread:
   they must not block on the network (L1 and a local disk do not) and must be thread-safe.
3. Where the chain is built (`_base.CacheBase._attach_tier`), the new link gets the L1 link
   as its `upper` and is handed to `TierState(upper=...)` in place of the L1 link. mypy checks
   each link against these protocols with a module-level `_checked: type[...] = Link`.

A link that keeps bytes (the disk) stores the Redis link's envelopes as they are: `fill` hands
them down with the value, and `held` gives them back, so the Redis link validates a disk copy
exactly as it validates its own (tag versions, tombstones, recovery grace) before serving it.
`forget` is the coherence flush: copies held in memory go, a persistent copy stays (its lower
link refuses it while coherence is degraded, and `clear(None)` drops it once messages were
really lost).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple, Protocol

from .._options import NAMESPACE_SEP, prefix_of, require_type
from ..errors import ConfigError

__all__ = [
    "KEPT",
    "MISS",
    "Load",
    "UpperLink",
    "check_items",
    "check_tags",
    "drop_matching",
    "glob_escape",
    "glob_to_regex",
]

MISS: Any = object()
#: `UpperLink.fill`'s envelope when the upper link already holds these bytes (a disk hit).
KEPT: Any = object()


class Load(NamedTuple):
    """What a cached function's miss needs: the call (returns the value, or an awaitable in
    an AsyncCache), its TTL, tags, and the ``unless`` filter."""

    compute: Callable[[], Any]
    ttl: float | None
    tags: Sequence[str]
    unless: Callable[[Any], object] | None


_MAX_TAGS = 64


class UpperLink(Protocol):
    """What a link of the chain needs from the link above it (L1's `LocalDriver` today).

    Each call covers the upper link's own tier and every link above it; all are plain calls
    (no await), safe from any thread, that never wait on the network.
    """

    def fill(
        self, namespace: str, key: str, value: Any, ttl: float | None, envelope: Any = None
    ) -> None:
        """Keeps a value the lower link read or wrote (ttl in seconds, math.inf: none).

        `envelope`: the lower link's bytes of it (tags and versions inside), which a link
        keeping bytes stores; None when there are none (that link drops its older copy), KEPT
        when the upper link gave them (`held`) and holds them already."""
        ...

    def held(self, namespace: str, key: str) -> bytes | None:
        """The envelope a byte-keeping link holds for `key` (None: none, or an L1-only link)."""
        ...

    def drop_announced(self, namespace: str, keys: Sequence[str], origin: str) -> None:
        """Another process (`origin`) announced that `keys` changed: removes them, except a
        persistent copy that process wrote itself (a disk shared by the host's processes:
        its write is the newest there is)."""
        ...

    def drop_changed(self, namespace: str, keys: Sequence[str]) -> None:
        """Redis reported that `keys` changed (coherence="tracking", which names no writer):
        removes them, except a persistent copy that still holds Redis's current bytes."""
        ...

    def refused(self, namespace: str, key: str, *, corrupt: bool) -> None:
        """The lower link would not serve what `held` gave (stale, invalidated, or not an
        envelope when `corrupt`): the copy is dropped (and counted when corrupt)."""
        ...

    def forget(self) -> None:
        """Drops every copy held in memory (coherence is lost or back); persistent ones stay."""
        ...

    def distrust(self) -> None:
        """Drops every persistent copy: invalidations were lost (a subscription that was up
        dropped). Memory copies are `forget`'s (or stale-if-error's) business."""
        ...

    def delete(self, namespace: str, keys: Sequence[str]) -> int:
        """Removes `keys`; returns how many were present."""
        ...

    def clear(self, namespace: str | None) -> int:
        """Removes `namespace`'s entries (None: all); returns how many."""
        ...

    def invalidate_pattern(self, namespace: str, pattern: str) -> int:
        """Removes `namespace`'s keys matching the Redis glob `pattern`; returns how many."""
        ...


def glob_escape(text: str) -> str:
    """`text` with Redis glob metacharacters escaped, so it matches only itself."""
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)


def check_tags(tags: object) -> tuple[str, ...]:
    """Validated tags as a tuple (duplicates dropped, order kept).

    Raises:
        TypeError: not a collection of str (a bare str is refused: it would be split).
        ConfigError: a tag is empty, holds U+001F, or there are more than 64.
    """
    if tags is None:
        return ()
    if isinstance(tags, (str, bytes)) or not isinstance(tags, Iterable):
        msg = f"tags must be a list of str, not {type(tags).__name__}"
        raise TypeError(msg)
    out: dict[str, None] = {}
    for tag in tags:
        require_type(tag, str, "each tag", "a str")
        if not tag or NAMESPACE_SEP in tag or len(tag.encode("utf-8", "surrogatepass")) > 255:
            msg = f"tag {tag!r} must be 1..255 bytes without U+001F"
            raise ConfigError(msg)
        out[tag] = None
    if len(out) > _MAX_TAGS:
        msg = f"at most {_MAX_TAGS} tags per entry, got {len(out)}"
        raise ConfigError(msg)
    return tuple(out)


def glob_to_regex(pattern: str) -> str:
    """A Python regex matching what Redis's glob `pattern` matches (``* ? [..] [^..] \\x``)."""
    out, i, n = [], 0, len(pattern)
    while i < n:
        c = pattern[i]
        i += 1
        if c == "*":
            out.append(".*")
        elif c == "?":
            out.append(".")
        elif c == "\\" and i < n:
            out.append(_re_escape(pattern[i]))
            i += 1
        elif c == "[":
            j = pattern.find("]", i + 1 if pattern[i : i + 1] in ("^", "]") else i)
            if j < 0:
                out.append("\\[")
                continue
            body = pattern[i:j]
            i = j + 1
            negate = body.startswith("^")
            body = body[1:] if negate else body
            body = body.replace("\\", "\\\\")
            out.append("[" + ("^" if negate else "") + body + "]")
        else:
            out.append(_re_escape(c))
    return "".join(out) + r"\Z"


def _re_escape(c: str) -> str:
    return re.escape(c)


def drop_matching(store: Any, namespace: str, pattern: str) -> None:
    """Removes the L1 keys of `namespace` matching the Redis glob `pattern`."""
    regex = re.compile(glob_to_regex(pattern), re.DOTALL)
    prefix = prefix_of(namespace)
    keys = [k[len(prefix) :] for k in store.keys(prefix)]  # keys() returns them prefixed
    store.delete_many(prefix, [k for k in keys if regex.match(k)])


def check_items(items: object) -> Mapping[str, Any]:
    """Validated `set_many` items."""
    if not isinstance(items, Mapping):
        msg = f"set_many's items must be a mapping of key to value, not {type(items).__name__}"
        raise TypeError(msg)
    return items
