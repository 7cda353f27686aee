"""Must type-check clean: a Warmer's methods are sync for a Cache and coroutines for an
AsyncCache, under the same names."""

from __future__ import annotations

from typing_extensions import assert_type

import stratacache
from stratacache import StrategyStats, Warmer, WarmReport


def load(keys: list[str]) -> dict[str, int]:
    return {k: len(k) for k in keys}


warmer = Warmer(stratacache.Cache()).keys(["a"], loader=load, priority=2).recent(n=10)
assert_type(warmer, Warmer[stratacache.Cache])
assert_type(warmer.run_once(), dict[str, WarmReport])
assert_type(warmer.stop(), None)
assert_type(warmer.stats(), dict[str, StrategyStats])
with warmer as running:
    assert_type(running, Warmer[stratacache.Cache])


async def main() -> None:
    awarmer = Warmer(stratacache.AsyncCache()).predicted(n=5, every=30.0)
    assert_type(awarmer, Warmer[stratacache.AsyncCache])
    assert_type(await awarmer.run_once(force=True), dict[str, WarmReport])
    async with awarmer as arunning:
        assert_type(arunning, Warmer[stratacache.AsyncCache])
    await awarmer.stop(timeout=1.0)
