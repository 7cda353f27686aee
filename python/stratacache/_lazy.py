"""Module attributes imported on first use (PEP 562), so a package's import stays cheap."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_getattr"]


def lazy_getattr(
    package: str, homes: Mapping[str, str], namespace: dict[str, Any]
) -> Callable[[str], Any]:
    """A module ``__getattr__`` for `package`: ``homes`` maps each lazily exported name to the
    submodule (relative, without the dot) that defines it. The first access imports that
    submodule and caches the value in the package's `namespace` (its ``globals()``)."""

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            msg = f"module {package!r} has no attribute {name!r}"
            raise AttributeError(msg)
        value = getattr(importlib.import_module(f".{home}", package), name)
        namespace[name] = value
        return value

    return __getattr__
