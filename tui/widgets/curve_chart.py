"""Test accuracy against training size, one line per network: the learning curve's :class:`LineChart`.

The sizes grow geometrically (5%, 11%, 22%, 47%, 100%), so the x axis is logarithmic: the points
sit evenly across the chart and are labelled with their sample counts, instead of four of five
crowding its left edge.

    python -c "from dataloupe.tui.widgets.curve_chart import size_label; print(size_label(1437), size_label(60_000))"
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from dataloupe.core.training.curve.points import CurveResult
from dataloupe.tui.widgets.line_chart import LineChart

CURVE_COLOURS = ("cyan", "orange", "magenta", "green", "red", "blue", "yellow", "white")
"""plotext colours of the networks' lines, in the plan's order."""


def size_label(samples: float) -> str:
    """A sample count for a tick: "70", "1.4k", "60k"."""
    if samples < 1000:
        return f"{samples:.0f}"
    k = samples / 1000
    return f"{k:.1f}k".replace(".0k", "k") if k < 10 else f"{k:.0f}k"


class CurveChart(LineChart):
    """Mean test accuracy (percent) against training samples (log scale), one line per network."""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__("test accuracy % by training samples", percent=True, colours=CURVE_COLOURS, id=id)
        self.sizes: tuple[int, ...] = ()
        """Sample counts of the sweep's sizes: the x ticks."""

    def show_curves(self, result: CurveResult | None) -> None:
        """Draw every network's curve so far (None: clear the chart)."""
        if result is None:
            self.sizes, self.key = (), ()
            self.show([])
            return
        self.sizes = tuple(s.samples for s in result.sizes)
        self.key = tuple(n.name for n in result.networks)
        lines = []
        for network in result.networks:
            xs, ys = result.series(network.name)
            lines.append((network.name, [math.log10(x) for x in xs], ys))
        self.show(lines)

    def _x_axis(self, xs: Sequence[float]) -> None:
        """Ticks at the sweep's sizes (drawn at their logarithm), labelled with their sample counts."""
        if not xs or not self.sizes:
            return
        self.plt.xticks([math.log10(s) for s in self.sizes], [size_label(s) for s in self.sizes])
        self.plt.xlim(math.log10(self.sizes[0]), math.log10(self.sizes[-1]))
