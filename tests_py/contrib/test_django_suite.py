"""Django's own cache tests (vendored in django_suite/cache) on StrataCache: `BaseCacheTests`,
and the cache middleware and utility tests with our backend in LocMemCache's place.

Each Django test is one pytest test per mode, L1 alone and L1 + a real redis-server: the
suite runs once per mode in a subprocess (django_suite/run_suite.py, which configures Django's
settings as Django's runtests.py does), and each test reports its own outcome: a failure
fails, a skip is skipped with its reason (the list and the reasons live in run_suite.py).
"""

from __future__ import annotations

import ast
import importlib.util
import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from stratacache.testing import redis_servers

pytest.importorskip("django")

SUITE = Path(__file__).resolve().parent / "django_suite"
TIMEOUT = 600  # seconds for one whole run (Django's expiry tests sleep about 15 s in all)


def _load_runner() -> Any:
    spec = importlib.util.spec_from_file_location("run_suite", SUITE / "run_suite.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _test_names(classes: Sequence[str]) -> list[str]:
    """ "Class.test_name" of every test the runner runs, read from the vendored source (its
    classes' own tests and those they inherit from classes of the same file)."""
    tree = ast.parse((SUITE / "cache" / "tests.py").read_text(encoding="utf-8"))
    defs = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}

    def tests_of(name: str) -> list[str]:
        node = defs[name]
        own = [f.name for f in node.body if isinstance(f, ast.FunctionDef)]
        inherited = [
            t
            for b in node.bases
            if isinstance(b, ast.Name) and b.id in defs
            for t in tests_of(b.id)
        ]
        return sorted({t for t in own + inherited if t.startswith("test_")})

    return [f"{c}.{t}" for c in classes for t in tests_of(c)]


RUNNER = _load_runner()
NAMES = _test_names(["BaseCacheTests", *RUNNER.MIDDLEWARE_TESTS])
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
