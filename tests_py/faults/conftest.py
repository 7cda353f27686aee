"""Fixtures of the fault suite: the plan (short by default, long with --faults-long), the
database the app reads from, and the report: one summary table per run, and the figures in
bench/results/faults.json (long form) or faults_quick.json (short form, not committed)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from stratacache.testing.redis_servers import RedisServer

from .runner import LONG, SHORT, Plan
from .verdict import WINDOW_S, Verdict

RESULTS = Path(__file__).resolve().parents[2] / "bench" / "results"
_VERDICTS: list[Verdict] = []


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--faults-long",
        action="store_true",
        default=False,
        help="fault suite: longer phases and more trials (make faults)",
    )


@pytest.fixture(scope="session")
def plan(pytestconfig: pytest.Config) -> Plan:
    """SHORT in `make test`; LONG with --faults-long (only known when tests_py/faults is
    named on the command line, as `make faults` does)."""
    return LONG if pytestconfig.getoption("--faults-long", default=False) else SHORT


@pytest.fixture(scope="session")
def _database_server() -> Iterator[RedisServer]:
    with RedisServer() as server:
        yield server


@pytest.fixture
def database(_database_server: RedisServer) -> RedisServer:
    """The app's source of truth: a server of its own, never faulted, emptied per test."""
    _database_server.flushall()
    return _database_server


@pytest.fixture
def fault_report() -> Callable[[Verdict], None]:
    """Records a test's verdict for the summary table and the results file."""
    return _VERDICTS.append


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def _table(verdicts: list[Verdict]) -> list[str]:
    head = (
        "case",
        "reads",
        "acks",
        "exc",
        "wrong",
        "stale",
        "stale by method",
        "max lag s",
        "in-window",
        "read p50/p99/max ms (fault)",
        "inval p99/max ms (fault)",
        "deadline ms",
        "redis back s",
        "coherent s",
        "last stale s",
        "replayed",
        "corrupt",
    )
    rows = [head]
    for v in verdicts:
        during = "_during_fault" if v.trials else ""  # the baseline: every call
        read = v.latency.get("read" + during, {})
        inval = v.latency.get("invalidate" + during, {})
        rec = v.recovery
        rows.append(
            (
                f"{v.case} ({v.form}, {f'x{v.trials}' if v.trials else 'no fault'})",
                str(v.reads),
                str(v.acks),
                str(v.exceptions),
                str(v.wrong),
                str(v.stale),
                ",".join(f"{k}={n}" for k, n in sorted(v.stale_by_method.items())) or "-",
                _cell(v.max_stale_lag_s),
                str(v.stale_in_window),
                "/".join(_cell(read.get(k)) for k in ("p50_ms", "p99_ms", "max_ms")),
                "/".join(_cell(inval.get(k)) for k in ("p99_ms", "max_ms")),
                _cell(v.deadline_ms),
                " ".join(_cell(r["redis_back_s"]) for r in rec) or "-",
                " ".join(_cell(r["coherent_back_s"]) for r in rec) or "-",
                " ".join(_cell(r["last_stale_after_end_s"]) for r in rec) or "-",
                _cell(v.counters.get("invalidations_replayed")),
                _cell(v.counters.get("corrupt")),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]


def _write(verdicts: list[Verdict]) -> Path:
    """Merges this run's rows into the results file (rows of cases not run are kept)."""
    long = any(v.form == "long" for v in verdicts)
    path = RESULTS / ("faults.json" if long else "faults_quick.json")
    rows: list[dict[str, Any]] = []
    if path.exists():
        try:
            rows = json.loads(path.read_text())
        except ValueError:
            rows = []
    ran = {v.case for v in verdicts}
    rows = [r for r in rows if r.get("case") not in ran] + [v.row() for v in verdicts]
    RESULTS.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(rows, indent=1) + "\n")
    return path


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _VERDICTS:
        return
    terminalreporter.section("stratacache fault suite")
    terminalreporter.write_line(
        f"stale = reads starting > {WINDOW_S:.1f} s after an acknowledged invalidation (0 s for "
        "the writer's own read-back) that returned an older version; times after each "
        "fault's end, one figure per trial"
    )
    for line in _table(_VERDICTS):
        terminalreporter.write_line(line)
    terminalreporter.write_line(f"figures: {_write(_VERDICTS)}")
