"""In-sample (train) and out-of-sample (test) accuracy on one chart: overfitting shows as the lines parting.

A percent :class:`~dataloupe.tui.widgets.line_chart.LineChart` with its key in the title, never over the
lines; its y axis spans the lines with whole-number ticks instead of 0 to 100.
"""

from __future__ import annotations

from collections.abc import Sequence

from dataloupe.tui.widgets.line_chart import LINE_COLOURS, LineChart
from dataloupe.tui.widgets.loss_chart import TRAINING_LINE_POINTS


class AccuracyChart(LineChart):
    """Train and test accuracy (percent) against epochs, one line each."""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(
            "accuracy % by epoch",
            key=("train", "test"),
            percent=True,
            colours=LINE_COLOURS,
            line_points=TRAINING_LINE_POINTS,
            id=id,
        )

    def show_accuracy(self, epochs: Sequence[float], train: Sequence[float], test: Sequence[float]) -> None:
        """Plot both series (accuracies 0..1, drawn as percent)."""
        self.show([("train", epochs, train), ("test", epochs, test)])
