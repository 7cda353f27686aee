"""Shared plotting plumbing: matplotlib is optional and imported only when a plot is drawn."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.axes import Axes


def axes(ax: Axes | None) -> Axes:
    """`ax`, or the Axes of a new pyplot figure when it is None."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt  # noqa: PLC0415 - optional dependency, lazily

    _, new = plt.subplots()
    return new
