"""The marker syntax of scripts/unasync.py, which generates the sync Redis driver and executor."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def unasync() -> ModuleType:
    spec = importlib.util.spec_from_file_location("unasync", ROOT / "scripts" / "unasync.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SOURCE = """\
import asyncio
import time


class AsyncThing:
    # unasync: async-only begin
    async def get(self) -> int:
        return await asyncio.sleep(0, 1)

    # unasync: async-only end
    # unasync: sync-only begin
    # def get(self) -> int:
    #     # a comment that stays one
    #     return 1
    #
    # unasync: sync-only end
    async def nap(self) -> None:
        self.warm()  # unasync: async-only
        await asyncio.sleep(0.001)

    def __init__(
        self,
        first: int,
        loop: asyncio.AbstractEventLoop | None = None,  # unasync: async-only
    ) -> None:
        self.first = first
"""


def test_markers_drop_async_parts_and_uncomment_sync_ones(unasync: ModuleType) -> None:
    out = unasync.generate(SOURCE, "thing_sync.py")
    assert "unasync:" not in out
    assert "import asyncio" not in out  # only the async side used it
    assert (
        "    def get(self) -> int:\n        # a comment that stays one\n        return 1\n" in out
    )
    assert "self.warm()" not in out
    assert "time.sleep(0.001)" in out
    # The argument before a dropped last one loses its comma, so ruff joins the line again.
    assert "    def __init__(self, first: int) -> None:\n" in out
    compile(out, "thing_sync.py", "exec")  # the generated file is valid Python


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("# unasync: async-only begin\nx = 1\n", "never closed"),
        ("# unasync: async-only end\n", "unexpected"),
        ("# unasync: sync-only begin\n# unasync: async-only begin\n", "unexpected"),
        ("# unasync: sync-only begin\n# unasync: async-only end\n", "unexpected"),
        ("# unasync: sync-only begin\nx = 1\n# unasync: sync-only end\n", "must be a comment"),
    ],
)
def test_misplaced_markers_are_errors(unasync: ModuleType, text: str, problem: str) -> None:
    with pytest.raises(unasync.MarkerError, match=problem):
        unasync.strip_markers(text, "bad.py")


def test_committed_sync_files_are_current() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "unasync.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
