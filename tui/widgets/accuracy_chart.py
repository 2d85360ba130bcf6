"""In-sample (train) and out-of-sample (test) accuracy on one chart: overfitting shows as the lines parting."""

from __future__ import annotations

from collections.abc import Sequence

from textual_plotext import PlotextPlot


class AccuracyChart(PlotextPlot):
    """Train and test accuracy (percent) against epochs, one line each."""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.points = 0
        """Evaluations in the last plotted series."""
        self.updates = 0
        """Times new data was plotted."""

    def on_mount(self) -> None:
        super().on_mount()
        self.plt.title("accuracy %: train vs test")
        self.plt.xlabel("epoch")

    def show(self, epochs: Sequence[float], train: Sequence[float], test: Sequence[float]) -> None:
        """Plot both series (accuracies 0..1, drawn as percent)."""
        self.plt.clear_data()
        if epochs:
            xs = list(epochs)
            self.plt.plot(xs, [100 * a for a in train], label="train (in-sample)", marker="braille")
            self.plt.plot(xs, [100 * a for a in test], label="test (out-of-sample)", marker="braille")
        self.points = len(epochs)
        self.updates += 1
        self.refresh()
