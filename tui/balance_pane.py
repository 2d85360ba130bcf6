"""The balance pane (to come): Class counts of the split as a bar chart, train and test side by side, with a table of counts and percentages, the majority-class accuracy, normalized entropy, and a warning when one class dominates."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Static

from tui.pane import Pane


class BalancePane(Pane):
    """Placeholder until this pane is built: says what it will show."""

    def compose(self) -> ComposeResult:
        yield Static(
            "Balance, to come.\n\nClass counts of the split as a bar chart, train and test side by side, with a table of counts and percentages, the majority-class accuracy, normalized entropy, and a warning when one class dominates.",
            classes="pane-placeholder",
        )
