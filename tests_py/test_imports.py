"""The package's own imports run one way: _default -> caches -> _base -> decorators."""

from __future__ import annotations

import ast
import subprocess
import sys
import time
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


def _fresh(code: str) -> list[str]:
    """Runs `code` in a fresh interpreter; its printed lines. `_BEFORE` there holds the modules
    the interpreter had loaded before `code` ran (a site hook may load pathlib, say)."""
    out = subprocess.run(
        [sys.executable, "-c", "import sys\n_BEFORE = set(sys.modules)\n" + code],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return out.stdout.splitlines()


# Modules an L1-only program must not load (issue 17): the Redis and disk tiers, the
# predictor, the analyses, backups, the codec, the events, stats and health machinery, and the
# heavy stdlib modules they bring (issue 17's measured list).
NOT_ON_THE_L1_PATH = (
    "stratacache.tiers.redis.config",
    "stratacache.tiers.redis.common",
    "stratacache.tiers.redis.state",
    "stratacache.tiers.redis.plan",
    "stratacache.tiers.redis.build",
    "stratacache.tiers.disk.options",
    "stratacache.tiers.disk.tier",
    "stratacache._predictor_live",
    "stratacache.predict",
    "stratacache.analysis",
    "stratacache.backup",
    "stratacache.codec",
    "stratacache.events",
    "stratacache.stats",
    "stratacache.health",
    "stratacache.mrc",
    "stratacache._autottl",
    "stratacache._warm",
    "redis",
    "asyncio",
    "pathlib",
    "uuid",
    "hashlib",
    "json",
    "urllib.parse",
)
# The listed modules that `code` loaded (not those the interpreter started with).
_LOADED = "print(sorted(m for m in {mods!r} if m in sys.modules and m not in _BEFORE))\n"


def test_import_loads_no_module_but_the_package() -> None:
    code = "import sys, stratacache\nprint(sorted(m for m in sys.modules if m.startswith('stratacache')))"
    assert _fresh(code) == ["['stratacache', 'stratacache._lazy']"]


def test_submodules_load_on_attribute_access_as_when_imported_eagerly() -> None:
    code = (
        "import stratacache\n"
        "assert stratacache.errors.ConfigError is stratacache.ConfigError\n"
        "assert stratacache.stats.CacheStats.__name__ == 'CacheStats'\n"
        "assert stratacache.tiers.RedisOptions is stratacache.RedisOptions\n"
        "print(hasattr(stratacache, 'no_such_module'))\n"
    )
    assert _fresh(code) == ["False"]


def test_a_cache_and_a_cached_function_load_no_tier_module() -> None:
    code = (
        "import stratacache\n"
        "c = stratacache.Cache()\n"
        "c.set('k', 1)\n"
        "assert c.get('k') == 1 and 'k' in c\n"
        "@stratacache.cache\n"
        "def f(a, b):\n"
        "    return a + b\n"
        "assert f(1, 2) == 3 and f(1, 2) == 3 and f.cache_info().hits == 1\n"
        "@c.cache(ttl=5)\n"
        "def g(a):\n"
        "    return a\n"
        "assert g('x') == 'x' and g('x') == 'x'\n"
        + _LOADED.format(mods=NOT_ON_THE_L1_PATH)
        + "c.stats()\n"
        + _LOADED.format(mods=("stratacache.stats",))
    )
    assert _fresh(code) == ["[]", "['stratacache.stats']"]


def test_a_cache_without_decorators_loads_no_inspect() -> None:
    code = (
        "import stratacache\n"
        "c = stratacache.Cache(max_entries=10, default_ttl=60)\n"
        "c.set('k', 1)\n"
        "assert c.get('k') == 1\n"
        + _LOADED.format(mods=("inspect", "dataclasses", "logging", "stratacache.decorators"))
    )
    assert _fresh(code) == ["[]"]


def test_every_public_name_imports_on_its_own() -> None:
    # Each name in a fresh interpreter's first statement, in both orders, so no name works
    # only because another one loaded its module first.
    names = sorted(stratacache.__all__)
    for order in (names, names[::-1]):
        code = (
            f"for name in {order!r}:\n    exec(f'from stratacache import {{name}}')\nprint('ok')\n"
        )
        assert _fresh(code) == ["ok"]
    for name in names:
        assert getattr(stratacache, name) is not None
        assert name in dir(stratacache)


def test_the_lazy_names_are_the_ones_type_checkers_see() -> None:
    # Every name of __all__ is imported in __init__'s TYPE_CHECKING block (mypy and IDEs see
    # it there, not through __getattr__), and loads lazily from the module it names there.
    tree = ast.parse((PACKAGE / "__init__.py").read_text(encoding="utf-8"))
    typed: dict[str, str] = {}
    for block in ast.walk(tree):
        if isinstance(block, ast.If) and ast.unparse(block.test) == "TYPE_CHECKING":
            for node in ast.walk(block):
                if isinstance(node, ast.ImportFrom):
                    for alias in node.names:
                        typed[alias.name] = node.module or alias.name
    assert set(typed) | {"__version__"} == set(stratacache.__all__)
    for name, home in typed.items():
        assert stratacache._HOMES[name] == home, name


def test_an_l1_cache_builds_its_event_broker_on_first_use() -> None:
    cache = stratacache.Cache(max_entries=10)
    assert "events" not in vars(cache)
    seen: list[str] = []
    with cache.events.subscribe(lambda e: seen.append(e.kind), kinds=["set"]):
        cache.set("k", 1)
        for _ in range(500):  # the handler runs on the subscription's thread: up to 5 s
            if seen:
                break
            time.sleep(0.01)
    assert seen == ["set"]
    assert cache.stats().events.subscribers == 0
    cache.close()
    with pytest.raises(stratacache.ConfigError, match="closed"):
        cache.events.subscribe(print)


def test_an_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        stratacache.nope  # noqa: B018
