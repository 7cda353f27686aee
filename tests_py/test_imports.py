"""The package's own imports run one way: _default -> caches -> _base -> decorators."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import stratacache

PACKAGE = Path(stratacache.__file__).parent
# Each module, and the package modules it must never import (at module level or in a function).
LAYERS = {
    "decorators": {"_default", "caches", "_base"},
    "_call_site": {"_default", "caches", "_base", "decorators"},
    "_decorated": {"_default", "caches", "_base", "decorators", "_call_site"},
    "_base": {"_default", "caches"},
    "caches": {"_default"},
}


def _imported(module: str) -> set[str]:
    """The package modules `module` imports anywhere in its body (type-only imports aside)."""
    tree = ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))
    type_only = {
        id(node)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and ast.unparse(block.test) == "TYPE_CHECKING"
        for stmt in block.body
        for node in ast.walk(stmt)
    }
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1 and id(node) not in type_only:
            if node.module is None:
                out.update(alias.name for alias in node.names)
            else:
                out.add(node.module.split(".")[0])
    return out


@pytest.mark.parametrize("module", sorted(LAYERS))
def test_imports_point_one_way(module: str) -> None:
    assert not _imported(module) & LAYERS[module]


def test_the_package_imports_in_a_fresh_interpreter() -> None:
    code = "import stratacache.decorators, stratacache; print(stratacache.cache.__module__)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "stratacache._default"


def test_import_loads_only_what_a_cache_needs() -> None:
    # issue 17: the codec, the predictor, the simulator and asyncio load on first use.
    code = (
        "import sys, stratacache\n"
        "c = stratacache.Cache(max_entries=10); c.set('k', 1); assert c.get('k') == 1\n"
        "lazy = ('asyncio', 'pickle', 'stratacache.codec', 'stratacache.predict',"
        " 'stratacache.simulation')\n"
        "print(sorted(m for m in lazy if m in sys.modules))\n"
        "assert stratacache.Codec.__module__ == 'stratacache.codec'\n"
        "assert stratacache.predict.Predictor and stratacache.simulate\n"
        "print(sorted(m for m in lazy if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    before, after = out.stdout.splitlines()
    assert before == "[]"
    assert "'stratacache.codec'" in after
    assert "'stratacache.predict'" in after


def test_an_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        stratacache.nope  # noqa: B018
