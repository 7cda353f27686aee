"""Module attributes imported on first use (PEP 562), so a package's import stays cheap.

This module imports nothing at load time (not even typing or __future__: its annotations
are strings): `stratacache/__init__.py` loads it
first, and `import stratacache` is meant to cost about what this file does (issue 17).
"""

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any

__all__ = ["lazy_dir", "lazy_getattr"]


def lazy_getattr(
    package: str, homes: "Mapping[str, str]", namespace: "dict[str, Any]"
) -> "Callable[[str], Any]":
    """A module ``__getattr__`` for `package`: ``homes`` maps each lazily exported name to the
    submodule (relative, without the dot) that defines it, or to itself for a submodule
    exported as such (``"predict": "predict"``). The first access imports that submodule and
    caches the value in the package's `namespace` (its ``globals()``)."""

    def __getattr__(name: str) -> "Any":
        from importlib import import_module  # noqa: PLC0415 - see the module docstring

        home = homes.get(name)
        if home is None:
            # A submodule not imported yet (`stratacache.errors.ConfigError` after a bare
            # `import stratacache`), as when the package imported its submodules eagerly.
            if not name.startswith("__"):
                try:
                    return import_module(f".{name}", package)
                except ModuleNotFoundError as e:
                    if e.name != f"{package}.{name}":
                        raise  # the submodule exists and needs something missing
            msg = f"module {package!r} has no attribute {name!r}"
            raise AttributeError(msg)
        module = import_module(f".{home}", package)
        value = module if home == name else getattr(module, name)
        namespace[name] = value
        return value

    return __getattr__


def lazy_dir(homes: "Mapping[str, str]", namespace: "dict[str, Any]") -> "Callable[[], list[str]]":
    """A module ``__dir__`` listing the lazily exported names beside the loaded ones, so
    ``dir(package)`` and completion show every public name before its first use."""

    def __dir__() -> list[str]:
        return sorted({*namespace, *homes})

    return __dir__
