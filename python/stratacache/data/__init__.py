"""Data files shipped with stratacache: a sample access trace for the examples and notebooks.

`SAMPLE_TRACE` is the path of ``sample_trace.txt.gz``: 50,000 requests in the "ints" format
(one integer key per line, gzip), so `simulate`, `miss_ratio_curve`, `stratacache analyze` and
the predictor's trace workloads all read it. It is generated, not recorded:
``python scripts/make_sample_trace.py`` in the repository writes it from a fixed seed (a Zipf
catalog whose popularity drifts, plus a Pareto long tail of one-hit keys; the script's docstring
has the numbers), and ``--check`` verifies the committed copy.

Example::

    import stratacache
    from stratacache.data import SAMPLE_TRACE

    stratacache.simulate(SAMPLE_TRACE, policy="s3fifo", capacity=1000).hit_ratio
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["SAMPLE_TRACE"]

#: The sample trace (gzip, one integer key per line), installed next to this module.
SAMPLE_TRACE: Path = Path(__file__).resolve().with_name("sample_trace.txt.gz")
