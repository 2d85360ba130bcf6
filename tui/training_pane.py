"""The training pane (to come): Train a small model (MLP or CNN) in the background and watch loss, train and test accuracy, and per-class accuracy stream in; save and load what it learned."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Static

from tui.pane import Pane


class TrainingPane(Pane):
    """Placeholder until this pane is built: says what it will show."""

    def compose(self) -> ComposeResult:
        yield Static(
            "Training, to come.\n\nTrain a small model (MLP or CNN) in the background and watch loss, train and test accuracy, and per-class accuracy stream in; save and load what it learned.",
            classes="pane-placeholder",
        )
