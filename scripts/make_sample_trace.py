"""Writes the sample trace shipped in the package, python/stratacache/data/sample_trace.txt.gz.

Run from the repository root: ``python scripts/make_sample_trace.py`` (``--check`` compares the
committed file's lines with a fresh generation and exits 1 if they differ). The output depends
only on the seed: Python's Mersenne Twister and `random.choices` / `paretovariate` are stable
across CPython 3.10-3.13.

The workload, 50,000 requests in the "ints" format (one integer key per line), is meant to make
the policies disagree the way production traces do, while staying small:

- 85 % of the requests go to a catalog of 8,000 keys with Zipf(0.9) popularity;
- the popularity drifts: every 10,000 requests a fifth of the ranks are reassigned to other
  keys, so recency matters as well as frequency;
- 15 % are a long tail of keys drawn from a Pareto(1.1) distribution over ids above 1,000,000,
  most requested once or twice (one-hit wonders, which a good admission policy keeps out).
"""

from __future__ import annotations

import argparse
import gzip
import io
import itertools
import random
import sys
from pathlib import Path

OUT = (
    Path(__file__).resolve().parents[1] / "python" / "stratacache" / "data" / "sample_trace.txt.gz"
)
SEED = 20261202
REQUESTS = 50_000
CATALOG = 8_000
ZIPF_ALPHA = 0.9
DRIFT_EVERY = 10_000
DRIFT_SHARE = 0.2
TAIL_SHARE = 0.15
TAIL_ALPHA = 1.1
TAIL_BASE = 1_000_000


def generate(seed: int = SEED) -> list[int]:
    """The requests, in order."""
    rng = random.Random(seed)
    cdf = list(itertools.accumulate(1.0 / rank**ZIPF_ALPHA for rank in range(1, CATALOG + 1)))
    by_rank = list(range(CATALOG))
    rng.shuffle(by_rank)  # the most popular keys are not the smallest ids
    ranks = range(CATALOG)
    keys = []
    for i in range(REQUESTS):
        if i and i % DRIFT_EVERY == 0:
            moved = rng.sample(ranks, int(DRIFT_SHARE * CATALOG))
            shuffled = moved[:]
            rng.shuffle(shuffled)
            new = by_rank[:]
            for src, dst in zip(moved, shuffled, strict=True):
                new[dst] = by_rank[src]
            by_rank = new
        if rng.random() < TAIL_SHARE:
            keys.append(TAIL_BASE + int(rng.paretovariate(TAIL_ALPHA) * 1_000))
        else:
            keys.append(by_rank[rng.choices(ranks, cum_weights=cdf)[0]])
    return keys


def encode(keys: list[int]) -> bytes:
    """Gzip text, one key a line; mtime 0 and no file name in the header, so it is reproducible."""
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", filename="", mtime=0, compresslevel=9) as f:
        f.write("".join(f"{k}\n" for k in keys).encode())
    return buf.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed file")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    keys = generate()
    if args.check:
        committed = gzip.decompress(args.out.read_bytes()).decode().split()
        if committed != [str(k) for k in keys]:
            print(f"{args.out} differs from what {Path(__file__).name} generates", file=sys.stderr)
            return 1
        print(f"{args.out}: up to date ({len(keys):,} requests)")
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    data = encode(keys)
    args.out.write_bytes(data)
    print(f"wrote {args.out}: {len(keys):,} requests, {len(set(keys)):,} keys, {len(data):,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
