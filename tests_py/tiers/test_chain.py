"""The tier chain: a link inserted between L1 and Redis sees every backfill, delete, clear and
remote invalidation through `UpperLink`, and Cache/AsyncCache need no change for it.

The inserted link is a real second in-memory tier (a dict) holding L1 as its own upper link,
the shape a disk tier takes; it is put in place where `_attach_tier` would put it.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from stratacache.tiers.chain import UpperLink, glob_to_regex
from stratacache.tiers.local import LocalDriver

from ..conftest import call

pytestmark = pytest.mark.usefixtures("redis_clean_url")


class DictLink:
    """A tier of its own between L1 and Redis: keeps what it is given, then passes it up."""

    def __init__(self, upper: LocalDriver) -> None:
        self.upper = upper
        self.kept: dict[tuple[str, str], tuple[Any, float | None]] = {}
        self._lock = threading.Lock()  # the subscriber thread calls it too

    def fill(
        self, namespace: str, key: str, value: Any, ttl: float | None, envelope: Any = None
    ) -> None:
        with self._lock:
            self.kept[namespace, key] = (value, ttl)
        self.upper.fill(namespace, key, value, ttl)

    def held(self, namespace: str, key: str) -> bytes | None:
        return None  # keeps values, not envelopes: Redis is read on every L1 miss

    def drop_announced(self, namespace: str, keys: Sequence[str], origin: str) -> None:
        self.delete(namespace, keys)

    def drop_changed(self, namespace: str, keys: Sequence[str]) -> None:
        self.delete(namespace, keys)

    def refused(self, namespace: str, key: str, *, corrupt: bool) -> None:
        raise AssertionError  # never called: it holds no envelopes

    def forget(self) -> None:
        self.upper.forget()

    def distrust(self) -> None:
        with self._lock:
            self.kept.clear()

    def delete(self, namespace: str, keys: Sequence[str]) -> int:
        with self._lock:
            mine = sum(self.kept.pop((namespace, k), None) is not None for k in keys)
        return max(mine, self.upper.delete(namespace, keys))

    def clear(self, namespace: str | None) -> int:
        with self._lock:
            gone = [k for k in self.kept if namespace is None or k[0] == namespace]
            for k in gone:
                del self.kept[k]
        return max(len(gone), self.upper.clear(namespace))

    def invalidate_pattern(self, namespace: str, pattern: str) -> int:
        regex = re.compile(glob_to_regex(pattern), re.DOTALL)
        with self._lock:
            gone = [k for k in self.kept if k[0] == namespace and regex.match(k[1])]
            for k in gone:
                del self.kept[k]
        return max(len(gone), self.upper.invalidate_pattern(namespace, pattern))

    def names(self) -> set[str]:
        with self._lock:
            return {k for _, k in self.kept}


_checked: type[UpperLink] = DictLink


def insert(cache: Any) -> DictLink:
    """Puts a DictLink between the cache's L1 and its Redis link, once the subscriber is up
    (coming up flushes what is above Redis)."""
    assert cache._subscriber.connected.wait(10)
    link = DictLink(cache._local)
    cache._tier.upper = link
    cache._driver.upper = link
    return link


async def test_reads_backfill_the_inserted_link_and_l1(
    tiered: Callable[..., Any], redis_url: str, settle: Callable[..., None]
) -> None:
    a, b = tiered(redis_url), tiered(redis_url)
    link = insert(b)
    await call(a.set("k", {"v": 1}, ttl=30))
    await call(a.set("forever", 2, ttl=math.inf))
    settle(redis_url, b)
    assert await call(b.get("k")) == {"v": 1}
    assert await call(b.get("forever")) == 2
    assert link.names() == {"k", "forever"}
    ttl = link.kept[b.namespace, "k"][1]
    assert ttl is not None
    assert 0 < ttl <= 30
    assert b._store.contains(b._prefix, "k")  # L1 was reached through the link


async def test_writes_deletes_and_clears_go_through_the_link(
    tiered: Callable[..., Any], redis_url: str
) -> None:
    a = tiered(redis_url)
    link = insert(a)
    await call(a.set("k", 1))
    await call(a.set_many({"m1": 1, "m2": 2}))
    assert link.names() == {"k", "m1", "m2"}
    assert await call(a.delete("k")) is True
    assert link.names() == {"m1", "m2"}
    assert not a._store.contains(a._prefix, "k")
    assert await call(a.clear()) >= 2
    assert link.names() == set()
    assert await call(a.get("m1")) is None


async def test_other_processes_invalidations_reach_the_link(
    tiered: Callable[..., Any],
    redis_url: str,
    settle: Callable[..., None],
    wait_until: Callable[..., bool],
) -> None:
    a, b = tiered(redis_url), tiered(redis_url)
    link = insert(b)
    for key in ("gone", "user:1", "user:2", "kept"):
        await call(a.set(key, key))
    settle(redis_url, b)  # a's invalidations reached b: its reads are kept
    for key in ("gone", "user:1", "user:2", "kept"):
        assert await call(b.get(key)) == key
    assert link.names() == {"gone", "user:1", "user:2", "kept"}
    await call(a.delete("gone"))
    assert wait_until(lambda: "gone" not in link.names())
    await call(a.invalidate_pattern("user:*"))
    assert wait_until(lambda: link.names() == {"kept"})
    await call(a.clear())
    assert wait_until(lambda: link.names() == set())
    assert not b._store.contains(b._prefix, "kept")
