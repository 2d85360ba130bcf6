"""In-sample (train) and out-of-sample (test) accuracy on one chart: overfitting shows as the lines parting.

The key is in the title, never over the lines; the two series differ by marker as well as by
colour (so they stay apart under ``NO_COLOR`` and in ASCII); the y axis spans the lines with
whole-number ticks instead of 0 to 100.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual_plotext import PlotextPlot

from tui.terminal import app_glyphs
from tui.widgets.axes import whole_ticks

LINE_COLOURS = ("cyan", "orange")
"""plotext colours of the train and test lines (the bar chart's colours)."""


class AccuracyChart(PlotextPlot):
    """Train and test accuracy (percent) against epochs, one line each."""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.points = 0
        """Evaluations in the last plotted series."""
        self.updates = 0
        """Times new data was plotted."""
        self.y_range: tuple[float, float] | None = None
        """The y axis last drawn (percent), None before the first points."""

    def on_mount(self) -> None:
        super().on_mount()
        self.plt.title(self.title_text())

    def title_text(self) -> str:
        """The title with the key: which marker is train and which is test."""
        keys = app_glyphs(self.app).line_keys
        return f"accuracy % by epoch: {keys[0]} train, {keys[1]} test"

    def show(self, epochs: Sequence[float], train: Sequence[float], test: Sequence[float]) -> None:
        """Plot both series (accuracies 0..1, drawn as percent)."""
        plt = self.plt
        plt.clear_data()
        plt.title(self.title_text())
        self.y_range = None
        if epochs:
            markers = app_glyphs(self.app).lines
            xs = list(epochs)
            ys = [[100 * a for a in train], [100 * a for a in test]]
            for series, marker, colour in zip(ys, markers, LINE_COLOURS, strict=True):
                plt.plot(xs, series, marker=marker, color=colour)
            values = ys[0] + ys[1]
            rows = max(2, (self.size.height or 12) - 4)  # title, frame and tick labels take four rows
            ticks = whole_ticks(max(0.0, min(values) - 1), min(100.0, max(values) + 1), max(1, rows // 2))
            low, high = max(0, ticks[0]), min(100, ticks[-1])
            plt.ylim(low, high)
            plt.yticks([t for t in ticks if low <= t <= high])
            self.y_range = (float(low), float(high))
        self.points = len(epochs)
        self.updates += 1
        self.refresh()
