"""The training loss per step, smoothed, as a plotext line chart."""

from __future__ import annotations

from collections.abc import Sequence

from textual_plotext import PlotextPlot

from tui.terminal import app_glyphs

LINE_COLOUR = "cyan"
"""plotext colour of the loss line."""


class LossChart(PlotextPlot):
    """Smoothed training loss against the step; fed a bounded, decimated history."""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.points = 0
        """Points in the last plotted series."""
        self.updates = 0
        """Times new data was plotted (tests watch it grow during a run)."""

    def on_mount(self) -> None:
        super().on_mount()
        # the unit is in the title: an x label would take a row from the line
        self.plt.title("training loss (smoothed) by step")

    def show(self, steps: Sequence[float], losses: Sequence[float]) -> None:
        """Plot ``losses`` against ``steps`` (a few hundred points at most)."""
        self.plt.clear_data()
        if steps:
            marker = app_glyphs(self.app).lines[0]
            self.plt.plot(list(steps), list(losses), marker=marker, color=LINE_COLOUR)
        self.points = len(steps)
        self.updates += 1
        self.refresh()
