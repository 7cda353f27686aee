"""Shared machinery of the peer benchmarks, following ../shared/BENCHMARKS.md.

Every case runs our implementation and each peer on the same data in the same process,
interleaved over several rounds after a warm-up; it reports the median time per operation of
each implementation and the ratio peer / ours (> 1 means we are faster).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

RESULTS_DIR = Path(__file__).resolve().parents[1] / "results"

#: One timed run of one implementation: performs `n` operations, returns elapsed nanoseconds.
Runner = Callable[[], int]


@dataclass
class Impl:
    """One contender of a case."""

    name: str
    run: Runner
    ours: bool = False


@dataclass
class Case:
    """A benchmark case: contenders doing the same `n` operations on the same data."""

    name: str
    n: int
    impls: list[Impl] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    #: Name of the implementation the ratios are taken against (the first `ours` by default).
    reference: str | None = None

    def add(self, name: str, run: Runner, *, ours: bool = False) -> None:
        self.impls.append(Impl(name, run, ours))


@dataclass
class Options:
    """Sizes shared by every case of a run."""

    quick: bool
    rounds: int
    warmup: int
    n: int
    seed: int


def parse_options(description: str, argv: Sequence[str] | None = None) -> Options:
    """Command-line options common to the benchmarks (`--quick`, `--rounds`, `--n`)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="small sizes, under a minute")
    parser.add_argument("--rounds", type=int, default=None, help="interleaved rounds (>= 5)")
    parser.add_argument("--n", type=int, default=None, help="operations per round")
    parser.add_argument("--seed", type=int, default=12345)
    args = parser.parse_args(argv)
    rounds = args.rounds or (5 if args.quick else 9)
    if rounds < 5:
        parser.error("the protocol asks for at least 5 rounds")
    n = args.n or (30_000 if args.quick else 200_000)
    return Options(quick=args.quick, rounds=rounds, warmup=1, n=n, seed=args.seed)


def zipf_ids(n_keys: int, n_ops: int, alpha: float = 0.99, seed: int = 12345) -> np.ndarray:
    """`n_ops` key ids in [0, n_keys) drawn from Zipf(alpha) by inverse CDF, seeded.

    Rank r (1-based) has probability proportional to 1 / r**alpha; ranks are mapped to ids by
    a seeded permutation so the popular keys are not the numerically smallest ones.
    """
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.power(np.arange(1, n_keys + 1, dtype=np.float64), alpha)
    cdf = np.cumsum(weights)
    cdf /= cdf[-1]
    ranks = np.searchsorted(cdf, rng.random(n_ops), side="right")
    ranks = np.minimum(ranks, n_keys - 1)
    permutation = rng.permutation(n_keys)
    ids: np.ndarray = permutation[ranks]
    return ids


def key_of(i: int) -> str:
    """The key string of id `i`, shaped like real application keys."""
    return f"user:{i}"


def sync_loop1(op: Callable[[Any], Any], args: Sequence[Any]) -> Runner:
    """A runner calling `op(x)` for each x of `args`."""

    def run() -> int:
        t0 = time.perf_counter_ns()
        for x in args:
            op(x)
        return time.perf_counter_ns() - t0

    return run


def sync_loop2(op: Callable[[Any, Any], Any], pairs: Sequence[tuple[Any, Any]]) -> Runner:
    """A runner calling `op(a, b)` for each (a, b) of `pairs`."""

    def run() -> int:
        t0 = time.perf_counter_ns()
        for a, b in pairs:
            op(a, b)
        return time.perf_counter_ns() - t0

    return run


def empty_loop(args: Sequence[Any]) -> Runner:
    """A runner doing only the loop: the floor under every sync case."""

    def run() -> int:
        t0 = time.perf_counter_ns()
        for _x in args:
            pass
        return time.perf_counter_ns() - t0

    return run


