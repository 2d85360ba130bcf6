"""One metric chart of the watch pane: any number of labelled lines against the step.

The training pane's :class:`~tui.widgets.loss_chart.LossChart` and
:class:`~tui.widgets.accuracy_chart.AccuracyChart` draw one run of dataloupe's own with
fixed titles and units; a watched run has tags of any name, several runs and a raw line
beside the smoothed one, so this chart takes its title and its lines from the caller.
Like them it is fed a bounded, decimated history and redrawn a few times a second at most.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual_plotext import PlotextPlot

from tui.terminal import app_glyphs

Line = tuple[str, Sequence[float], Sequence[float]]
"""(label, steps, values) of one line; an empty label leaves the line out of the key."""
MAX_POINTS_PER_LINE = 200
"""Points drawn per line: plotext redraws every one of them on the UI thread."""
MAX_POINTS_PER_CHART = 1200
"""Points drawn per chart however many runs and lines it compares (about 0.1 s to build on these machines)."""


def thin(xs: Sequence[float], ys: Sequence[float], limit: int = MAX_POINTS_PER_LINE) -> tuple[list, list]:
    """At most ``limit`` evenly spaced points of a line, the last one always kept."""
    n = len(xs)
    if n <= limit:
        return list(xs), list(ys)
    idx = [round(i * (n - 1) / (limit - 1)) for i in range(limit)]
    return [xs[i] for i in idx], [ys[i] for i in idx]


class MetricChart(PlotextPlot):
    """A titled line chart against the step; :meth:`show` replaces every line at once."""

    def __init__(self, title: str, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.title = title
        """What the chart shows (the tag, or the pair's shared name)."""
        self.points = 0
        """Points drawn in the last update."""
        self.updates = 0
        """Times new data was plotted (tests watch it grow)."""
        self.labels: tuple[str, ...] = ()
        """Labels of the lines drawn (those in the key)."""
        self.lines = 0
        """Lines drawn."""

    def on_mount(self) -> None:
        super().on_mount()
        self.plt.title(self.title)
        self.plt.xlabel("step")

    def show(self, lines: Sequence[Line]) -> None:
        """Plot ``lines``, each thinned so that the chart draws :data:`MAX_POINTS_PER_CHART` points at most."""
        self.plt.clear_data()
        self.plt.title(self.title)
        drawn = 0
        limit = max(20, min(MAX_POINTS_PER_LINE, MAX_POINTS_PER_CHART // max(1, len(lines))))
        # markers alternate as in the training pane's charts, so lines stay apart without colour or Unicode
        markers = app_glyphs(self.app).lines
        for i, (label, xs, ys) in enumerate(lines):
            if not xs:
                continue
            tx, ty = thin(xs, ys, limit)
            self.plt.plot(tx, ty, label=label or None, marker=markers[i % len(markers)])
            drawn += len(tx)
        self.points = drawn
        self.lines = sum(1 for _, xs, _ in lines if xs)
        self.labels = tuple(label for label, xs, _ in lines if xs and label)
        self.updates += 1
        self.refresh()
