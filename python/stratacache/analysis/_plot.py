"""Shared plotting plumbing: matplotlib is optional and imported only when a plot is drawn."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from .._extras import require

if TYPE_CHECKING:
    from matplotlib.axes import Axes


def axes(ax: Axes | None) -> Axes:
    """`ax`, or the Axes of a new pyplot figure when it is None."""
    if ax is not None:
        return ax
    plt = require("matplotlib.pyplot", "cli", "plotting")
    _, new = plt.subplots()
    return cast("Axes", new)
