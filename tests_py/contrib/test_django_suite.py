"""Django's own cache tests (`BaseCacheTests`, vendored in django_suite/cache) on StrataCache.

Each Django test is one pytest test per mode, L1 alone and L1 + a real redis-server: the
suite runs once per mode in a subprocess (django_suite/run_suite.py, which configures Django's
settings as Django's runtests.py does), and each test reports its own outcome: a failure
fails, a skip is skipped with its reason (the list and the reasons live in run_suite.py).
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from stratacache.testing import redis_servers

pytest.importorskip("django")

SUITE = Path(__file__).resolve().parent / "django_suite"
TIMEOUT = 600  # seconds for one whole run (Django's expiry tests sleep about 15 s in all)


def _base_test_names() -> list[str]:
    tree = ast.parse((SUITE / "cache" / "tests.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == "BaseCacheTests":
            return [
                n.name
                for n in node.body
                if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")
            ]
    msg = "BaseCacheTests not found in the vendored Django suite"
    raise AssertionError(msg)


NAMES = _base_test_names()
_results: dict[str, dict[str, dict[str, str]]] = {}


def _run(location: str, out: Path) -> dict[str, dict[str, str]]:
    proc = subprocess.run(
        [sys.executable, str(SUITE / "run_suite.py"), "--location", location, "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    outcomes: dict[str, dict[str, str]] = json.loads(out.read_text())
    return outcomes


@pytest.fixture(scope="module")
def redis_for_django() -> Any:
    """A redis-server of this module's own (the suite clears it between tests)."""
    with redis_servers.RedisServer() as server:
        yield server


@pytest.fixture(params=["l1", "redis"])
def outcomes(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, dict[str, str]]:
    mode = request.param
    if mode not in _results:
        location = request.getfixturevalue("redis_for_django").url if mode == "redis" else ""
        _results[mode] = _run(location, tmp_path_factory.mktemp("django") / f"{mode}.json")
    return _results[mode]


def test_every_django_test_ran(outcomes: dict[str, dict[str, str]]) -> None:
    assert sorted(outcomes) == sorted(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_django(outcomes: dict[str, dict[str, str]], name: str) -> None:
    outcome = outcomes.get(name, {"status": "failed", "detail": "did not run"})
    if outcome["status"] == "skipped":
        pytest.skip(outcome["detail"])
    if outcome["status"] != "passed":
        pytest.fail(outcome["detail"], pytrace=False)
