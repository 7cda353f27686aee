"""Optional dependencies: importing one that an extra provides, or saying which pip line adds it.

The core (`Cache`, `Codec`, `simulate`, `miss_ratio_curve`) needs nothing beyond the wheel.
Each optional module belongs to one extra of `pyproject.toml`: redis-py to `redis`, tqdm and
matplotlib to `cli`. A feature that needs one calls `require`, which raises `MissingExtraError`
naming the extra's `pip install` line instead of a bare `ModuleNotFoundError`.
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType, TracebackType
from typing import TYPE_CHECKING, Any, Protocol

from .errors import MissingExtraError

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = [
    "MissingExtraError",
    "NullProgressBar",
    "ProgressBar",
    "available",
    "progress_bar",
    "require",
]


def require(module: str, extra: str, feature: str | None = None) -> ModuleType:
    """Imports `module`, which the extra `extra` provides.

    Args:
        module: a module name, dotted or not (`"redis"`, `"matplotlib.pyplot"`).
        extra: the extra of `pyproject.toml` that installs it.
        feature: what needs it, for the message (`"stratacache analyze"`).

    Returns:
        The module.

    Raises:
        MissingExtraError: the module (or its top-level package) is not installed. An
            ImportError from inside an installed package (a broken install) passes unchanged.
    """
    try:
        return importlib.import_module(module)
    except ImportError as e:
        missing = e.name
        if missing is None or not (module == missing or module.startswith(missing + ".")):
            raise
        raise MissingExtraError(missing.partition(".")[0], extra, feature) from e


def available(module: str) -> bool:
    """Whether `module` can be imported, without importing it."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a None in sys.modules, or a missing parent package
        return False


class ProgressBar(Protocol):
    """The part of tqdm's interface stratacache uses."""

    n: float

    def update(self, n: float = 1) -> object: ...
    def set_postfix_str(self, s: str = "", refresh: bool = True) -> None: ...
    def close(self) -> None: ...
    def __enter__(self) -> Self: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> object: ...


class NullProgressBar:
    """A progress bar that shows nothing, for when progress is off (tqdm not needed)."""

    def __init__(self) -> None:
        self.n: float = 0

    def update(self, n: float = 1) -> object:
        self.n += n
        return None

    def set_postfix_str(self, s: str = "", refresh: bool = True) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        pass


def progress_bar(enabled: bool, feature: str, **options: Any) -> ProgressBar:
    """A tqdm bar built with `options` when `enabled`, else a `NullProgressBar`.

    Raises:
        MissingExtraError: `enabled` and tqdm (the `cli` extra) is not installed.
    """
    if not enabled:
        return NullProgressBar()
    tqdm = require("tqdm", "cli", feature).tqdm
    bar: ProgressBar = tqdm(**options)
    return bar
