"""`stratacache health URL` and `stratacache stats URL [--watch]`: a cache seen from a shell.

`health` reads an endpoint of `stratacache.contrib.health` and exits 0 when the cache is
healthy, 1 when it is not or the endpoint does not answer. `stats` reads a Prometheus endpoint
of `stratacache.contrib.prometheus` (it needs the `prometheus` extra) and prints the counters
per cache and namespace; with --watch it refreshes every --interval seconds and shows rates
(per second, over the last interval) until Ctrl-C or --count refreshes.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any, TextIO

from ._extras import require

__all__ = ["add_commands", "run_health", "run_stats"]

MIN_INTERVAL = 0.2
MAX_INTERVAL = 3600.0
Key = tuple[str, str, str]  # (cache, tier, namespace)
_COUNTED = ("hits", "misses", "sets", "evictions")


def add_commands(commands: Any) -> None:
    """Adds the `health` and `stats` subcommands to the CLI's subparsers."""
    health = commands.add_parser("health", help="exit 0 if a cache's health endpoint is healthy")
    health.add_argument("url", help="a stratacache.contrib.health endpoint")
    health.add_argument("--timeout", type=_seconds, default=5.0, metavar="S")
    stats = commands.add_parser("stats", help="counters and rates from a metrics endpoint")
    stats.add_argument("url", help="a stratacache.contrib.prometheus /metrics endpoint")
    stats.add_argument("--watch", action="store_true", help="refresh until Ctrl-C, with rates")
    stats.add_argument(
        "--interval",
        type=_interval,
        default=2.0,
        metavar="S",
        help=f"seconds between refreshes, {MIN_INTERVAL:g} to {MAX_INTERVAL:g} (default 2)",
    )
    stats.add_argument(
        "--count",
        type=_positive_int,
        default=None,
        metavar="N",
        help="stop after N refreshes (default: until Ctrl-C)",
    )
    stats.add_argument("--timeout", type=_seconds, default=5.0, metavar="S")


def _fetch(url: str, timeout: float) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return int(r.status), r.read()
    except urllib.error.HTTPError as e:  # 503 is an answer: the body says what is down
        return int(e.code), e.read()


def run_health(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    """Prints each tier's status; 0 when healthy, 1 otherwise."""
    try:
        status, body = _fetch(args.url, args.timeout)
        report = json.loads(body)
    except (OSError, ValueError) as e:
        print(f"stratacache health: {args.url} did not answer: {e}", file=sys.stderr)
        return 1
    healthy = status == 200 and isinstance(report, dict) and report.get("healthy") is True
    tiers = report.get("tiers", {}) if isinstance(report, dict) else {}
    print(f"{'healthy' if healthy else 'UNHEALTHY'} (HTTP {status})", file=out)
    for name, tier in tiers.items():
        rtt = tier.get("round_trip")
        extra = f"  {rtt * 1000:.2f} ms" if isinstance(rtt, int | float) else ""
        print(
            f"  {name:<6} {tier.get('status', '?'):<9}{extra}  {tier.get('detail', '')}", file=out
        )
    return 0 if healthy else 1


def read_counters(text: str) -> dict[Key, dict[str, float]]:
    """{(cache, tier, namespace): {metric: value}} from a Prometheus text exposition."""
    parser = require("prometheus_client.parser", "prometheus", "stratacache stats")
    out: dict[Key, dict[str, float]] = {}
    for family in parser.text_string_to_metric_families(text):
        name = family.name.removeprefix("stratacache_")
        if not family.name.startswith("stratacache_") or name not in (
            *_COUNTED,
            "entries",
            "bytes",
        ):
            continue
        for s in family.samples:
            if s.name.endswith("_created"):
                continue
            labels = s.labels
            key = (labels.get("cache", ""), labels.get("tier", ""), labels.get("namespace", ""))
            row = out.setdefault(key, {})
            row[name] = row.get(name, 0.0) + s.value
    return out


def render(
    now: Mapping[Key, Mapping[str, float]],
    before: Mapping[Key, Mapping[str, float]] | None,
    seconds: float,
) -> str:
    """A table per (cache, tier, namespace): totals, or rates per second since `before`."""
    rates = before is not None and seconds > 0
    head = "/s" if rates else ""
    lines = [
        (
            f"{'cache':<12} {'tier':<6} {'namespace':<16} {'hits' + head:>12}"
            f" {'misses' + head:>12} {'hit%':>6} {'sets' + head:>11} {'evict' + head:>11}"
            f" {'entries':>10} {'bytes':>12}"
        )
    ]
    for key in sorted(now):
        row = now[key]
        old = before.get(key, {}) if before is not None else {}

        def value(
            metric: str, row: Mapping[str, float] = row, old: Mapping[str, float] = old
        ) -> float:
            v = row.get(metric, 0.0)
            return (v - old.get(metric, 0.0)) / seconds if rates else v

        hits, misses = value("hits"), value("misses")
        ratio = f"{100 * hits / (hits + misses):5.1f}" if hits + misses > 0 else "    -"
        lines.append(
            f"{key[0]:<12} {key[1]:<6} {key[2] or '(default)':<16} {hits:>12.1f} {misses:>12.1f}"
            f" {ratio:>6} {value('sets'):>11.1f} {value('evictions'):>11.1f}"
            f" {row.get('entries', 0):>10.0f} {row.get('bytes', 0):>12.0f}"
        )
    return "\n".join(lines)


def run_stats(
    args: argparse.Namespace,
    out: TextIO = sys.stdout,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Prints the counters once, or refreshes with rates under --watch; 0 on Ctrl-C."""
    before: dict[Key, dict[str, float]] | None = None
    last = 0.0
    shown = 0
    clear = "\x1b[H\x1b[2J" if args.watch and out.isatty() else ""
    try:
        while True:
            status, body = _fetch(args.url, args.timeout)
            if status != 200:
                print(f"stratacache stats: {args.url} answered HTTP {status}", file=sys.stderr)
                return 1
            now, at = read_counters(body.decode()), time.monotonic()
            title = f"stratacache stats {args.url}  {time.strftime('%H:%M:%S')}"
            print(f"{clear}{title}\n{render(now, before, at - last)}\n", file=out, flush=True)
            shown += 1
            if not args.watch or (args.count is not None and shown >= args.count):
                return 0
            before, last = now, at
            sleep(args.interval)
    except KeyboardInterrupt:
        return 0
    except (OSError, ValueError) as e:
        print(f"stratacache stats: {args.url}: {e}", file=sys.stderr)
        return 1


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        msg = f"not a number: {text!r}"
        raise argparse.ArgumentTypeError(msg) from None
    if not 0 < value <= MAX_INTERVAL:
        msg = f"must be > 0 and <= {MAX_INTERVAL:g} seconds, got {text}"
        raise argparse.ArgumentTypeError(msg)
    return value


def _interval(text: str) -> float:
    value = _seconds(text)
    if value < MIN_INTERVAL:
        msg = f"must be at least {MIN_INTERVAL:g} seconds, got {text}"
        raise argparse.ArgumentTypeError(msg)
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        msg = f"not an integer: {text!r}"
        raise argparse.ArgumentTypeError(msg) from None
    if value < 1:
        msg = f"must be >= 1, got {text}"
        raise argparse.ArgumentTypeError(msg)
    return value
