"""The batching under a backup: the Redis read paths agree, the writer seals the same chunks
however records arrive, and `prefetch` keeps order, raises and stops."""

from __future__ import annotations

import itertools
import os
import random
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import stratacache
from stratacache.backup import _tier_of, redis_tier
from stratacache.backup import format as fmt
from stratacache.backup._overlap import prefetch
from stratacache.codec import Codec

from .conftest import raw


def _snapshot(cache: Any, *, lua: bool) -> dict[bytes, tuple[str, bytes, int]]:
    tier, client = _tier_of(cache)
    source = redis_tier.RedisSource(client, tier.prefix, change_log=False)
    source._lua = lua
    out = {}
    for kind, name, data, expire, _ in source.snapshot(None):
        assert name not in out  # each key once
        out[name] = (kind, data, expire)
    return out


def test_read_paths_agree(
    redis_clean_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One script call per SCAN step, its overflow past CALL_BYTES, and the pipeline of
    servers without script flags read the same records."""
    with stratacache.Cache(redis=redis_clean_url, l1=False, default_ttl=600) as cache:
        sizes = [10, 300, 5000, 40_000]
        cache.set_many({f"k{i}": os.urandom(sizes[i % 4]) for i in range(2500)})
        cache.set("forever", b"f", ttl=float("inf"))
        prefix = _tier_of(cache)[0].prefix.encode()
        client = raw(redis_clean_url)
        client.hset(prefix + b"ns\x1fhash", "f", "v")  # not a string: skipped
        client.set(prefix + b"lock:ns\x1fk1", b"1", px=60_000)  # a lock: skipped
        client.set(b"stranger", b"x")  # outside the prefix
        client.close()

        whole = _snapshot(cache, lua=True)
        monkeypatch.setattr(redis_tier, "CALL_BYTES", 20_000)  # most batches overflow
        split = _snapshot(cache, lua=True)
        piped = _snapshot(cache, lua=False)

    assert len(whole) == 2501
    for other in (split, piped):
        assert other.keys() == whole.keys()
        for name, (kind, data, expire) in whole.items():
            assert other[name][:2] == (kind, data)
            assert abs(other[name][2] - expire) < 2000  # the same absolute expiry
    assert whole[b"\x1fforever"][2] == 0


def test_add_many_seals_the_chunks_add_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fmt, "CHUNK_BYTES", 50_000)  # small chunks: many of each cause
    monkeypatch.setattr(fmt, "CHUNK_RECORDS", 64)
    rng = random.Random(7)
    records = [
        [rng.choice("vvgw"), b"k%d" % i, b"x" * rng.choice([10, 300, 3000, 60_000]), 0, 0]
        for i in range(3000)
    ]
    sealed: dict[str, list[int]] = {}

    class Counting(fmt.Writer):
        def flush(self) -> None:
            if self._pending:
                sealed.setdefault(self.path.name, []).append(len(self._pending))
            super().flush()

    for name in ("one", "many"):
        header = fmt.Header("redis", "p:", None, False, id="same")
        writer = Counting(tmp_path / name, header, Codec(compression=None))
        if name == "one":
            for record in records:
                writer.add(record)
        else:
            start = 0
            while start < len(records):
                step = rng.choice([1, 3, 1000, 5000])
                writer.add_many(records[start : start + step])
                start += step
        writer.close()
        trailer = fmt.verify(tmp_path / name, None)[1]
        assert trailer.records == len(records)
        assert trailer.values == sum(r[0] == "v" for r in records)
        assert trailer.tags == sum(r[0] == "g" for r in records)
    assert sealed["one"] == sealed["many"]
    assert len(sealed["one"]) > 100
    assert all(n <= fmt.CHUNK_RECORDS for n in sealed["one"])


def test_prefetch_keeps_order_and_raises() -> None:
    msg = "producer failed"

    def items() -> Iterator[int]:
        yield from range(50)
        raise KeyError(msg)

    it = prefetch(items(), depth=3)
    assert [next(it) for _ in range(50)] == list(range(50))
    with pytest.raises(KeyError, match=msg):
        next(it)
    with pytest.raises(ValueError, match="depth"):
        next(prefetch(iter([1]), depth=0))


def test_prefetch_stops_its_producer_when_closed() -> None:
    made = itertools.count()
    produced: list[int] = []

    def endless() -> Iterator[int]:
        while True:
            produced.append(next(made))
            yield produced[-1]

    before = threading.active_count()
    it = prefetch(endless(), depth=2)
    assert [next(it) for _ in range(3)] == [0, 1, 2]
    it.close()  # joins the producer
    count = len(produced)
    time.sleep(0.3)
    assert len(produced) == count <= 3 + 2 + 1
    assert threading.active_count() == before
