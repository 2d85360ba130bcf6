"""The training loss per step, smoothed: the training pane's :class:`~dataloupe.tui.widgets.line_chart.LineChart` of one line."""

from __future__ import annotations

from collections.abc import Sequence

from dataloupe.core.settings import TrainConfig
from dataloupe.tui.widgets.line_chart import LINE_COLOURS, LineChart

TRAINING_LINE_POINTS = TrainConfig.history_points + 1
"""Points per line the training charts draw: the trainer's whole default history and its newest point."""


class LossChart(LineChart):
    """Smoothed training loss against the step; fed the trainer's bounded, decimated history."""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        # the unit is in the title: an x label would take a row from the line
        super().__init__(
            "training loss (smoothed) by step", colours=LINE_COLOURS, line_points=TRAINING_LINE_POINTS, id=id
        )

    def show_loss(self, steps: Sequence[float], losses: Sequence[float]) -> None:
        """Plot ``losses`` against ``steps``."""
        self.show([("", steps, losses)])
