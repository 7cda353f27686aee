"""The `stratacache` command line: `stratacache analyze [TRACE] --out DIR`,
`stratacache backup` / `stratacache restore` of a Redis tier (`backup/_cli.py`), and the
monitoring commands `stratacache health URL` and `stratacache stats URL [--watch]`
(`_cli_monitor.py`).

It needs the `cli` extra (tqdm for progress bars, matplotlib for the plots):
``pip install 'stratacache[cli]'``. Without tqdm it exits 1 naming that line; without
matplotlib it writes the text and JSON report and says the plots need it.

Exit status: 0 on success, 1 when the trace cannot be read, the report cannot be written or the
`cli` extra is missing (the error on stderr, no traceback), 2 on bad arguments (argparse's
convention).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from . import __version__, _cli_monitor, analysis
from ._extras import MissingExtraError, require
from .analysis._run import check_policies, check_sample_rate, check_targets
from .backup import _cli as backup_cli
from .data import SAMPLE_TRACE
from .errors import StratacacheError

_FORMATS = """\
trace formats (detected; gzip-compressed or plain):
  one integer key per line      the format of shared/traces, replayed as it is
  one key per line              any text; keys are renamed to integers, hit ratios unchanged
  CSV with a header             a `time` column (seconds, or ISO 8601) and a `key` column;
                                the times add TTL advice
"""


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command line with `argv` (default: `sys.argv[1:]`) and returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command in ("backup", "restore"):
        return backup_cli.run(args)
    if args.command == "health":
        return _cli_monitor.run_health(args)
    if args.command == "stats":
        try:
            return _cli_monitor.run_stats(args)
        except MissingExtraError as e:
            print(f"stratacache stats: error: {e}", file=sys.stderr)
            return 1
    return _analyze(parser, args)


def _analyze(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        parser.exit(2, f"stratacache analyze: error: --out {out} exists and is not a directory\n")
    try:
        require("tqdm", "cli", "stratacache analyze")
        result = analysis.analyze(
            args.trace,
            policies=args.policies,
            sample_rate=args.sample_rate,
            targets=args.target_hit_ratio or analysis.TARGETS,
            quick=args.quick,
            progress=True,
        )
        written = analysis.write_report(result, out)
        notes = []
        try:
            written += analysis.write_plots(result, out)
        except MissingExtraError as e:
            notes.append(f"no plots: {e}")
    except (StratacacheError, OSError) as e:
        print(f"stratacache analyze: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("stratacache analyze: interrupted", file=sys.stderr)
        return 130
    print(analysis.render_text(result), end="")
    print()
    for note in notes:
        print(note)
    print("wrote " + ", ".join(str(p) for p in written))
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stratacache",
        description="stratacache tools: a multi-tier cache for Python with a C++ core.",
    )
    parser.add_argument("--version", action="version", version=f"stratacache {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    analyze = commands.add_parser(
        "analyze",
        help="what a trace says about the cache it needs: skew, reuse, miss-ratio curves, TTLs",
        description=(
            "Analyses an access trace: popularity skew (Zipf fit), reuse distances, the\n"
            "miss-ratio curve of each policy against Belady's optimum, the cache size that\n"
            "reaches each target hit ratio and, for timed traces, TTL advice. Prints the\n"
            "report and writes report.txt, report.json and PNG plots into --out."
        ),
        epilog=_FORMATS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    analyze.add_argument(
        "trace",
        nargs="?",
        default=str(SAMPLE_TRACE),
        help="the trace file (default: the sample trace shipped in the package, "
        "stratacache.data.SAMPLE_TRACE)",
    )
    analyze.add_argument("--out", required=True, metavar="DIR", help="directory for the report")
    analyze.add_argument(
        "--policies",
        type=_policies,
        default=None,
        metavar="P,P,...",
        help="policies to compare, comma-separated (default: all of "
        f"{','.join(check_policies(None))}); Belady's optimum is always drawn",
    )
    analyze.add_argument(
        "--sample-rate",
        type=_sample_rate,
        default=None,
        metavar="R",
        help="share of the keys, in (0, 1], the policies' curves and the reuse distances rest "
        "on (default: 1, exact; with --quick, enough for about 250,000 requests)",
    )
    analyze.add_argument(
        "--target-hit-ratio",
        type=_hit_ratio,
        nargs="+",
        action="extend",
        metavar="H",
        help="hit ratios in (0, 1) to find the cache size of (default: "
        f"{' '.join(f'{t:g}' for t in analysis.TARGETS)})",
    )
    analyze.add_argument(
        "--quick", action="store_true", help="fewer sizes and TTLs; sample large traces"
    )
    backup_cli.add_commands(commands)
    _cli_monitor.add_commands(commands)
    return parser


def _policies(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    try:
        return check_policies(names)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _sample_rate(text: str) -> float:
    try:
        return check_sample_rate(float(text))
    except ValueError as e:
        raise argparse.ArgumentTypeError(_reason(e, text)) from None


def _hit_ratio(text: str) -> float:
    try:
        return check_targets([float(text)])[0]
    except ValueError as e:
        raise argparse.ArgumentTypeError(_reason(e, text)) from None


def _reason(e: ValueError, text: str) -> str:
    return str(e) if isinstance(e, StratacacheError) else f"not a number: {text!r}"
