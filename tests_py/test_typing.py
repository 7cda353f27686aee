"""Typing contract: tests_py/typing/pass_*.py type-check clean under mypy --strict, and each
fail_*.py produces exactly the errors marked `# E: <message>` on their lines."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

mypy_api = pytest.importorskip("mypy.api")

TYPING = Path(__file__).parent / "typing"
MARK = re.compile(r"^[^\s\"'#].*\s#\s*E:\s*(.+?)\s*$")  # code, then the mark
ERROR = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): error: (?P<message>.+)$")


def run_mypy(path: Path) -> list[tuple[int, str]]:
    stdout, _, _ = mypy_api.run(
        ["--strict", "--no-incremental", "--show-error-codes", "--no-pretty", str(path)]
    )
    found = []
    for line in stdout.splitlines():
        m = ERROR.match(line)
        if m:
            found.append((int(m["line"]), m["message"].strip()))
    return found


@pytest.mark.parametrize("path", sorted(TYPING.glob("pass_*.py")), ids=lambda p: p.name)
def test_passes_type_check(path: Path) -> None:
    assert run_mypy(path) == []


@pytest.mark.parametrize("path", sorted(TYPING.glob("fail_*.py")), ids=lambda p: p.name)
def test_fails_exactly_where_marked(path: Path) -> None:
    expected = [
        (n, m.group(1))
        for n, text in enumerate(path.read_text().splitlines(), start=1)
        if (m := MARK.search(text))
    ]
    assert expected, f"{path.name} marks no expected error"
    assert sorted(run_mypy(path)) == sorted(expected)
