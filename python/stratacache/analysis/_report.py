"""An analysis as text, as JSON and as PNG plots in a directory."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._extras import require
from .._options import require_type
from ._curves import plot_curves
from ._run import Analysis

if TYPE_CHECKING:
    from matplotlib.axes import Axes

FORMAT_NAMES = {
    "ints": "one integer key per line",
    "keys": "one key per line",
    "csv": "CSV with timestamps",
}
NO_TTL = "no timestamps: no TTL advice"


def render_text(analysis: Analysis) -> str:
    """The analysis as a plain-text report, one section per measurement."""
    require_type(analysis, Analysis, "analysis", "an Analysis")
    sections = [
        _trace_section(analysis),
        _skew_section(analysis),
        _reuse_section(analysis),
        _curves_section(analysis),
        _sizes_section(analysis),
        _ttl_section(analysis),
    ]
    return "\n\n".join("\n".join(lines) for lines in sections) + "\n"


def to_dict(analysis: Analysis) -> dict[str, Any]:
    """The analysis as plain data (what report.json holds)."""
    require_type(analysis, Analysis, "analysis", "an Analysis")
    t, p, r = analysis.trace, analysis.popularity, analysis.reuse
    first = next(iter(analysis.curves.values()))
    return {
        "trace": {
            "path": t.path,
            "format": t.format,
            "requests": t.requests,
            "distinct_keys": t.distinct_keys,
            "cold_miss_ratio": t.cold_miss_ratio,
            "duration_seconds": t.duration,
        },
        "sample_rate": analysis.sample_rate,
        "popularity": {
            "zipf_alpha": p.alpha,
            "r_squared": p.r_squared,
            "fitted_keys": p.fitted_keys,
            "top_1pct_share": p.top_1pct_share,
            "top_10pct_share": p.top_10pct_share,
            "single_use_share": p.single_use_share,
        },
        "reuse_distance": {
            "edges": list(r.edges),
            "fractions": list(r.fractions),
            "cold_fraction": r.cold_fraction,
            "median": r.median,
            "p90": r.p90,
            "sample_rate": r.sample_rate,
        },
        "miss_ratio_curves": {
            "sizes": list(first.sizes),
            "policies": {n: list(c.miss_ratios) for n, c in analysis.curves.items()},
        },
        "size_for_hit_ratio": {f"{h:g}": sizes for h, sizes in analysis.sizes_for.items()},
        "ttl": None if analysis.ttl is None else _ttl_dict(analysis),
        "ttl_note": NO_TTL if analysis.ttl is None else None,
    }


def write_report(analysis: Analysis, out_dir: str | os.PathLike[str]) -> list[Path]:
    """Writes report.txt and report.json into `out_dir` (created if missing).

    Returns:
        The files written.

    Raises:
        TypeError: analysis is not an Analysis.
        OSError: the directory or a file cannot be written.
    """
    require_type(analysis, Analysis, "analysis", "an Analysis")
    out = Path(os.fspath(out_dir))
    out.mkdir(parents=True, exist_ok=True)
    text, data = out / "report.txt", out / "report.json"
    text.write_text(render_text(analysis), encoding="utf-8")
    data.write_text(json.dumps(to_dict(analysis), indent=2) + "\n", encoding="utf-8")
    return [text, data]


def write_plots(analysis: Analysis, out_dir: str | os.PathLike[str]) -> list[Path]:
    """Draws popularity.png, reuse_distance.png, mrc.png and (if timed) ttl.png in `out_dir`.

    Uses matplotlib's Agg canvas directly, so no pyplot state or display is involved.

    Returns:
        The files written.

    Raises:
        TypeError: analysis is not an Analysis.
        MissingExtraError: matplotlib (the `cli` extra) is not installed.
        OSError: a file cannot be written.
    """
    require_type(analysis, Analysis, "analysis", "an Analysis")
    canvas_agg = require("matplotlib.backends.backend_agg", "cli", "write_plots()").FigureCanvasAgg
    figure = require("matplotlib.figure", "cli", "write_plots()").Figure

    out = Path(os.fspath(out_dir))
    out.mkdir(parents=True, exist_ok=True)
    cold = analysis.trace.cold_miss_ratio
    drawings: list[tuple[str, Callable[[Axes], object]]] = [
        ("popularity.png", analysis.popularity.plot),
        ("reuse_distance.png", analysis.reuse.plot),
        ("mrc.png", lambda ax: plot_curves(analysis.curves, cold, ax)),
    ]
    if analysis.ttl is not None:
        drawings.append(("ttl.png", analysis.ttl.plot))
    written = []
    for name, draw in drawings:
        fig = figure(figsize=(7, 4.5), layout="constrained")
        canvas_agg(fig)
        draw(fig.add_subplot())
        fig.savefig(out / name, dpi=110)
        written.append(out / name)
    return written


def _trace_section(a: Analysis) -> list[str]:
    t = a.trace
    span = "no timestamps" if t.duration is None else f"{t.duration:,.1f} s"
    rate = "1, exact" if a.sample_rate >= 1.0 else f"{a.sample_rate:.3g} of the keys"
    return [
        f"== Trace: {t.path} ==",
        f"format             {t.format} ({FORMAT_NAMES.get(t.format, t.format)})",
        f"requests           {t.requests:,}",
        f"distinct keys      {t.distinct_keys:,}",
        f"first requests     {t.cold_miss_ratio:.2%} of requests (misses at any cache size)",
        f"time span          {span}",
        f"sample rate        {rate} (policy curves and reuse distances; OPT and skew: exact)",
    ]


def _skew_section(a: Analysis) -> list[str]:
    p = a.popularity
    fit = (
        "n/a (fewer than two keys)"
        if p.alpha is None
        else f"{p.alpha:.3f} (R² {p.r_squared:.3f}, least squares on log-log rank/frequency "
        f"of the top {p.fitted_keys:,} keys)"
    )
    return [
        "== Popularity skew ==",
        f"Zipf alpha         {fit}",
        f"top 1% of keys     {p.top_1pct_share:.2%} of requests",
        f"top 10% of keys    {p.top_10pct_share:.2%} of requests",
        f"keys seen once     {p.single_use_share:.2%} of keys",
    ]


def _reuse_section(a: Analysis) -> list[str]:
    r = a.reuse
    how = "exact" if r.sample_rate >= 1.0 else f"sampled at {r.sample_rate:.3g}"
    lines = [
        f"== Reuse distances (LRU stack distance in distinct keys, {how}) ==",
        (
            f"median {_entries(r.median)}, 90% within {_entries(r.p90)} "
            f"(of re-requests); first requests {r.cold_fraction:.2%}"
        ),
        f"{'distance':>20}  share of requests",
    ]
    for lo, hi, share in zip(r.edges, r.edges[1:], r.fractions, strict=False):
        label = f"{hi:,}" if hi - lo == 1 else f"{lo + 1:,}-{hi:,}"
        lines.append(f"{label:>20}  {share:7.2%}")
    return lines


def _curves_section(a: Analysis) -> list[str]:
    names = list(a.curves)
    sizes = next(iter(a.curves.values())).sizes
    rows = [
        [f"{s:,}", *(f"{a.curves[n].miss_ratios[i]:.4f}" for n in names)]
        for i, s in enumerate(sizes)
    ]
    return [
        "== Miss-ratio curves (miss ratio by cache size in entries; opt = Belady, exact) ==",
        *_table(["size", *names], rows),
    ]


def _sizes_section(a: Analysis) -> list[str]:
    names = list(a.curves)
    ceiling = 1.0 - a.trace.cold_miss_ratio
    rows = []
    for h, sizes in a.sizes_for.items():
        if h > ceiling:
            rows.append(
                [f"{h:.0%}", f"unreachable: first requests cap the hit ratio at {ceiling:.2%}"]
            )
        else:
            rows.append([f"{h:.0%}", *(_entries(sizes[n], "not on the grid") for n in names)])
    return [
        "== Cache size for a target hit ratio (entries, interpolated on the curves' grid) ==",
        *_table(["hit ratio", *names], rows),
    ]


def _ttl_section(a: Analysis) -> list[str]:
    ttl = a.ttl
    if ttl is None:
        return ["== TTL advice ==", NO_TTL]
    lines = ["== TTL advice (inter-arrival based; fixed TTL from each load, no size bound) =="]
    if ttl.gap_p50 is None:
        return [*lines, "no key is requested twice: no TTL buys a hit"]
    lines.append(
        f"gaps between requests of a key: median {ttl.gap_p50:.3g} s, "
        f"p90 {ttl.gap_p90:.3g} s, p99 {ttl.gap_p99:.3g} s"
    )
    rows = []
    for i, t in enumerate(ttl.ttls):
        held = "-" if ttl.mean_entries is None else f"{ttl.mean_entries[i]:,.0f}"
        rows.append([f"{t:.3g}", f"{ttl.hit_ratios[i]:.4f}", held])
    lines += _table(["ttl (s)", "hit ratio", "mean entries"], rows)
    if ttl.recommended is None:
        lines.append("recommended: none (no hits to keep)")
    else:
        hit, mean = ttl.at(ttl.recommended)
        lines.append(
            f"recommended TTL {ttl.recommended:.3g} s: hit ratio {hit:.2%}, keeping "
            f"{ttl.keep:.0%}+ of the {ttl.no_expiry_hit_ratio:.2%} that never expiring gets"
            + ("" if mean is None else f", holding {mean:,.0f} entries on average")
        )
    lines.append(
        "staleness is not measured: the trace holds no writes, so predict.recommend_ttl "
        "(which needs read and write rates) does not apply; shorten the TTL if data changes faster"
    )
    return lines


def _ttl_dict(a: Analysis) -> dict[str, Any]:
    ttl = a.ttl
    assert ttl is not None
    return {
        "gap_p50": ttl.gap_p50,
        "gap_p90": ttl.gap_p90,
        "gap_p99": ttl.gap_p99,
        "ttls": list(ttl.ttls),
        "hit_ratios": list(ttl.hit_ratios),
        "mean_entries": None if ttl.mean_entries is None else list(ttl.mean_entries),
        "no_expiry_hit_ratio": ttl.no_expiry_hit_ratio,
        "keep": ttl.keep,
        "recommended": ttl.recommended,
    }


def _entries(n: int | None, none: str = "n/a") -> str:
    return none if n is None else f"{n:,}"


def _table(header: Sequence[str], rows: list[list[str]]) -> list[str]:
    """Right-aligned columns; a row with fewer cells than the header runs on after its first."""
    full = [list(header), *(r for r in rows if len(r) == len(header))]
    widths = [max(len(r[i]) for r in full) for i in range(len(header))]
    return [
        "  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True))
        if len(row) == len(header)
        else "  ".join([row[0].rjust(widths[0]), *row[1:]])
        for row in [list(header), *rows]
    ]