def async_loop1(
    loop: asyncio.AbstractEventLoop, op: Callable[[Any], Awaitable[Any]], args: Sequence[Any]
) -> Runner:
    """A runner awaiting `op(x)` for each x of `args`, one at a time, inside `loop`."""

    async def body() -> int:
        t0 = time.perf_counter_ns()
        for x in args:
            await op(x)
        return time.perf_counter_ns() - t0

    return lambda: loop.run_until_complete(body())


def async_loop2(
    loop: asyncio.AbstractEventLoop,
    op: Callable[[Any, Any], Awaitable[Any]],
    pairs: Sequence[tuple[Any, Any]],
) -> Runner:
    """A runner awaiting `op(a, b)` for each (a, b) of `pairs`, inside `loop`."""

    async def body() -> int:
        t0 = time.perf_counter_ns()
        for a, b in pairs:
            await op(a, b)
        return time.perf_counter_ns() - t0

    return lambda: loop.run_until_complete(body())


def close_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Cancels the tasks peers left running in `loop` (expiry sweepers, locks), then closes it."""
    pending = asyncio.all_tasks(loop)
    for task in pending:
        task.cancel()
    loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    loop.close()


def _timed(run: Runner) -> int:
    # As timeit does: no collector pause inside a timed run. The data is frozen (run_case), so
    # a pause would only come from the run's own garbage, which refcounting already frees.
    gc.disable()
    try:
        return run()
    finally:
        gc.enable()


def run_case(case: Case, opts: Options) -> list[dict[str, Any]]:
    """Runs the case interleaved over `opts.rounds` rounds; returns its JSON rows.

    Each round runs every implementation once; the starting implementation rotates from round
    to round so none always runs right after the same neighbour.
    """
    impls = case.impls
    # Millions of long-lived container objects would make every collection slow and bias
    # whichever implementation triggers one; move them out of the collector's sight.
    gc.collect()
    gc.freeze()
    samples: dict[str, list[float]] = {impl.name: [] for impl in impls}
    for _ in range(opts.warmup):
        for impl in impls:
            _timed(impl.run)
    for r in range(opts.rounds):
        for j in range(len(impls)):
            impl = impls[(r + j) % len(impls)]
            samples[impl.name].append(_timed(impl.run) / case.n)
    medians = {name: statistics.median(values) for name, values in samples.items()}
    reference = case.reference or next(impl.name for impl in impls if impl.ours)
    ours_ns = medians[reference]
    return [
        {
            "case": case.name,
            "impl": impl.name,
            "median_ns": round(medians[impl.name], 2),
            "ratio_vs_ours": round(medians[impl.name] / ours_ns, 3),
            "n": case.n,
            "params": {**case.params, "rounds": opts.rounds, "reference": reference},
        }
        for impl in impls
    ]


def print_table(rows: Iterable[dict[str, Any]], out: Any = None) -> None:
    """Prints rows grouped by case: impl, median ns/op, ratio peer/ours."""
    out = out or sys.stdout
    current = None
    for row in rows:
        if row["case"] != current:
            current = row["case"]
            better = "faster" if "median_ns" in row else "smaller"
            out.write(f"\n{current}  (n={row['n']}, ratio = peer / ours, > 1: ours {better})\n")
        value = row.get("median_ns", row.get("median_bytes"))
        unit = "ns/op" if "median_ns" in row else "B/entry"
        out.write(f"  {row['impl']:<44} {value:>10.1f} {unit}  {row['ratio_vs_ours']:>7.2f}x\n")
    out.flush()


def with_load_average(rows: list[dict[str, Any]]) -> None:
    """Notes the load average after a case ran: the machine is shared, the times are noisy."""
    load = [round(x, 2) for x in os.getloadavg()]
    for row in rows:
        row.setdefault("params", {})["load_average_1_5_15"] = load


def write_results(name: str, rows: list[dict[str, Any]]) -> Path:
    """Writes `rows` to bench/results/<name>.json and returns the path."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    return path
