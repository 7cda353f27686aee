"""Importing stratacache loads neither the patterns nor the sessions (import time is a
target); their names load on first use."""

from __future__ import annotations

import subprocess
import sys

import pytest

CODE = """
import sys, stratacache
assert "stratacache.patterns" not in sys.modules
assert "stratacache.sessions" not in sys.modules
import stratacache.patterns as p, stratacache.sessions as s
assert "stratacache.patterns.write_behind" not in sys.modules
assert "stratacache.sessions.store" not in sys.modules
assert p.WriteBehind.__module__ == "stratacache.patterns.write_behind"
assert s.SessionStore.__module__ == "stratacache.sessions.store"
print("ok")
"""


def test_the_packages_load_lazily() -> None:
    out = subprocess.run(
        [sys.executable, "-c", CODE], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "ok"


def test_unknown_names_raise_attribute_error() -> None:
    import stratacache.patterns  # noqa: PLC0415
    import stratacache.sessions  # noqa: PLC0415

    with pytest.raises(AttributeError, match="Nope"):
        _ = stratacache.patterns.Nope  # type: ignore[attr-defined]
    with pytest.raises(AttributeError, match="Nope"):
        _ = stratacache.sessions.Nope  # type: ignore[attr-defined]
