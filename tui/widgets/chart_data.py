"""What a watch chart plots, as plain values: built off the widget (by
:func:`dataloupe.tui.panes.watch_view.chart_data`), drawn by
:meth:`dataloupe.tui.widgets.line_chart.LineChart.draw`. No Textual or plotext here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

XAxis = Literal["step", "relative", "wall"]
"""The x axis: steps, seconds since the run's first point, or Unix times (the wall clock)."""
TraceKind = Literal["line", "points", "faint"]
"""How a series is drawn."""


@dataclass(frozen=True)
class Trace:
    """One series on a chart, ready to plot."""

    label: str
    """Run and tag, for tests and the key ("" for a faint raw series)."""
    run: str
    """The run it belongs to."""
    xs: list[float]
    """x values in the chosen axis (steps, seconds since the start, or Unix times)."""
    ys: list[float]
    """y values (log10 of them on a log chart)."""
    colour: str | int
    """plotext colour."""
    marker: str
    """The run's marker."""
    kind: TraceKind
    """ "line" (with sparse markers), "points" (markers alone) or "faint" (raw values behind a smoothed line)."""


@dataclass(frozen=True)
class ChartData:
    """A chart's traces, title and note, as :class:`~dataloupe.tui.widgets.line_chart.LineChart` plots them."""

    title: str
    """The chart's name, the log marker, and the key of its lines."""
    traces: tuple[Trace, ...]
    """What to draw, faint ones first."""
    log_y: bool
    """The ys are log10 of the values."""
    x_axis: XAxis
    """How to label the x ticks."""
    x_range: tuple[float, float] | None
    """The zoom window, None for everything."""
    dropped: int = 0
    """Values ≤ 0 left out of a log chart."""
